"""Warnings about data that is possible but implausible: a scenario that has them still runs, and says so.

Each warning is a :class:`workload.errors.Problem` with a ``warning.*`` code, kept in ``Scenario.warnings``,
listed by ``workload validate`` and carried into a run's warnings (summary.json, the report). Counts of cases are
written as ``N case(s)`` so the disclosure rule (:func:`workload.disclosure.redact_warning`) can put small ones in
words; no case id is named.

- ``warning.grade_above_protect_level``: a practitioner holds a case of a protect level today's rules would not
  give their grade (``wmt.baseline_allocation.highest_protect_level``: a PSO holding A or B tier cases);
- ``warning.tier_case_type``: a licence or custody case at a tier whose WMT weight for its case type is 0
  (A0, B0, C0 and D0: change level 0 is not used for them), so today's model gives it no points or hours;
- ``warning.no_available_points``: a practitioner holds cases but has no available WMT points (an SPO, or
  reductions as large as their hours), so today's workload % shows 0% and "ok" however many cases they hold.
"""

from __future__ import annotations

import pandas as pd

from workload.errors import Problem
from workload.load import limits
from workload.params import ParameterError, Parameters
from workload.scenario import CaseType

HOLDER = "current_practitioner_id"


def _first(mask: pd.Series, rows: bool) -> str:
    """Where the first True of ``mask`` is, when the frame's index holds spreadsheet rows."""
    return f"; first on row {int(mask.index[mask.to_numpy()][0])}" if rows else ""


def plausibility_warnings(
    cases: pd.DataFrame, practitioners: pd.DataFrame, params: Parameters, labels: dict[str, str], rows: bool = True
) -> list[Problem]:
    """The warnings of a valid scenario's tables, each with its id column (``case_id``, ``practitioner_id``) and,
    when ``rows``, each row's spreadsheet number as its index (as the loader's checked tables have them);
    ``labels`` names each table's file. A parameter that makes a check impossible (refused where it is used)
    skips that check."""
    warnings: list[Problem] = []
    practitioners_by_id = practitioners.set_index("practitioner_id")
    cap = limits.MAX_PROBLEMS_PER_COLUMN
    label, staff_label = labels.get("cases", "cases"), labels.get("practitioners", "practitioners")
    held = cases[HOLDER].notna()
    holder_grade = cases[HOLDER].map(practitioners_by_id["grade"].astype(str))

    # grade above its highest protect level
    try:
        highest = params.table("wmt.baseline_allocation.highest_protect_level")
    except (KeyError, ParameterError):
        highest = {}
    letter = cases["tier"].astype(str).str[0]
    supervised = cases["tier"].astype(str) != "untiered"
    over = {}
    for grade, top in highest.items():
        allowed = "ABCD"[list("ABCD").index(str(top)) :] if str(top) in "ABCD" else "ABCD"
        mask = held & supervised & (holder_grade == grade) & ~letter.isin(list(allowed))
        if mask.any():
            over[grade] = (mask, allowed)
    for grade, (mask, allowed) in list(over.items())[:cap]:
        holders = cases.loc[mask, HOLDER].nunique()
        levels = ", ".join(sorted(set(letter[mask])))
        message = (
            f"{int(mask.sum())} case(s) at protect level {levels} are held by {holders} {grade} practitioner(s), "
            f"a level today's rules would not give a {grade} (they take {', '.join(allowed)} and untiered: "
            f"wmt.baseline_allocation.highest_protect_level){_first(mask, rows)}"
        )
        warnings.append(Problem(label, message, column=HOLDER, code="warning.grade_above_protect_level"))

    # tier and case type that cannot go together
    for case_type in (CaseType.licence.value, CaseType.custody.value):
        try:
            weights = params.table(f"wmt.weights.{case_type}")
        except (KeyError, ParameterError):
            continue
        zero = sorted(t for t, w in weights.items() if len(t) == 2 and float(w) == 0)
        mask = (cases["case_type"].astype(str) == case_type) & cases["tier"].astype(str).isin(zero)
        if mask.any():
            tiers = ", ".join(sorted(set(cases.loc[mask, "tier"].astype(str))))
            message = (
                f"{int(mask.sum())} case(s) are {case_type} cases at tier {tiers}, which the WMT gives no weight "
                f"(wmt.weights.{case_type}: change level 0 is not used for {case_type} cases), so today's model "
                f"counts no points or hours for them; check the tier or the case type{_first(mask, rows)}"
            )
            warnings.append(Problem(label, message, column="tier", code="warning.tier_case_type"))

    # practitioners holding cases with no available points
    try:
        from workload.scoring.wmt import available_points

        points = available_points(practitioners_by_id, params).to_numpy()
    except (KeyError, ValueError):
        return warnings
    counts = cases.loc[held, HOLDER].value_counts()
    holding = practitioners["practitioner_id"].map(counts).fillna(0).astype(int).to_numpy()
    idle = ((points <= 0) & (holding > 0)).nonzero()[0]
    for i in idle[:cap]:
        practitioner = practitioners.iloc[i]
        message = (
            f"practitioner {practitioner['practitioner_id']} ({practitioner['grade']}) holds {holding[i]} case(s) but "
            "has no available WMT points (wmt.nominal_target, wmt.default_hours and their reductions), so today's "
            "workload % shows 0% and ok whatever they hold"
        )
        row = int(practitioners.index[i]) if rows else None
        warnings.append(Problem(staff_label, message, row=row, column="grade", code="warning.no_available_points"))
    if len(idle) > cap:
        more = f"and {len(idle) - cap} more practitioners holding cases with no available WMT points"
        warnings.append(Problem(staff_label, more, column="grade", code="warning.no_available_points"))
    return warnings
