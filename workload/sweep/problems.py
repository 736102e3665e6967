"""What a sweep refuses, and why: its problems as :class:`workload.errors.Problem`, and its errors.

Every problem a sweep finds before it runs (the sweep file, the options, the folder) is a :class:`SweepProblem`
with a stable code:

=================== ==========================================================================================
``sweep.file``      the sweep file cannot be read (missing, not a regular file, not UTF-8, not TOML) or has
                    nothing to sweep
``sweep.setting``   a top-level setting of the sweep file (an unknown one, ``seed``, ``name``)
``sweep.grid``      the ``[grid]`` table (not a table, an empty or odd list of values, too many variants)
``sweep.draws``     the ``[draws]`` table (a distribution and its arguments, a key both listed and drawn)
``sweep.key``       a key that is no policy setting or parameter path of the scenario
``sweep.value``     a value, listed or drawn, that the setting or parameter does not allow
``sweep.objective`` the objective's metric or direction (in the file or from ``--objective``)
``sweep.option``    a command-line option (``--draws``, ``--workers``, ``--objective``, ``--scheduler``)
``sweep.scenario``  a scenario file that is not a regular file when the sweep fingerprints it
``sweep.folder``    the ``--out`` folder (holds something else, cannot be used)
=================== ==========================================================================================
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from workload.errors import InputError, Problem


@dataclass(frozen=True)
class SweepProblem(Problem):
    """A problem with a sweep: ``file`` is what its line names first (the sweep file, an option such as
    ``--draws``, a folder), ``key`` the swept key it is about (when one), ``message`` the rest of the line.

    It prints as ``file: message``, or ``file message`` with ``joiner=" "`` where the line reads on from what it
    names (``--workers must be 1 or more``); the key and any value are in the message."""

    joiner: str = ": "

    def __str__(self) -> str:
        return f"{self.file}{self.joiner}{self.message}"

    @classmethod
    def of_line(cls, text: str, subject: str, code: str) -> SweepProblem:
        """The problem that prints as ``text`` (a message made elsewhere), naming ``subject`` as its file when
        the line starts with it."""
        for joiner in (": ", " "):
            if text.startswith(subject + joiner):
                return cls(subject, text[len(subject) + len(joiner) :], code=code, joiner=joiner)
        return cls(text, "", code=code, joiner="")


class SweepError(InputError, ValueError):
    """The sweep file or options cannot be used; ``problems`` lists every problem found (:class:`SweepProblem`),
    each naming the file, the key and what is allowed. A ``ValueError`` too, as it always was."""


class SweepTaskError(RuntimeError):
    """Some tasks failed; the finished ones are kept, so running the same command again retries the rest."""

    def __init__(self, failures: Sequence[tuple[str, str, str]]):
        self.failures = list(failures)
        first = "; ".join(f"{v} / {p}: {e}" for v, p, e in self.failures[:3])
        more = f" (and {len(self.failures) - 3} more)" if len(self.failures) > 3 else ""
        hint = ""
        if any(e.startswith("BrokenProcessPool") for _, _, e in self.failures):
            hint = (
                " A worker process died: out of memory, killed, or a Python script calling run_sweep without "
                'the `if __name__ == "__main__":` guard that spawned workers need.'
            )
        super().__init__(f"{len(self.failures)} task(s) failed: {first}{more}.{hint}")


class SweepFolderError(SweepError):
    """``--out`` holds something other than this sweep (its problems have the code ``sweep.folder``)."""
