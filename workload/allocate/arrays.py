"""One PDU's data for the allocator's model: the quantities read from the scenario's tables and the arrays.

:func:`pdu_inputs` cuts the scenario into one :class:`PduInput` per PDU (apportioning partner contracts and the
budget between PDUs); :func:`pdu_arrays` turns one into the numpy arrays (:class:`PduArrays`) that every
``define_*`` function of :mod:`workload.allocate.model` reads. The notation is that module's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from workload.allocate import candidates
from workload.allocate.candidates import PairRule, candidate_pairs
from workload.allocate.continuity import (
    _as_tuple,
    _specialist,
    continuity_pairs,
    current_positions,
    move_budget,
)
from workload.allocate.priority import unmet_need_weight
from workload.costs import objective_weight
from workload.params import ParameterError, Parameters
from workload.scenario import NeedArea, Policy

NEED_AREAS: tuple[str, ...] = tuple(a.value for a in NeedArea)
"""Need areas a partner can deliver; the needs model writes one hours column per area."""

NEED_COLUMNS: tuple[str, ...] = tuple(f"hours_need_{a}" for a in NEED_AREAS)
"""Cases columns with the hours of each need component (``hours_need_<area>``)."""

CASE_COLUMNS: tuple[str, ...] = (
    "pdu",
    "sex",
    "tier",
    "current_practitioner_id",
    "required_hours",
    "wmt_hours",
    "hours_risk",
)
"""Cases columns the allocator always reads (plus :data:`NEED_COLUMNS` when partners are used)."""

CONTINUITY_COLUMNS: tuple[str, ...] = ("restart_hours", "move_protected")
"""Cases columns the continuity rules read when present: the relationship-building hours a move restarts
(:func:`workload.scoring.needs.restart_hours`) and whether a rebalance may move the case
(:func:`workload.scoring.needs.move_protected`). Absent, a move restarts nothing and no case is protected."""

PRACTITIONER_COLUMNS: tuple[str, ...] = (
    "pdu",
    "grade",
    "contracted_hours_per_week",
    "reduction_hours_per_week",
    "specialisms",
)
"""Practitioner columns the allocator reads."""

HOURS_TOL = 1e-6
"""Numerical guard, not a model number: hours closer than this are equal (solver tolerances are ~1e-7);
a partner link whose deliverable hours are below it is left out."""


# ----------------------------------------------------------------------------------------------------------
# quantities from the tables


def capacity_hours(practitioners: pd.DataFrame, params: Parameters) -> pd.Series:
    """Annual case hours each practitioner can give.

    ``capacity_hours[p] = productive_hours_per_fte_year * max(contracted - reduction, 0) / fte_hours_per_week
    * grade_share[grade]``, all under ``allocation.capacity``: 1,660 h for a whole-time (37 h) practitioner
    with no reductions, the hours that match the WMT's 2,176-point nominal target; SPOs get 0 by default
    (``grade_share.SPO``), as they get no available points in the WMT.

    Returns
    -------
    pd.Series
        Hours a year per practitioner, indexed like ``practitioners``, named ``capacity_hours``.
    """
    share_path = "allocation.capacity.grade_share"
    share = practitioners["grade"].map(params.table(share_path))
    if share.isna().any():
        bad = share.index[share.isna().to_numpy()][0]
        raise ParameterError(
            f"{share_path} has no entry for grade {practitioners.loc[bad, 'grade']!r} (practitioner {bad!r})"
        )
    available = (
        practitioners["contracted_hours_per_week"].astype(float)
        - practitioners["reduction_hours_per_week"].astype(float)
    ).clip(lower=0.0)
    fte = available / float(params["allocation.capacity.fte_hours_per_week"])
    hours = float(params["allocation.capacity.productive_hours_per_fte_year"]) * fte * share.astype(float)
    return hours.rename("capacity_hours")


def caseload_limit(practitioners: pd.DataFrame, params: Parameters, policy: Policy) -> pd.Series | None:
    """Most cases each practitioner may hold under the policy's caseload cap, or None without a cap.

    ``limit[p] = caseload_cap * max(contracted - reduction, 0) / allocation.capacity.fte_hours_per_week``:
    the cap is per whole-time equivalent, so a half-time practitioner holds half as many.
    """
    if policy.caseload_cap is None:
        return None
    available = (
        practitioners["contracted_hours_per_week"].astype(float)
        - practitioners["reduction_hours_per_week"].astype(float)
    ).clip(lower=0.0)
    fte = available / float(params["allocation.capacity.fte_hours_per_week"])
    return (float(policy.caseload_cap) * fte).rename("caseload_limit")


def protection_minimum(cases: pd.DataFrame, params: Parameters) -> pd.Series:
    """Fewest practitioner hours each case may be given: its public-protection minimum.

    ``floor_hours[c] = min(share[level(c)] * hours_risk[c], required_hours[c])`` with ``share`` from
    ``allocation.protection.minimum_share_of_risk_hours`` by protect level (the tier's letter; ``untiered`` for
    untiered cases): the risk-management time of an A or B case (high or very high risk of serious harm, or
    MAPPA level 2 or 3), 0 for C and D by default, never more than the case needs. Everything above it is
    shared by need (docs/model.md, "Public-protection minimums").
    """
    path = "allocation.protection.minimum_share_of_risk_hours"
    table = params.table(path)
    tier = cases["tier"].astype(str)
    letter = pd.Series(np.where(tier == "untiered", "untiered", tier.str[0]), index=cases.index)
    share = letter.map(table)
    if share.isna().any():
        first = share.index[share.isna().to_numpy()][0]
        raise ParameterError(
            f"{path} has no entry for protect level {letter[first]!r} (case {first!r}); entries are {', '.join(table)}"
        )
    risk = cases["hours_risk"].to_numpy(dtype=float)
    floor = np.minimum(share.to_numpy(dtype=float) * risk, cases["required_hours"].to_numpy(dtype=float))
    return pd.Series(np.maximum(floor, 0.0), index=cases.index, name="floor_hours")


def rationing_bands(params: Parameters) -> tuple[np.ndarray, np.ndarray]:
    """The need bands' tops (shares of required hours, rising to 1) and weights (falling), from
    ``allocation.rationing``; refused with a ParameterError unless the bands make a convex cost."""
    tops = params.table("allocation.rationing.band_top")
    weights = params.table("allocation.rationing.band_weight")
    if set(tops) != set(weights):
        raise ParameterError(
            "allocation.rationing.band_top and band_weight must name the same bands; "
            f"found {', '.join(tops)} and {', '.join(weights)}"
        )
    names = sorted(tops, key=lambda k: float(tops[k]))
    top = np.array([float(tops[k]) for k in names])
    weight = np.array([float(weights[k]) for k in names])
    if not (np.all(np.diff(top) > 0) and top[0] > 0 and abs(top[-1] - 1.0) < 1e-12):
        raise ParameterError(
            "allocation.rationing.band_top must be distinct shares above 0 with the highest exactly 1; "
            f"found {', '.join(f'{k} = {tops[k]}' for k in names)}"
        )
    if not np.all(np.diff(weight) < 0):
        raise ParameterError(
            "allocation.rationing.band_weight must fall as the band's top rises (a lower-covered hour weighs more); "
            f"found {', '.join(f'{k} = {weights[k]}' for k in names)}"
        )
    return top, weight


def staff_cost_per_hour(practitioners: pd.DataFrame, params: Parameters) -> pd.Series:
    """Cost of one hour of each practitioner, GBP, from ``costs.staff_cost_per_hour`` by grade."""
    path = "costs.staff_cost_per_hour"
    cost = practitioners["grade"].map(params.table(path))
    if cost.isna().any():
        bad = cost.index[cost.isna().to_numpy()][0]
        raise ParameterError(
            f"{path} has no entry for grade {practitioners.loc[bad, 'grade']!r} (practitioner {bad!r})"
        )
    return cost.astype(float).rename("staff_cost_per_hour")


def partner_deliverable_hours(cases: pd.DataFrame, partners: pd.DataFrame) -> np.ndarray:
    """Hours of each case's need that each partner can deliver: D[c, k], cases x partners.

    ``D[c,k] = sum over need areas a that partner k delivers of hours_need_<a>[c]``, and 0 when partner k is
    women-only and case c is not a woman. Partners deliver need components only, never the risk-management
    or relationship time a responsible practitioner gives.
    """
    if len(partners) == 0 or len(cases) == 0:
        return np.zeros((len(cases), len(partners)))
    delivers = np.array(
        [[area in _as_tuple(areas) for area in NEED_AREAS] for areas in partners["need_areas"]], dtype=float
    )
    hours = cases[list(NEED_COLUMNS)].to_numpy(dtype=float)
    deliverable = hours @ delivers.T
    women_only = partners["women_only"].to_numpy(dtype=float) > 0
    female = (cases["sex"].astype(str) == "female").to_numpy()
    deliverable[np.ix_(~female, women_only)] = 0.0
    return np.maximum(deliverable, 0.0)


# ----------------------------------------------------------------------------------------------------------
# one PDU as arrays


@dataclass(frozen=True)
class PduInput:
    """What one PDU's solve needs, cut from the whole scenario (picklable, for worker processes).

    ``cases`` and ``practitioners`` are the PDU's rows sorted by id, with the columns the model reads plus
    ``unmet_need_weight``, ``floor_hours`` (cases) and ``capacity_hours``, ``staff_cost_per_hour``,
    ``caseload_limit`` (practitioners). ``partners`` are the partners serving the PDU, sorted by id, with
    ``contract_hours_pdu`` (this PDU's share of the contract); ``deliverable`` is D[c, k] for them.
    """

    pdu: str
    cases: pd.DataFrame
    practitioners: pd.DataFrame
    partners: pd.DataFrame
    deliverable: np.ndarray
    budget_gbp: float | None


@dataclass(frozen=True)
class PduArrays:
    """One PDU as numpy arrays: the data every ``define_*`` function reads.

    Cases here are the *placeable* ones (at least one eligible practitioner); ``unplaced`` lists the others,
    which stay outside the model. Pairs are sorted by case then practitioner, so case c's pairs are
    ``pair_start[c]:pair_start[c+1]``; links (case, partner) are sorted by case then partner.
    """

    pdu: str
    case_ids: np.ndarray
    practitioner_ids: np.ndarray
    partner_ids: np.ndarray
    unplaced: np.ndarray
    required: np.ndarray
    floor: np.ndarray
    weight: np.ndarray
    current_id: np.ndarray
    current_pair: np.ndarray
    capacity: np.ndarray
    staff_cost: np.ndarray
    limit: np.ndarray | None
    pair_case: np.ndarray
    pair_prac: np.ndarray
    pair_start: np.ndarray
    pair_penalty: np.ndarray
    """Extra objective cost per hour on each pair: the soft women's pool's penalty (a woman's case with a
    non-specialist) plus, for a case with no current pair (one the allocator places), ``placement_load_weight``
    x the practitioner's load (the required hours of the cases they hold today over their capacity): among
    otherwise equal placements, the practitioner with less work."""
    link_case: np.ndarray
    link_partner: np.ndarray
    link_hours: np.ndarray
    contract: np.ndarray
    price: np.ndarray
    budget: float | None
    move_price: np.ndarray
    """Objective price of moving each case from its current practitioner, counted whole (0 for a case with no
    current pair): ``continuity_penalty + w_c * restart_hours_c``."""
    move_budget: float | None
    """Most cases the PDU may move (``rebalance``), None for no limit (``free``; ``keep`` moves none)."""
    restart: np.ndarray
    """Relationship-building hours a move restarts, per case."""
    kept: np.ndarray
    """Cases the continuity rule keeps with their current practitioner (their only pair)."""
    band_top: np.ndarray
    band_weight: np.ndarray
    shortfall_penalty: float
    overflow_penalty: float
    overflow_limit: np.ndarray
    cap_penalty: float
    cost_weight: float
    rule: PairRule | None = None
    """Set when the arrays hold candidate pairs only (a PDU above
    :data:`~workload.allocate.candidates.CANDIDATE_THRESHOLD` eligible pairs): the eligibility rule and pair
    costs the LP prices every other eligible pair with (:mod:`workload.allocate.candidates`). None: every eligible
    pair is here."""

    @property
    def n_cases(self) -> int:
        return len(self.case_ids)

    @property
    def n_practitioners(self) -> int:
        return len(self.practitioner_ids)

    @property
    def n_pairs(self) -> int:
        return len(self.pair_case)

    @property
    def n_links(self) -> int:
        return len(self.link_case)

    @property
    def choice_links(self) -> np.ndarray:
        """Links whose case has two or more partners to choose from (only these need a choice v[c,k])."""
        counts = np.bincount(self.link_case, minlength=self.n_cases)
        return counts[self.link_case] >= 2

    @property
    def moved_anyway(self) -> int:
        """Cases whose current practitioner cannot keep them (not in the PDU, no case hours, or not eligible)."""
        has_current = pd.notna(self.current_id)
        return int((has_current & (self.current_pair < 0)).sum())

    @property
    def movable(self) -> np.ndarray:
        """Cases the allocator may move: held by a practitioner who could keep them, with another pair."""
        pairs = np.diff(self.pair_start)
        return (self.current_pair >= 0) & (pairs > 1)


def pdu_arrays(inp: PduInput, params: Parameters, policy: Policy) -> PduArrays:
    """The arrays of one PDU: eligible pairs and links, bounds' data, and the objective's weights."""
    cases, practs, partners = inp.cases, inp.practitioners, inp.partners
    eligible, kept = continuity_pairs(cases, practs, params, policy)
    placeable = eligible.any(axis=1)
    unplaced = cases.index.to_numpy(dtype=object)[~placeable]
    cases = cases.loc[placeable]
    eligible, kept = eligible[placeable], kept[placeable]
    deliverable = inp.deliverable[placeable] if inp.deliverable.size else np.zeros((len(cases), len(partners)))

    n_cases = len(cases)
    practitioner_ids = practs.index.to_numpy(dtype=object)
    current_id = cases["current_practitioner_id"].to_numpy(dtype=object)
    current_pos = current_positions(cases, practs)
    has = current_pos >= 0
    has[has] = eligible[np.flatnonzero(has), current_pos[has]]  # held by a practitioner who may keep it
    capacity = practs["capacity_hours"].to_numpy(dtype=float)
    held_load = np.bincount(
        current_pos[has], weights=cases["required_hours"].to_numpy(dtype=float)[has], minlength=len(practs)
    )
    load = np.divide(held_load, capacity, out=np.zeros(len(practs)), where=capacity > 0)
    rule = PairRule(
        eligible=eligible,
        eligible_count=eligible.sum(axis=1),
        placed=~has,
        load_cost=float(params["allocation.penalties.placement_load_weight"]) * load,
        female=(cases["sex"].astype(str) == "female").to_numpy(),
        specialist=_specialist(practs),
        soft_pool=policy.women_specialist_pool == "soft",
        pool_penalty=float(policy.specialist_pool_penalty),
    )
    lazy = candidates.uses_candidates(int(np.count_nonzero(eligible)), policy)
    if lazy:
        # cases held by a practitioner who may keep them start closed (their current pair only): opened when the
        # LP's duals say a move could pay (workload.allocate.pricing.opening)
        pair_case, pair_prac = candidate_pairs(
            eligible, np.where(has, current_pos, -1), candidates.CANDIDATE_PAIRS, closed=has
        )
    else:
        pair_case, pair_prac = np.nonzero(eligible)  # row-major: sorted by case, then practitioner
    pair_start = np.concatenate([[0], np.cumsum(np.bincount(pair_case, minlength=n_cases))]).astype(np.int64)
    current_pair = np.full(n_cases, -1, dtype=np.int64)
    if has.any():
        rows = np.flatnonzero(has)
        # the pair's position among the pairs, sorted by case then practitioner (no cases x practitioners cumsum)
        current_pair[rows] = np.searchsorted(
            pair_case.astype(np.int64) * len(practs) + pair_prac,
            rows.astype(np.int64) * len(practs) + current_pos[rows],
        )
    pool_penalty = rule.penalty(pair_case, pair_prac)

    link_case, link_partner = np.nonzero(deliverable > HOURS_TOL)
    link_hours = deliverable[link_case, link_partner] if len(link_case) else np.zeros(0)

    limit = practs["caseload_limit"].to_numpy(dtype=float) if policy.caseload_cap is not None else None
    weight = cases["unmet_need_weight"].to_numpy(dtype=float)
    restart = cases["restart_hours"].to_numpy(dtype=float)
    move_price = np.where(current_pair >= 0, float(policy.continuity_penalty) + weight * restart, 0.0)
    band_top, band_weight = rationing_bands(params)
    return PduArrays(
        pdu=inp.pdu,
        case_ids=cases.index.to_numpy(dtype=object),
        practitioner_ids=practitioner_ids,
        partner_ids=partners.index.to_numpy(dtype=object),
        unplaced=unplaced,
        required=cases["required_hours"].to_numpy(dtype=float),
        floor=cases["floor_hours"].to_numpy(dtype=float),
        weight=weight,
        current_id=current_id,
        current_pair=current_pair,
        capacity=capacity,
        staff_cost=practs["staff_cost_per_hour"].to_numpy(dtype=float),
        limit=limit,
        pair_case=pair_case.astype(np.int64),
        pair_prac=pair_prac.astype(np.int64),
        pair_start=pair_start,
        pair_penalty=pool_penalty,
        link_case=link_case.astype(np.int64),
        link_partner=link_partner.astype(np.int64),
        link_hours=link_hours.astype(float),
        contract=partners["contract_hours_pdu"].to_numpy(dtype=float) if len(partners) else np.zeros(0),
        price=partners["price_per_hour"].to_numpy(dtype=float) if len(partners) else np.zeros(0),
        budget=inp.budget_gbp,
        move_price=move_price,
        move_budget=move_budget(int((current_pair >= 0).sum()), policy),
        restart=restart,
        kept=kept,
        band_top=band_top,
        band_weight=band_weight,
        shortfall_penalty=float(params["allocation.penalties.floor_shortfall_per_hour"]),
        overflow_penalty=float(params["allocation.penalties.overflow_per_hour"]),
        overflow_limit=float(params["allocation.capacity.overflow_limit_share"]) * capacity,
        cap_penalty=float(params["allocation.penalties.caseload_cap_excess_per_case"]),
        cost_weight=float(params["allocation.penalties.cost_weight_per_gbp"]),
        rule=rule if lazy else None,
    )


def pdu_inputs(
    cases: pd.DataFrame,
    practitioners: pd.DataFrame,
    partners: pd.DataFrame | None,
    params: Parameters,
    policy: Policy,
) -> dict[str, PduInput]:
    """Cut the scenario into one :class:`PduInput` per PDU with cases, in PDU order.

    Two things are shared between PDUs and are apportioned here, before PDUs are solved apart:

    - a partner serving several PDUs has its contract hours split between them in proportion to the hours
      of need it could deliver in each, ``H_kd = H_k * sum_{c in d} D[c,k] / sum_{c in k's PDUs} D[c,k]``
      (equally when it could deliver nothing anywhere);
    - the policy's budget cap is split between PDUs in proportion to their required hours,
      ``B_d = B * sum_{c in d} R_c / sum_c R_c``.

    Cases, practitioners and partners are sorted by id, so the model does not depend on input order.
    """
    check_columns(cases, practitioners, partners, policy)
    if policy.specialist_pool_penalty < 0:
        raise ValueError("policy.specialist_pool_penalty must not be negative")
    cases = cases.sort_index()
    practitioners = practitioners.sort_index()
    keep_cases = [c for c in CASE_COLUMNS if c in cases.columns]
    case_frame = cases[keep_cases].copy()
    case_frame["required_hours"] = case_frame["required_hours"].astype(float)
    case_frame["wmt_hours"] = case_frame["wmt_hours"].astype(float)
    case_frame["unmet_need_weight"] = (
        objective_weight(cases, params) if policy.objective == "whole_life_cost" else unmet_need_weight(cases, params)
    )
    case_frame["floor_hours"] = protection_minimum(cases, params)
    case_frame["restart_hours"] = (
        cases["restart_hours"].astype(float) if "restart_hours" in cases.columns else pd.Series(0.0, index=cases.index)
    )
    case_frame["move_protected"] = cases["move_protected"].astype(bool) if "move_protected" in cases.columns else False
    prac_frame = practitioners[list(PRACTITIONER_COLUMNS)].copy()
    prac_frame["capacity_hours"] = capacity_hours(practitioners, params)
    prac_frame["staff_cost_per_hour"] = staff_cost_per_hour(practitioners, params)
    limit = caseload_limit(practitioners, params, policy)
    prac_frame["caseload_limit"] = limit if limit is not None else np.inf

    use_partners = policy.use_partners and partners is not None and len(partners) > 0
    partner_frame = partners.sort_index() if use_partners and partners is not None else pd.DataFrame()
    pdus = sorted(case_frame["pdu"].astype(str).unique().tolist())
    case_groups = {pdu: frame for pdu, frame in case_frame.groupby("pdu", sort=True)}
    prac_groups = {pdu: frame for pdu, frame in prac_frame.groupby("pdu", sort=True)}
    serves: dict[str, list[str]] = {pdu: [] for pdu in pdus}
    if use_partners:
        for partner_id, served in zip(partner_frame.index, partner_frame["pdus"]):
            for pdu in _as_tuple(served):
                if pdu in serves:
                    serves[pdu].append(partner_id)

    deliverable: dict[str, np.ndarray] = {}
    demand: dict[tuple[str, str], float] = {}
    # each PDU's cases with every column, cut once (a label lookup per PDU would search all the case ids)
    full_groups = {pdu: frame for pdu, frame in cases.groupby("pdu", sort=True)} if use_partners else {}
    for pdu in pdus:
        ids = serves[pdu]
        sub = partner_frame.loc[ids] if ids else pd.DataFrame()
        matrix = partner_deliverable_hours(full_groups[pdu], sub) if ids else np.zeros((len(case_groups[pdu]), 0))
        deliverable[pdu] = matrix
        for j, partner_id in enumerate(ids):
            demand[(partner_id, pdu)] = float(matrix[:, j].sum())

    total_required = float(case_frame["required_hours"].sum())
    out: dict[str, PduInput] = {}
    for pdu in pdus:
        ids = serves[pdu]
        sub = partner_frame.loc[ids].copy() if ids else pd.DataFrame(columns=["contract_hours_pdu", "price_per_hour"])
        if ids:
            shares = []
            for partner_id in ids:
                served = [d for d in _as_tuple(partner_frame.loc[partner_id, "pdus"]) if d in serves]
                total = sum(demand.get((partner_id, d), 0.0) for d in served)
                share = demand[(partner_id, pdu)] / total if total > 0 else 1.0 / len(served)
                shares.append(share)
            sub["contract_hours_pdu"] = sub["contract_hours_per_year"].astype(float).to_numpy() * np.array(shares)
        budget = None
        if policy.budget_cap_gbp is not None:
            need = float(case_groups[pdu]["required_hours"].sum())
            budget = float(policy.budget_cap_gbp) * (need / total_required if total_required > 0 else 1.0 / len(pdus))
        out[pdu] = PduInput(
            pdu=pdu,
            cases=case_groups[pdu],
            practitioners=prac_groups.get(pdu, prac_frame.iloc[0:0]),
            partners=sub,
            deliverable=deliverable[pdu],
            budget_gbp=budget,
        )
    return out


def check_columns(
    cases: pd.DataFrame, practitioners: pd.DataFrame, partners: pd.DataFrame | None, policy: Policy
) -> None:
    """Raise ValueError naming what is missing or wrong in the frames the allocator is given."""
    needed = list(CASE_COLUMNS)
    if policy.use_partners and partners is not None and len(partners) > 0:
        needed += list(NEED_COLUMNS)
    missing = [c for c in needed if c not in cases.columns]
    if missing:
        raise ValueError(
            f"cases frame lacks column(s) {', '.join(missing)}: the allocator needs the needs model's "
            "required_hours, hours_risk and hours_need_<area> columns and the WMT baseline's wmt_hours"
        )
    missing = [c for c in PRACTITIONER_COLUMNS if c not in practitioners.columns]
    if missing:
        raise ValueError(f"practitioners frame lacks column(s) {', '.join(missing)}")
    for column in ("required_hours", "wmt_hours", "hours_risk", *[c for c in NEED_COLUMNS if c in needed]):
        values = cases[column].to_numpy(dtype=float)
        bad = ~np.isfinite(values) | (values < 0)
        if bad.any():
            first = cases.index[np.flatnonzero(bad)[0]]
            raise ValueError(
                f"cases column {column} must be a number of hours, 0 or more; case {first!r} has {values[bad][0]!r}"
            )
    if not cases.index.is_unique:
        raise ValueError("cases index (case_id) has duplicates")
    if not practitioners.index.is_unique:
        raise ValueError("practitioners index (practitioner_id) has duplicates")
