"""What a sweep refuses, and why: the sweep's errors."""

from __future__ import annotations

from collections.abc import Sequence


class SweepError(ValueError):
    """The sweep file or options cannot be used; ``problems`` lists every problem found, each naming file and key."""

    def __init__(self, problems: Sequence[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class SweepTaskError(RuntimeError):
    """Some tasks failed; the finished ones are kept, so running the same command again retries the rest."""

    def __init__(self, failures: Sequence[tuple[str, str, str]]):
        self.failures = list(failures)
        first = "; ".join(f"{v} / {p}: {e}" for v, p, e in self.failures[:3])
        more = f" (and {len(self.failures) - 3} more)" if len(self.failures) > 3 else ""
        hint = ""
        if any(e.startswith("BrokenProcessPool") for _, _, e in self.failures):
            hint = (" A worker process died: out of memory, killed, or a Python script calling run_sweep without "
                    "the `if __name__ == \"__main__\":` guard that spawned workers need.")
        super().__init__(f"{len(self.failures)} task(s) failed: {first}{more}.{hint}")


class SweepFolderError(SweepError):
    """``--out`` holds something other than this sweep."""
