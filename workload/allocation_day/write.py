"""Allocation day's inputs and outputs: a ``--new`` table of this week's cases, and the folder for the meeting
(assignment.csv, shortlist.csv, caseloads.csv, allocation.xlsx and a printable allocation.html), written
atomically like every output of this tool."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from jinja2 import ChoiceLoader, Environment, PackageLoader, select_autoescape

from workload.allocation_day.plan import AllocationDay
from workload.errors import Problem
from workload.load import Scenario, ScenarioError
from workload.load.checks import check_table
from workload.load.readers import read_table
from workload.output import atomic_folder, write_csv, write_json
from workload.report.workbook import _stamp_workbook, formatted_workbook
from workload.scenario import TABLE_MODELS

KIND = "allocation"
"""The output kind in manifest.json (``--force`` replaces only a folder of this kind written by this tool)."""

FILES = ("assignment.csv", "shortlist.csv", "caseloads.csv", "allocation.xlsx", "allocation.html")


def read_new_cases(scenario: Scenario, path: str | Path) -> Scenario:
    """The scenario with the cases of a ``--new`` table added (a table in the case format, every row new).

    Raises ScenarioError listing every problem: the table's own (as for cases.csv), a current practitioner
    given (a new case has none), an id the scenario already has or the table repeats, a PDU the scenario
    does not have.
    """
    path = Path(path)
    label = path.name
    raw = read_table(path, label)
    typed, problems = check_table(raw, TABLE_MODELS["cases"], label)
    if not problems and len(typed):
        rows = typed.index.to_numpy()
        given = typed["current_practitioner_id"].notna().to_numpy()
        problems += [
            Problem(
                label,
                "a new case has no current practitioner; leave the cell blank",
                row=int(r),
                column="current_practitioner_id",
                value=str(v),
                code="allocate.new_held",
            )
            for r, v in zip(rows[given], typed["current_practitioner_id"].to_numpy()[given])
        ]
        ids = typed["case_id"].astype(str)
        known = ids.isin(scenario.cases.index.astype(str)).to_numpy()
        repeated = ids.duplicated(keep="first").to_numpy()
        problems += [
            Problem(
                label,
                "this case_id is already in the scenario's cases; give new cases new ids",
                row=int(r),
                column="case_id",
                value=v,
                code="allocate.new_known",
            )
            for r, v in zip(rows[known], ids.to_numpy()[known])
        ]
        problems += [
            Problem(
                label,
                "this case_id appears twice in the table",
                row=int(r),
                column="case_id",
                value=v,
                code="allocate.new_repeated",
            )
            for r, v in zip(rows[repeated], ids.to_numpy()[repeated])
        ]
        pdus = set(scenario.pdus)
        stray = ~typed["pdu"].astype(str).isin(pdus).to_numpy()
        problems += [
            Problem(
                label,
                f"no PDU of this name in the scenario; PDUs are {', '.join(sorted(pdus))}",
                row=int(r),
                column="pdu",
                value=v,
                code="allocate.new_pdu",
            )
            for r, v in zip(rows[stray], typed["pdu"].astype(str).to_numpy()[stray])
        ]
    if problems:
        raise ScenarioError(problems)
    new = typed.set_index("case_id")
    cases = pd.concat([scenario.cases, new[scenario.cases.columns]])
    return dataclasses.replace(scenario, cases=cases)


def _page(day: AllocationDay) -> str:
    # the page's own template, with the report's stylesheet (report.css) shared
    loader = ChoiceLoader([PackageLoader("workload", "allocation_day"), PackageLoader("workload", "report")])
    env = Environment(loader=loader, autoescape=select_autoescape(["html"]))
    env.filters["h"] = lambda v: "–" if v is None or (isinstance(v, float) and np.isnan(v)) else f"{float(v):,.0f}"
    env.filters["pct"] = lambda v: "–" if v is None or (isinstance(v, float) and np.isnan(v)) else f"{float(v):.1f}%"
    env.filters["text"] = lambda v: "–" if v is None or (isinstance(v, float) and np.isnan(v)) or v == "" else str(v)
    cases: list[dict[str, Any]] = []
    for case_id, row in day.assignment.iterrows():  # one card per new case: a handful a week
        options = day.shortlist[day.shortlist["case_id"] == case_id].to_dict("records")
        cases.append({"case_id": case_id, **row.to_dict(), "options": options})
    over = day.caseloads[(day.caseloads["new_cases"] > 0) | (day.caseloads["over_capacity_hours"] > 0)]
    return env.get_template("allocation.html").render(
        scenario=day.scenario,
        cases=cases,
        caseloads=over.reset_index().to_dict("records"),
        warnings=day.warnings,
        n_new=len(day.assignment),
        n_placed=int(day.assignment["practitioner_id"].notna().sum()) if len(day.assignment) else 0,
    )


NOTES = [
    "Allocation day: this week's new cases (no current practitioner) placed into caseloads that stay as they are.",
    (
        "assignment: the practitioner recommended for each new case when the whole batch is placed together, the "
        "hours they could give it and the partner it could be referred to; wmt_list_first is who Manage a "
        "Workforce's choose-practitioner list would put first (highest grade, then lowest workload %)."
    ),
    (
        "shortlist: for each new case on its own, the practitioners who may hold it, ranked, with workload % today "
        "and after taking it, hours free after it (capacity less the assessed hours of their caseload and this "
        "case; negative means over), the hours it could get there, and why."
    ),
    "caseloads: each practitioner of a PDU with new cases, before and after the batch.",
    "Hours are practitioner hours a year; workload % is the WMT's (points used over available points).",
]


def write_allocation_day(day: AllocationDay, out: Path, force: bool = False, protected: tuple[Path, ...] = ()) -> Path:
    """Write the allocation-day folder atomically (nothing is left half-written; ``force`` replaces only an
    allocation folder this tool wrote)."""
    with atomic_folder(Path(out), force=force, kind=KIND, protected=protected) as tmp:
        write_csv(day.assignment, tmp / "assignment.csv")
        write_csv(day.shortlist, tmp / "shortlist.csv", index=False)
        write_csv(day.caseloads, tmp / "caseloads.csv")
        shortlist = day.shortlist.set_index("case_id") if len(day.shortlist) else day.shortlist
        formatted_workbook(
            tmp / "allocation.xlsx",
            {"assignment": day.assignment, "shortlist": shortlist, "caseloads": day.caseloads},
            NOTES + [f"warning: {w}" for w in day.warnings],
        )
        _stamp_workbook(tmp / "allocation.xlsx")
        (tmp / "allocation.html").write_text(_page(day), encoding="utf-8")
        write_json(
            {"scenario": day.scenario, "new_cases": len(day.assignment), "warnings": day.warnings},
            tmp / "manifest.json",
        )
    return Path(out)
