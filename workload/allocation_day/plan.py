"""Allocation day: this week's new cases, a ranked shortlist of practitioners for each, and the batch placed jointly.

A PDU head places a handful of new cases into caseloads that stay as they are. :func:`plan_allocation_day`
answers both of their questions in one pass:

- **the batch**: every new case placed at once by the LP allocator with ``continuity = "keep"`` (existing
  caseloads fixed; hours shared by need above the public-protection minimums), so two new cases do not both go
  to the one practitioner with free time (``assignment``);
- **the shortlist**: for each new case on its own, every practitioner who may hold it, ranked, with what
  taking it would mean for them (workload % today and after, hours free after it, the hours they could give
  it) and the order Manage a Workforce's choose-practitioner list would show (``shortlist``);
- **the caseloads**: each practitioner's position before and after the batch (``caseloads``).

Nothing here loops over cases in Python: every figure is an array over (new case, practitioner) pairs of a PDU.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from workload.allocate import lp
from workload.allocate.arrays import HOURS_TOL, capacity_hours, partner_deliverable_hours, pdu_arrays, pdu_inputs
from workload.allocate.continuity import _specialist, eligible_pairs
from workload.allocate.objective import hour_segments, segment_worth, staff_hour_cost, unmet_weights
from workload.load import Scenario
from workload.pipeline import lp_cases, score_cases
from workload.scoring import wmt

SHORTLIST_LENGTH = 5
"""Practitioners shown per new case by default (a display choice: ``workload allocate --shortlist N``)."""

SHORTLIST_COLUMNS: tuple[str, ...] = (
    "case_id",
    "pdu",
    "rank",
    "practitioner_id",
    "grade",
    "women_specialist",
    "recommended_for_batch",
    "workload_pct_today",
    "workload_pct_after",
    "case_required_hours",
    "hours_free_after",
    "hours_it_could_get",
    "wmt_list_position",
    "partner_id",
    "reason",
)
"""shortlist.csv's columns, in order."""

LIST_GRADES = ("PO", "PSO", "PQiP")
"""Grades Manage a Workforce's choose-practitioner list offers (docs/sources.md#manage-a-workforce-ui: the list
is requested for PSO, PQiP and PO, with no test of the case's tier)."""


@dataclass
class AllocationDay:
    """The answer for one batch of new cases (tables indexed as written to the CSVs)."""

    scenario: str
    assignment: pd.DataFrame
    """One row per new case: the recommended practitioner (solved jointly) and why."""
    shortlist: pd.DataFrame
    """Up to ``SHORTLIST_LENGTH`` rows per new case: the ranked practitioners who may hold it."""
    caseloads: pd.DataFrame
    """One row per practitioner of a PDU with new cases: before and after the batch."""
    warnings: list[str] = field(default_factory=list)


def new_case_mask(cases: pd.DataFrame) -> np.ndarray:
    """New cases: those with no current practitioner."""
    return cases["current_practitioner_id"].isna().to_numpy()


def _hours(value: np.ndarray) -> np.ndarray:
    """Hours as text for a reason ("412 h")."""
    return np.char.add(np.round(value).astype(np.int64).astype(str), " h")


def plan_allocation_day(
    scenario: Scenario, workers: int | None = 1, shortlist_length: int = SHORTLIST_LENGTH
) -> AllocationDay:
    """Shortlists and the joint assignment for the scenario's new cases (see the module docstring).

    Only PDUs with new cases are solved. The policy is the scenario's with ``continuity = "keep"`` whatever it
    says: allocation day places new cases into caseloads that stay as they are.
    """
    cases, staff, params = scenario.cases, scenario.practitioners, scenario.params
    new = new_case_mask(cases)
    name = scenario.spec.name
    if not new.any():
        empty = pd.DataFrame()
        return AllocationDay(name, empty, empty, empty, ["no new cases: every case has a current practitioner"])
    pdus = sorted(cases.loc[new, "pdu"].astype(str).unique())
    in_pdus = cases["pdu"].astype(str).isin(pdus).to_numpy()
    cases = cases.loc[in_pdus]
    staff = staff.loc[staff["pdu"].astype(str).isin(pdus).to_numpy()]
    new = new[in_pdus]
    sub = dataclasses.replace(scenario, cases=cases, practitioners=staff)
    scores = score_cases(sub)
    policy = scenario.spec.policy.model_copy(update={"continuity": "keep"})
    frame = lp_cases(sub, scores, "needs")
    allocation = lp.allocate_lp(frame, staff, scenario.partners, params, policy, workers=workers)

    staff = staff.copy()
    staff["capacity_hours"] = capacity_hours(staff, params)
    required = scores["required_hours"].to_numpy(dtype=float)
    points = wmt.case_points(cases, params)
    current = cases["current_practitioner_id"]
    today = wmt.practitioner_workload(staff, points, current, params)
    chosen = allocation.cases["practitioner_id"]
    after = wmt.practitioner_workload(staff, points, current.where(~new, chosen), params)

    position = staff.index.get_indexer(current.where(current.notna(), None))
    held = position >= 0
    held_required = np.bincount(position[held], weights=required[held], minlength=len(staff))

    rows = []
    for pdu in pdus:  # a loop over PDUs (a handful); everything inside is arrays over (case, practitioner)
        rows.append(
            _pdu_shortlist(pdu, frame, staff, scenario, new, required, points, today, held_required, allocation)
        )
    rows = [r for r in rows if len(r)]
    shortlist = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=list(SHORTLIST_COLUMNS))
    shortlist = shortlist[shortlist["rank"] <= shortlist_length].reset_index(drop=True)

    assignment = _assignment(cases, new, scores, allocation, shortlist, staff)
    caseloads = _caseloads(staff, cases, new, required, held_required, today, after, allocation, chosen)
    warnings = [w for w in allocation.warnings]
    unplaced = assignment.index[assignment["practitioner_id"].isna()]
    for case_id in unplaced:
        warnings.append(f"new case {case_id} cannot be placed: {assignment.loc[case_id, 'reason']}")
    flag = float(params["wmt.allocation_flag_pct"])
    pushed = caseloads[(caseloads["new_cases"] > 0) & (caseloads["workload_pct_after"] > flag)]
    if len(pushed):
        worst = pushed["workload_pct_after"].idxmax()
        warnings.append(
            f"the batch cannot all be placed within WMT capacity: {len(pushed)} practitioner(s) taking new cases end "
            f"above {flag:g}% (highest {pushed.loc[worst, 'workload_pct_after']:.1f}%, {worst}); caseloads.csv and "
            "allocation.html list them"
        )
    return AllocationDay(name, assignment, shortlist, caseloads, warnings)


def _pdu_shortlist(
    pdu: str,
    cases: pd.DataFrame,  # the LP's frame: the case table with the needs model's hours by area
    staff: pd.DataFrame,
    scenario: Scenario,
    new: np.ndarray,
    required: np.ndarray,
    points: pd.Series,
    today: pd.DataFrame,
    held_required: np.ndarray,
    allocation: lp.Allocation,
) -> pd.DataFrame:
    """The ranked practitioners for each new case of one PDU, as one long table."""
    chosen = allocation.cases["practitioner_id"]
    params, policy = scenario.params, scenario.spec.policy
    rows_c = np.flatnonzero(new & (cases["pdu"].astype(str) == pdu).to_numpy())
    cols_p = np.flatnonzero((staff["pdu"].astype(str) == pdu).to_numpy())
    mine, team = cases.iloc[rows_c], staff.iloc[cols_p]
    eligible = eligible_pairs(mine, team, params, policy) if len(team) else np.zeros((len(mine), 0), dtype=bool)
    c, p = np.nonzero(eligible)
    if not len(c):
        return pd.DataFrame(columns=list(SHORTLIST_COLUMNS))
    req = required[rows_c][c]
    cap = team["capacity_hours"].to_numpy(dtype=float)[p]
    held = held_required[cols_p][p]
    free_after = cap - held - req
    could_give, gain = _what_it_would_get(scenario, cases, staff, allocation, pdu, mine.index, team.index, c, p)
    used = today["wmt_points"].to_numpy()[cols_p][p]
    available = today["available_points"].to_numpy()[cols_p][p]
    case_pts = points.to_numpy()[rows_c][c]
    pct_today = today["workload_pct"].to_numpy()[cols_p][p]
    pct_after = wmt.workload_pct(used + case_pts, available, params)
    specialist = _specialist(team)[p]
    woman = (mine["sex"].astype(str) == "female").to_numpy()[c]
    pool = policy.women_specialist_pool != "off"
    prefers = pool & woman & specialist
    recommended = chosen.to_numpy(dtype=object)[rows_c][c] == team.index.to_numpy(dtype=object)[p]
    # the batch's own hours where it placed the case (the estimate leaves out a segment worth exactly the margin)
    given = allocation.cases["afforded_hours"].to_numpy(dtype=float)[rows_c][c]
    could_give = np.where(recommended, given, could_give)
    ids = team.index.to_numpy(dtype=object)[p]
    # rank within each case: the batch's choice, then the women's pool, then what placing it there is worth
    # (the need it would meet net of the need it would displace, as the LP values them), then lowest workload %
    # after, then id
    order = np.lexsort((ids.astype(str), pct_after, -gain, ~prefers, ~recommended, c))
    c, p = c[order], p[order]
    named = {
        "req": req,
        "free_after": free_after,
        "could_give": could_give,
        "pct_today": pct_today,
        "pct_after": pct_after,
        "specialist": specialist,
        "prefers": prefers,
        "recommended": recommended,
        "ids": ids,
    }
    arrays = {k: v[order] for k, v in named.items()}
    first = np.r_[True, c[1:] != c[:-1]]
    start = np.maximum.accumulate(np.where(first, np.arange(len(c)), 0))
    rank = np.arange(len(c)) - start + 1

    list_order = wmt_list_order(team, today.iloc[cols_p], params)
    reason = _reasons(arrays, rank, start)
    partner = _lead_partner(mine, scenario)
    frame = pd.DataFrame(
        {
            "case_id": mine.index.to_numpy(dtype=object)[c],
            "pdu": pdu,
            "rank": rank,
            "practitioner_id": arrays["ids"],
            "grade": team["grade"].to_numpy(dtype=object)[p],
            "women_specialist": np.where(arrays["specialist"], "yes", "no"),
            "recommended_for_batch": np.where(arrays["recommended"], "yes", "no"),
            "workload_pct_today": arrays["pct_today"],
            "workload_pct_after": arrays["pct_after"],
            "case_required_hours": arrays["req"],
            "hours_free_after": arrays["free_after"],
            "hours_it_could_get": arrays["could_give"],
            "wmt_list_position": list_order[p],
            "partner_id": partner[c],
            "reason": reason,
        }
    )
    return frame


def _what_it_would_get(
    scenario: Scenario,
    cases: pd.DataFrame,
    staff: pd.DataFrame,
    allocation: lp.Allocation,
    pdu: str,
    case_ids: pd.Index,
    practitioner_ids: pd.Index,
    c: np.ndarray,
    p: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """For each (new case c, practitioner p) pair: the hours the case would get at p, and what that is worth.

    The allocator's own valuation: at the batch's allocation, a practitioner at capacity gives their last hour
    where it is worth least (``marginal_p``, that hour's value in the objective; 0 with spare hours). A new case
    at p would get the hours of its segments (:func:`workload.allocate.objective.hour_segments`: its minimum,
    then its need bands from the lowest coverage) worth more than ``marginal_p`` at p's cost per hour, and
    placing it there is worth ``sum_k length_k x max(value_k - marginal_p, 0)``, the need it would meet net of
    the need it would displace. This is the LP's own reason for its choice, so the shortlist and the batch
    agree.
    """
    policy = scenario.spec.policy.model_copy(update={"continuity": "keep"})
    mine = cases[cases["pdu"].astype(str) == pdu]
    team = staff[staff["pdu"].astype(str) == pdu]
    (inp,) = pdu_inputs(mine, team, scenario.partners, scenario.params, policy).values()
    a = pdu_arrays(inp, scenario.params, policy)
    out = allocation.cases.reindex(a.case_ids)
    hours = out["afforded_hours"].to_numpy(dtype=float)
    partner_hours = out["partner_hours"].to_numpy(dtype=float)
    holder = pd.Index(a.practitioner_ids).get_indexer(
        out["practitioner_id"].where(out["practitioner_id"].notna(), None)
    )
    start, length = hour_segments(a, np.arange(a.n_cases), partner_hours)
    worth = segment_worth(unmet_weights(a))
    unit = staff_hour_cost(a)
    placed = holder >= 0
    value = worth - np.where(placed, unit[np.maximum(holder, 0)], 0.0)[None, :]
    filled = np.clip(hours[None, :] - start, 0.0, length)
    load = np.bincount(holder[placed], weights=hours[placed], minlength=a.n_practitioners)
    lowest = np.where(filled > HOURS_TOL, value, np.inf).min(axis=0)
    marginal = np.full(a.n_practitioners, np.inf)
    np.minimum.at(marginal, holder[placed], lowest[placed])
    marginal = np.where((load < a.capacity - HOURS_TOL) | ~np.isfinite(marginal), 0.0, marginal)
    # the pairs asked about, in the arrays' positions
    ci = pd.Index(a.case_ids).get_indexer(case_ids.to_numpy(dtype=object)[c])
    pi = pd.Index(a.practitioner_ids).get_indexer(practitioner_ids.to_numpy(dtype=object)[p])
    ok = (ci >= 0) & (pi >= 0)
    ci, pi = np.where(ok, ci, 0), np.where(ok, pi, 0)
    pool = np.zeros(len(ci))
    if policy.women_specialist_pool == "soft":
        woman = (inp.cases["sex"].astype(str) == "female").to_numpy()[ci]
        pool = np.where(
            woman & ~_specialist(team.loc[a.practitioner_ids])[pi], float(policy.specialist_pool_penalty), 0.0
        )
    net = worth[:, ci] - (unit[pi] + pool)[None, :] - marginal[pi][None, :]
    gets = np.where(net > HOURS_TOL, length[:, ci], 0.0).sum(axis=0)
    gain = (length[:, ci] * np.maximum(net, 0.0)).sum(axis=0)
    return np.where(ok, gets, 0.0), np.where(ok, gain, 0.0)


def wmt_list_order(team: pd.DataFrame, today: pd.DataFrame, params) -> np.ndarray:
    """Each practitioner's place on Manage a Workforce's choose-practitioner list (1 = top; 0 when not on it):
    the grades the list offers, highest grade first (``wmt.baseline_allocation.grade_order``), then lowest
    workload %, then id."""
    grade_rank = wmt.grade_parameter(team, params, "wmt.baseline_allocation.grade_order")
    on_list = team["grade"].astype(str).isin(LIST_GRADES).to_numpy() & (today["available_points"].to_numpy() > 0)
    order = np.lexsort((team.index.to_numpy(dtype=object).astype(str), today["workload_pct"].to_numpy(), -grade_rank))
    order = order[on_list[order]]
    place = np.zeros(len(team), dtype=np.int64)
    place[order] = np.arange(1, len(order) + 1)
    return place


def _reasons(a: dict[str, np.ndarray], rank: np.ndarray, start: np.ndarray) -> np.ndarray:
    """A one-line reason for each shortlisted practitioner's rank, in words a team manager can read.

    ``start`` is the position of each row's case's first row (the rows are in rank order within each case).
    """
    hours = _hours(np.abs(a["free_after"]))
    room = np.where(a["free_after"] >= 0, np.char.add(hours, " free after this case"), np.char.add("over by ", hours))
    fewer = a["could_give"] < a["could_give"][start] - 0.5
    more = a["could_give"] > a["could_give"][start] + 0.5
    lead = np.select(
        [a["recommended"], a["prefers"], rank == 1, fewer, more],
        [
            "recommended for this week's batch",
            "in the women's specialist pool",
            "most time for this case",
            "fewer hours for this case than the first choice",
            "more hours for this case, but the time would be missed more by their other cases",
        ],
        default="as many hours, but the time would be missed more by their other cases",
    )
    gives = np.char.add(np.char.add("; it would get about ", _hours(a["could_give"])), " of ")
    gives = np.char.add(np.char.add(gives, _hours(a["req"])), " needed")
    pct = np.char.add(np.char.add("; WMT ", np.char.mod("%.1f", a["pct_after"])), "% after")
    return np.char.add(np.char.add(np.char.add(np.char.add(lead, ": "), room), gives), pct).astype(object)


def _lead_partner(mine: pd.DataFrame, scenario: Scenario) -> np.ndarray:
    """The partner each new case could be referred to: the one serving its PDU that could deliver most of its
    need (None when none could)."""
    out = np.full(len(mine), None, dtype=object)
    partners = scenario.partners
    if not scenario.spec.policy.use_partners or partners is None or not len(partners):
        return out
    from workload.allocate.continuity import _as_tuple

    pdu = str(mine["pdu"].iloc[0])
    serving = partners[[pdu in _as_tuple(v) for v in partners["pdus"]]]
    if not len(serving):
        return out
    deliverable = partner_deliverable_hours(mine, serving)
    best = deliverable.argmax(axis=1)
    has = deliverable.max(axis=1) > 0
    out[has] = serving.index.to_numpy(dtype=object)[best[has]]
    return out


def _assignment(
    cases: pd.DataFrame,
    new: np.ndarray,
    scores: pd.DataFrame,
    allocation: lp.Allocation,
    shortlist: pd.DataFrame,
    staff: pd.DataFrame,
) -> pd.DataFrame:
    """One row per new case: the batch's practitioner, hours and partner, and the WMT list's first choice."""
    ids = cases.index[new]
    out = allocation.cases.loc[ids, ["practitioner_id", "afforded_hours", "partner_id", "partner_hours"]].copy()
    out.insert(0, "pdu", cases.loc[ids, "pdu"].astype(str))
    out.insert(1, "tier", cases.loc[ids, "tier"].astype(str))
    out.insert(2, "required_hours", scores.loc[ids, "required_hours"].to_numpy(dtype=float))
    top = shortlist[shortlist["rank"] == 1].set_index("case_id")
    out["reason"] = top["reason"].reindex(ids).to_numpy(dtype=object)
    nobody = out["practitioner_id"].isna()
    if nobody.any():
        out.loc[nobody, "reason"] = "no practitioner in the PDU may hold it (grade for the tier, case hours, or pool)"
    first_on_list = (
        shortlist[shortlist["wmt_list_position"] > 0]
        .sort_values(["case_id", "wmt_list_position"])
        .groupby("case_id")["practitioner_id"]
        .first()
    )
    out["wmt_list_first"] = first_on_list.reindex(ids).to_numpy(dtype=object)
    out.index.name = "case_id"
    return out


def _caseloads(
    staff: pd.DataFrame,
    cases: pd.DataFrame,
    new: np.ndarray,
    required: np.ndarray,
    held_required: np.ndarray,
    today: pd.DataFrame,
    after: pd.DataFrame,
    allocation: lp.Allocation,
    chosen: pd.Series,
) -> pd.DataFrame:
    """Each practitioner before and after the batch: cases, hours needed against capacity, workload %."""
    position = staff.index.get_indexer(chosen[new].where(chosen[new].notna(), None))
    placed = position >= 0
    new_count = np.bincount(position[placed], minlength=len(staff))
    new_hours = np.bincount(position[placed], weights=required[new][placed], minlength=len(staff))
    held_count = cases["current_practitioner_id"].value_counts().reindex(staff.index, fill_value=0).to_numpy()
    capacity = staff["capacity_hours"].to_numpy(dtype=float)
    needed_after = held_required + new_hours
    out = pd.DataFrame(
        {
            "pdu": staff["pdu"].astype(str),
            "grade": staff["grade"].astype(str),
            "cases_held": held_count,
            "new_cases": new_count,
            "capacity_hours": capacity,
            "hours_needed_before": held_required,
            "hours_needed_after": needed_after,
            "over_capacity_hours": np.maximum(needed_after - capacity, 0.0),
            "hours_given_after": allocation.practitioners["allocated_hours"].reindex(staff.index).to_numpy(),
            "workload_pct_today": today["workload_pct"].to_numpy(),
            "workload_pct_after": after["workload_pct"].to_numpy(),
            "wmt_flag_after": after["wmt_flag"].to_numpy(),
        },
        index=staff.index,
    )
    out.index.name = "practitioner_id"
    return out
