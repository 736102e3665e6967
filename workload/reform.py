"""Reforms: changes to a scenario's ``[policy]``, ``[output]`` and ``[parameters]`` held as a value.

A :class:`Reform` is what ``workload run --set key=value`` builds from its options, and what a Python user
writes as ``workload.Reform(policy={"continuity": "rebalance"}, parameters={"needs.hours_per_severity.drugs":
14})``. Reforms add up (``a + b``: ``b``'s values win where both set one) and are checked exactly as the
scenario file's own sections are, with the same problems: they are merged into the file's settings before
those are validated (:func:`workload.load.load_scenario` with ``reform=``), or into a loaded scenario's
(:meth:`Reform.apply`). A problem with a reform's value names the reform (``--set`` on the command line) as
its file, so a planner sees which of the two to fix.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from workload.errors import InputError, Problem

if TYPE_CHECKING:
    from workload.load import Scenario

SECTIONS = ("policy", "output")
"""The scenario file's sections a reform may set field by field; any other key is a parameter path."""

SET_LABEL = "--set"
"""The file a problem with a ``--set`` option names."""


class ReformError(InputError):
    """A reform cannot be built (a ``--set`` option that is not ``key=value``...): ``problems`` says why."""


def parse_value(text: str) -> Any:
    """A ``--set`` value as TOML reads a scalar: ``0.5`` a number, ``true`` a boolean, ``"x"`` text; a bare word
    that is not TOML (``rebalance``) is the text itself. A table or an array is refused (TypeError)."""
    stripped = text.strip()
    try:
        value = tomllib.loads(f"value = {stripped}")["value"]
    except tomllib.TOMLDecodeError:
        return stripped
    if isinstance(value, (dict, list)):
        raise TypeError("is a table or an array; --set takes one value (a number, true/false or text)")
    return value


@dataclass(frozen=True)
class Reform:
    """Changes to a scenario's settings: ``policy`` and ``output`` fields by name, ``parameters`` by dotted path
    (docs/parameters.md). ``label`` names the reform in problems (``--set`` for the command line's)."""

    policy: Mapping[str, Any] = field(default_factory=dict)
    parameters: Mapping[str, Any] = field(default_factory=dict)
    output: Mapping[str, Any] = field(default_factory=dict)
    label: str = "reform"

    def __post_init__(self) -> None:
        problems = []
        for section in ("policy", "parameters", "output"):
            value = getattr(self, section)
            if not isinstance(value, Mapping):
                problems.append(Problem(self.label, f"{section} must be a mapping of names to values", key=section))
            else:
                object.__setattr__(self, section, dict(value))
        if problems:
            raise ReformError(problems)

    @classmethod
    def from_options(cls, options: Iterable[str], label: str = SET_LABEL) -> Reform:
        """A reform from ``key=value`` options: ``policy.<field>=``, ``output.<field>=``, ``parameters.<path>=``
        or a bare parameter path. A later option for the same key wins. Raises :class:`ReformError` listing
        every option that is not ``key=value`` or whose value is not a scalar."""
        sections: dict[str, dict[str, Any]] = {"policy": {}, "parameters": {}, "output": {}}
        problems: list[Problem] = []
        for option in options:
            key, equals, text = option.partition("=")
            key = key.strip()
            if not equals or not key:
                message = (
                    f"{option!r} is not key=value; e.g. --set policy.continuity=rebalance or "
                    "--set needs.hours_per_severity.drugs=14"
                )
                problems.append(Problem(label, message, code="settings.set_syntax"))
                continue
            try:
                value = parse_value(text)
            except TypeError as exc:
                problems.append(Problem(label, f"{key}: {exc}", code="settings.set_syntax"))
                continue
            section, dot, rest = key.partition(".")
            if dot and rest and section in (*SECTIONS, "parameters"):
                sections[section][rest] = value
            else:
                sections["parameters"][key] = value
        if problems:
            raise ReformError(problems)
        return cls(**sections, label=label)

    def __add__(self, other: Reform) -> Reform:
        if not isinstance(other, Reform):
            return NotImplemented
        return Reform(
            policy={**self.policy, **other.policy},
            parameters={**self.parameters, **other.parameters},
            output={**self.output, **other.output},
            label=self.label if self.label == other.label else "reform",
        )

    def __bool__(self) -> bool:
        return bool(self.policy or self.parameters or self.output)

    def sources(self) -> dict[str, str]:
        """Each setting the reform makes, as a problem's location names it (``policy.continuity``, a parameter's
        dotted path), and the reform's label."""
        keys = [f"{section}.{name}" for section in SECTIONS for name in getattr(self, section)]
        return {key: self.label for key in [*keys, *self.parameters]}

    def merge_into(self, data: dict[str, Any]) -> dict[str, Any]:
        """The scenario file's settings (as TOML read them) with this reform's on top. The file's parameters
        are flattened to dotted paths first, so a reform's path replaces the file's value for it rather than
        being refused as given twice; a file whose parameters cannot be flattened keeps its own (their
        problems are reported when it is checked)."""
        from workload.params import ParameterError, flatten_overrides

        merged = dict(data)
        for section in SECTIONS:
            if getattr(self, section):
                own = merged.get(section)
                merged[section] = {**(own if isinstance(own, dict) else {}), **getattr(self, section)}
        if self.parameters:
            own = merged.get("parameters")
            if isinstance(own, dict):
                try:
                    own = flatten_overrides(own)
                except ParameterError:
                    pass
            merged["parameters"] = {**(own if isinstance(own, dict) else {}), **self.parameters}
        return merged

    def apply(self, scenario: Scenario) -> Scenario:
        """The scenario with this reform applied, checked as a scenario file's settings are (raises
        :class:`workload.load.ScenarioError` listing every problem); the scenario given is unchanged."""
        from workload.load import apply_reform

        return apply_reform(scenario, self)
