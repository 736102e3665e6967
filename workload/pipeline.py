"""The whole run, stage by stage: scenario -> scores -> allocations -> outcomes -> run folder.

Each stage is a plain function over DataFrames (see DESIGN.md's data flow), so a notebook can call any of
them; :func:`run_scenario` strings them together and :func:`write_run` writes one folder atomically.
"""

from __future__ import annotations

import platform
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from workload import __version__
from workload.load import Scenario
from workload.output import atomic_folder, write_csv, write_json

CASE_GROUP_COLUMNS = ("pdu", "sex", "ethnicity", "case_type", "tier")
"""Case attributes carried into outputs for grouping (pseudonymous: no names, no dates, no addresses)."""


@dataclass
class RunResult:
    """Everything one run produces, as tables keyed by case_id / practitioner_id / pdu."""

    scenario: Scenario
    cases: pd.DataFrame
    practitioners: pd.DataFrame
    summary: dict[str, Any]
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    """Further named tables (allocations, pdus, outcome tables) written as <name>.csv."""
    timings: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def run_scenario(scenario: Scenario) -> RunResult:
    """Run every stage on a validated scenario and collect the tables for the run folder."""
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    cases = scenario.cases.loc[:, list(CASE_GROUP_COLUMNS)].copy()
    practitioners = scenario.practitioners.loc[:, ["pdu", "grade"]].copy()
    timings["prepare"] = time.perf_counter() - t0
    summary = {
        "scenario": scenario.spec.name,
        "counts": {
            "cases": int(len(scenario.cases)),
            "practitioners": int(len(scenario.practitioners)),
            "partners": int(len(scenario.partners)),
            "pdus": len(scenario.pdus),
            "women": int((scenario.cases["sex"] == "female").sum()),
            "unallocated_cases": int(scenario.cases["current_practitioner_id"].isna().sum()),
        },
    }
    return RunResult(scenario, cases, practitioners, summary, timings=timings)


def resolved_scenario(scenario: Scenario) -> dict[str, Any]:
    """The scenario as the run used it: settings, policy with defaults filled in, parameter overrides."""
    spec = scenario.spec.model_dump(mode="json")
    spec["parameters_overridden"] = {p: scenario.params[p] for p in scenario.params.overridden}
    return spec


def write_run(result: RunResult, out: Path, force: bool = False) -> Path:
    """Write the run folder atomically: CSVs, summary.json, the resolved scenario and a manifest.

    Everything but manifest.json is a pure function of the inputs (byte-identical across runs); the
    manifest holds what varies (timings, machine, time of day).
    """
    out = Path(out)
    with atomic_folder(out, force=force) as tmp:
        write_csv(result.cases, tmp / "cases.csv")
        write_csv(result.practitioners, tmp / "practitioners.csv")
        for name, table in result.tables.items():
            write_csv(table, tmp / f"{name}.csv")
        summary = dict(result.summary)
        summary["version"] = __version__
        summary["warnings"] = list(result.warnings)
        write_json(summary, tmp / "summary.json")
        write_json(resolved_scenario(result.scenario), tmp / "scenario.resolved.json")
        write_json(
            {
                "version": __version__,
                "python": platform.python_version(),
                "machine": platform.machine(),
                "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "stage_seconds": result.timings,
                "scenario_path": str(result.scenario.path),
            },
            tmp / "manifest.json",
        )
    return out
