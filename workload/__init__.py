"""workload: gender-sensitive, needs-based workload allocation for probation services in England and Wales.

The public Python API (docs/python.md)::

    import workload

    scenario = workload.load_scenario("scenarios/women-pdu")   # raises workload.ScenarioError on bad input
    result = workload.run(scenario)                             # a workload.RunResult of DataFrames
    result.tables["totals"]                                     # the four cells, side by side
    workload.write_run(result, "runs/women-pdu")                # the run folder, atomically

    rebalance = workload.Reform(policy={"continuity": "rebalance"})  # checked like scenario.toml's [policy]
    reformed = workload.run(scenario, reform=rebalance)

Names are imported on first use, so ``import workload`` is cheap and changes no global state (no matplotlib
backend, no worker processes).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS: dict[str, tuple[str, str]] = {
    "load_scenario": ("workload.load", "load_scenario"),
    "Scenario": ("workload.load", "Scenario"),
    "ScenarioError": ("workload.load", "ScenarioError"),
    "Problem": ("workload.load", "Problem"),
    "Reform": ("workload.reform", "Reform"),
    "ReformError": ("workload.reform", "ReformError"),
    "run": ("workload.pipeline", "run_scenario"),
    "RunResult": ("workload.pipeline", "RunResult"),
    "write_run": ("workload.pipeline", "write_run"),
    "load_parameters": ("workload.params", "load_parameters"),
    "Parameters": ("workload.params", "Parameters"),
    "ParameterError": ("workload.params", "ParameterError"),
    "synth_scenario": ("workload.synth", "synth_scenario"),
    "write_scenario": ("workload.synth", "write_scenario"),
    "compare_runs": ("workload.compare", "compare_runs"),
    "OutputError": ("workload.output", "OutputError"),
}
"""Public name -> (module, attribute)."""

__all__ = [
    "OutputError",
    "ParameterError",
    "Parameters",
    "Problem",
    "Reform",
    "ReformError",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "__version__",
    "compare_runs",
    "load_parameters",
    "load_scenario",
    "run",
    "synth_scenario",
    "write_run",
    "write_scenario",
]
"""The public names: :data:`_EXPORTS` and the version (a test holds the two lists together)."""

if TYPE_CHECKING:
    from workload.compare import compare_runs
    from workload.load import Problem, Scenario, ScenarioError, load_scenario
    from workload.output import OutputError
    from workload.params import ParameterError, Parameters, load_parameters
    from workload.pipeline import RunResult, write_run
    from workload.pipeline import run_scenario as run
    from workload.reform import Reform, ReformError
    from workload.synth import synth_scenario, write_scenario


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        module, attribute = _EXPORTS[name]
        value = getattr(import_module(module), attribute)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'workload' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
