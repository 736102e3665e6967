"""Baseline allocation: what a manager does today with the Manage a Workforce choose-practitioner screen.

Cases that have a practitioner keep them. Each unallocated case is then given, one at a time, to one
practitioner of its PDU whose grade may hold its protect level, chosen by ``wmt.baseline_allocation.rule``:

- ``list_top``: the top of the screen's list read literally, grade first (PO, then PSO, then PQiP;
  manage-a-workforce-ui ``allocationsController.ts``), then lowest workload %;
- ``lowest_workload``: the lowest workload % of any grade;
- ``grade_for_a_b``: A and B cases as ``list_top`` (a PO first), C, D and untiered cases as
  ``lowest_workload`` (risk of harm matched to grade, the Probation Delivery Model; docs/sources.md#hmpps-pod).

A PSO takes no A or B tier case under every rule: that comes from the tiering principles
(docs/sources.md#hmpps-tier-ui), not from Manage a Workforce, whose list offers PSOs every tier. The chosen
practitioner's workload % goes up before the next case is placed. There is no optimiser in the real service
(docs/sources.md#manage-a-workforce-ui, the manager picks from the list); these greedy rules are the stand-ins
this project takes for the manager's choice.
"""

from __future__ import annotations

import heapq

import numpy as np
import pandas as pd

from workload.params import ParameterError, Parameters
from workload.scoring.wmt import (
    available_points,
    case_points,
    grade_parameter,
    practitioner_points,
    workload_pct_units,
)
from workload.tier import PROTECT_LEVELS, protect_rank

RULES: dict[str, frozenset[int]] = {
    "list_top": frozenset(range(len(PROTECT_LEVELS) + 1)),
    "lowest_workload": frozenset(),
    "grade_for_a_b": frozenset({PROTECT_LEVELS.index("A"), PROTECT_LEVELS.index("B")}),
}
"""The baseline's rules (``wmt.baseline_allocation.rule``): each names the protect levels (positions in
:data:`PROTECT_LEVELS`, ``len(PROTECT_LEVELS)`` for untiered) whose cases go by grade first, then lowest
workload %; cases of the other levels go to the lowest workload % of any grade that may hold them."""


def baseline_rule(params: Parameters, rule: str | None = None) -> str:
    """The baseline rule a run uses: ``rule`` when given, else ``wmt.baseline_allocation.rule``; checked."""
    chosen = str(params["wmt.baseline_allocation.rule"]) if rule is None else rule
    if chosen not in RULES:
        raise ParameterError(
            f"parameter wmt.baseline_allocation.rule must be one of {', '.join(RULES)}; found {chosen!r}"
        )
    return chosen


def allocation_rank(cases: pd.DataFrame, params: Parameters) -> pd.Series:
    """Place of each case in the baseline's allocation queue (lower goes first), by tier.

    ``allocation_rank[c] = wmt.baseline_allocation.tier_order[tier[c]]``: by default A3 first down to D0,
    then the unsupervised S tiers A3S..D0S, then untiered; the allocator breaks ties by ``case_id``. The
    real order is the manager's and is not recorded, so this is an assumption a scenario may change.
    """
    order = params.table("wmt.baseline_allocation.tier_order")
    rank = cases["tier"].map(order)
    if rank.isna().any():
        bad = cases.index[rank.isna().to_numpy()]
        raise ValueError(
            f"case {bad[0]!r}: tier {cases.loc[bad[0], 'tier']!r} has no place in "
            f"wmt.baseline_allocation.tier_order (tiers: {', '.join(order)})"
        )
    return rank.astype(float).rename("allocation_rank")


def protect_level(cases: pd.DataFrame) -> pd.Series:
    """Protect level of each case as a position in :data:`PROTECT_LEVELS` (:func:`workload.tier.protect_rank`)."""
    return protect_rank(cases["tier"])


def highest_protect_level(practitioners: pd.DataFrame, params: Parameters) -> pd.Series:
    """Highest protect level each practitioner may be allocated, as a position in :data:`PROTECT_LEVELS`.

    From ``wmt.baseline_allocation.highest_protect_level[grade]``: A for PO, PQiP and SPO, C for PSO
    (a PSO should not hold A or B cases). A practitioner may take a case whose protect level is at or
    below this one.
    """
    path = "wmt.baseline_allocation.highest_protect_level"
    table = params.table(path)
    for grade, letter in table.items():
        if letter not in PROTECT_LEVELS:
            raise ParameterError(
                f"parameter {path}.{grade} must be one of {', '.join(PROTECT_LEVELS)}; found {letter!r}"
            )
    letters = practitioners["grade"].map(table)
    if letters.isna().any():
        bad = practitioners.index[letters.isna().to_numpy()][0]
        grade = practitioners.loc[bad, "grade"]
        raise ValueError(f"practitioner {bad!r}: grade {grade!r} has no entry in {path}")
    level = letters.map({letter: i for i, letter in enumerate(PROTECT_LEVELS)})
    return level.astype(np.int64).rename("highest_protect_level")


def allocate_baseline(
    cases: pd.DataFrame, practitioners: pd.DataFrame, params: Parameters, rule: str | None = None
) -> pd.Series:
    """Who holds each case when allocation works as it does today (the WMT baseline).

    1. A case with a ``current_practitioner_id`` keeps that practitioner.
    2. Every other case joins a queue ordered by :func:`allocation_rank` (A3 first ... D0, then S tiers,
       then untiered by default), ties by ``case_id``; PDUs are independent.
    3. Each queued case goes to a practitioner in its PDU by ``rule`` (:data:`RULES`; default
       ``wmt.baseline_allocation.rule``). Under ``list_top`` that is the top of the choose-practitioner
       list: highest ``wmt.baseline_allocation.grade_order`` first (PO, PSO, PQiP), then lowest workload %
       (rounded as the screen shows it), then lowest ``practitioner_id``; under ``lowest_workload`` grade
       is skipped; under ``grade_for_a_b`` it is skipped for C, D and untiered cases only. Only
       practitioners with available points above 0 are candidates (so not SPOs by default), and only those
       whose grade may hold the case's protect level (:func:`highest_protect_level`: no A or B cases for
       PSOs).
    4. The chosen practitioner's points, and so workload %, rise by the case's WMT points before the next
       case is placed. Starting points are the held cases' points plus court-report points.

    A case with nobody eligible in its PDU (an A-tier case among PSOs only, or a PDU of SPOs) is left
    unallocated (None); their number is in ``result.attrs["unplaced"]`` and, by PDU, in
    ``result.attrs["unplaced_by_pdu"]``. Each PDU keeps one heap per (grade rank, highest protect level), so
    placing a case costs O(log practitioners).

    Returns
    -------
    pd.Series
        ``practitioner_id`` (object, None when unplaced) per case, indexed like ``cases``, named
        ``baseline_practitioner_id``.
    """
    by_grade = RULES[baseline_rule(params, rule)]
    points = case_points(cases, params)
    current = cases["current_practitioner_id"]
    held = current.notna().to_numpy()
    load: list[int] = practitioner_points(practitioners, points, current, params).to_numpy().tolist()
    available = available_points(practitioners, params).to_numpy().tolist()
    decimals = int(params["wmt.workload_pct_decimals"])
    grade_rank = grade_parameter(practitioners, params, "wmt.baseline_allocation.grade_order")
    highest = highest_protect_level(practitioners, params).to_numpy()
    staff_ids = practitioners.index.to_numpy(dtype=object)

    result = current.to_numpy(dtype=object).copy()
    result[~held] = None
    waiting = pd.DataFrame(
        {
            "rank": allocation_rank(cases, params).to_numpy()[~held],
            "case_id": cases.index.to_numpy()[~held],
            "position": np.flatnonzero(~held),
            "pdu": cases["pdu"].to_numpy()[~held],
        }
    ).sort_values(["rank", "case_id"], kind="stable")
    case_pts = points.to_numpy().tolist()
    case_level = protect_level(cases).to_numpy().tolist()
    can_hold = np.flatnonzero(np.asarray(available) > 0)
    staff_by_pdu = pd.Series(can_hold).groupby(practitioners["pdu"].to_numpy()[can_hold]).agg(list).to_dict()

    unplaced_by_pdu: dict[str, int] = {}
    for pdu, queue in waiting.groupby("pdu", sort=True)["position"]:
        plan = _list_by_protect_level(
            staff_by_pdu.get(pdu, []), load, available, grade_rank, highest, staff_ids, decimals, by_grade
        )
        unplaced = 0
        for c in queue.tolist():
            chosen: list | None = None
            for heaps in plan[case_level[c]]:
                for heap in heaps:
                    if heap and (chosen is None or heap[0] < chosen[0]):
                        chosen = heap
                if chosen is not None:
                    break
            if chosen is None:
                unplaced += 1
                continue
            _, practitioner_id, k = chosen[0]
            load[k] += case_pts[c]
            units = workload_pct_units(load[k], available[k], decimals)
            heapq.heapreplace(chosen, (units, practitioner_id, k))
            result[c] = practitioner_id
        if unplaced:
            unplaced_by_pdu[pdu] = unplaced

    allocation = pd.Series(result, index=cases.index, name="baseline_practitioner_id", dtype=object)
    allocation.attrs["unplaced"] = sum(unplaced_by_pdu.values())
    allocation.attrs["unplaced_by_pdu"] = unplaced_by_pdu
    allocation.attrs["rule"] = baseline_rule(params, rule)
    return allocation


def _list_by_protect_level(
    staff: list[int],
    load: list[int],
    available: list[int],
    grade_rank: np.ndarray,
    highest: np.ndarray,
    staff_ids: np.ndarray,
    decimals: int,
    by_grade: frozenset[int],
) -> list[list[list[list[tuple[int, str, int]]]]]:
    """The choose-practitioner list of one PDU, as heaps, for each protect level a case can have.

    Practitioners (positions in ``staff``) go into one min-heap of (workload % units, practitioner_id,
    position) per (grade rank, highest protect level). ``plan[level]`` lists, from the highest grade rank
    down, the heaps whose practitioners may hold a case of that protect level; a case takes the least
    loaded practitioner of the first rank that has one. For a level not in ``by_grade`` all those heaps
    form one rank, so the least loaded of any grade is taken. Heaps are shared between levels, so an
    allocation updates every level's view at once.
    """
    heaps: dict[tuple[float, int], list[tuple[int, str, int]]] = {}
    for k in staff:
        entry = (workload_pct_units(load[k], available[k], decimals), staff_ids[k], k)
        heaps.setdefault((float(grade_rank[k]), int(highest[k])), []).append(entry)
    for heap in heaps.values():
        heapq.heapify(heap)
    ranks = sorted({rank for rank, _ in heaps}, reverse=True)
    return [
        [[heap for (rank, top), heap in heaps.items() if rank == r and top <= level] for r in ranks]
        if level in by_grade
        else [[heap for (_, top), heap in heaps.items() if top <= level]]
        for level in range(len(PROTECT_LEVELS) + 1)
    ]
