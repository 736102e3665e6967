"""The allocator's model for one PDU, defined once as arrays (linopy / PyPSA style).

A PDU's cases, practitioners and partner agencies become numpy arrays (:class:`PduArrays`); the variables
are blocks of columns (:func:`define_variables`) and every constraint family is one ``define_*`` function
that returns a block of sparse rows (CSR: ``start``, ``index``, ``value``) whose docstring writes the maths.
:func:`build_model` stacks them into one :class:`Model`: costs, bounds, CSR rows, row bounds, integrality
and (on demand) names. Both hand-offs in :mod:`workload.allocate.solvers` (arrays straight to HiGHS, or through
PuLP to CBC, HiGHS or a licensed solver) and the .lp/.mps export read this one definition.

Notation (per PDU): cases c, practitioners p, partners k; E the eligible (case, practitioner) pairs, Q the
eligible (case, partner) links. R_c required hours, F_c statutory floor, w_c unmet-need weight, K_p capacity
hours, L_p caseload limit, g_p staff cost per hour, D_ck hours of case c's need components partner k
delivers, H_k partner k's contract hours for this PDU, h_k its price per hour, B the PDU's budget.

Variables: y[c,p] practitioner hours (pair), z[c,k] partner hours (link); a case's unmet hours in three
pieces, u1_c above its coverage target, u2_c between its floor and the target, and s_c inside its statutory
floor (the floor shortfall); o_p hours over capacity, q_p cases over the caseload cap; and, in the explicit
form, x[c,p] responsibility and v[c,k] referral (binary in the exact MIP).

The LP relaxation without a caseload cap uses the *projected* form, which leaves x and v out: with
x[c,p] >= y[c,p] / R_c and sum_p x[c,p] = 1, the cheapest x puts all the mass not forced elsewhere on the
current practitioner, so the continuity penalty pi (1 - x[c, current]) becomes pi / R_c per hour a
non-current practitioner gives; likewise the referral rows become sum_k z[c,k] / D_ck <= 1. The optimum
is the same with half the columns and a tenth of the rows (docs/model.md, "The LP allocator"; a test holds the two
forms to the same optimum).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
import pandas as pd

from workload.allocate.baseline import highest_protect_level, protect_level
from workload.allocate.objective import (
    above_target_cap,
    pair_hour_cost,
    partner_hour_cost,
    unmet_bands,
    unmet_caps,
    unmet_weights,
)
from workload.allocate.priority import unmet_need_weight
from workload.params import ParameterError, Parameters
from workload.scenario import NeedArea, Policy

NEED_AREAS: tuple[str, ...] = tuple(a.value for a in NeedArea)
"""Need areas a partner can deliver; the needs model writes one hours column per area."""

NEED_COLUMNS: tuple[str, ...] = tuple(f"hours_need_{a}" for a in NEED_AREAS)
"""Cases columns with the hours of each need component (``hours_need_<area>``)."""

CASE_COLUMNS: tuple[str, ...] = ("pdu", "sex", "tier", "current_practitioner_id", "required_hours", "wmt_hours")
"""Cases columns the allocator always reads (plus :data:`NEED_COLUMNS` when partners are used)."""

PRACTITIONER_COLUMNS: tuple[str, ...] = (
    "pdu",
    "grade",
    "contracted_hours_per_week",
    "reduction_hours_per_week",
    "specialisms",
)
"""Practitioner columns the allocator reads."""

WOMEN_SPECIALISM = "women"
"""The specialism that admits a practitioner to the women's specialist pool."""

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


def statutory_floor(cases: pd.DataFrame, params: Parameters) -> pd.Series:
    """Fewest practitioner hours each case may be given: its statutory floor.

    ``floor_hours[c] = min(allocation.floor.share_of_tier_hours * wmt_hours[c], required_hours[c])``: a share
    (0.7 by default) of the 2021 tiering timing of the case's tier and type, never more than the case needs.
    """
    share = float(params["allocation.floor.share_of_tier_hours"])
    floor = np.minimum(share * cases["wmt_hours"].to_numpy(dtype=float), cases["required_hours"].to_numpy(dtype=float))
    return pd.Series(np.maximum(floor, 0.0), index=cases.index, name="floor_hours")


def staff_cost_per_hour(practitioners: pd.DataFrame, params: Parameters) -> pd.Series:
    """Cost of one hour of each practitioner, GBP, from ``costs.staff_cost_per_hour`` by grade."""
    path = "costs.staff_cost_per_hour"
    cost = practitioners["grade"].map(params.table(path))
    if cost.isna().any():
        bad = cost.index[cost.isna().to_numpy()][0]
        raise ParameterError(f"{path} has no entry for grade {practitioners.loc[bad, 'grade']!r} (practitioner {bad!r})")
    return cost.astype(float).rename("staff_cost_per_hour")


def _as_tuple(value: object) -> tuple[str, ...]:
    """A list-like cell (tuple from the loader, or a ';'-joined string) as a tuple of strings."""
    if isinstance(value, str):
        return tuple(v.strip() for v in value.split(";") if v.strip())
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ()
    return tuple(str(v) for v in cast(Iterable[Any], value))


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
    pair_pool_penalty: np.ndarray
    link_case: np.ndarray
    link_partner: np.ndarray
    link_hours: np.ndarray
    contract: np.ndarray
    price: np.ndarray
    budget: float | None
    continuity_penalty: float
    coverage_target: float
    below_target_multiplier: float
    shortfall_penalty: float
    overflow_penalty: float
    overflow_limit: np.ndarray
    cap_penalty: float
    cost_weight: float

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
        """Cases whose current practitioner cannot keep them (not eligible, or not in the PDU)."""
        has_current = pd.notna(self.current_id)
        return int((has_current & (self.current_pair < 0)).sum())


def eligible_pairs(cases: pd.DataFrame, practitioners: pd.DataFrame, params: Parameters, policy: Policy) -> np.ndarray:
    """Which practitioner may hold which case: a boolean matrix, cases x practitioners (one PDU).

    A pair (c, p) is eligible when p has capacity (``capacity_hours > 0``), p's grade may hold c's protect
    level (``wmt.baseline_allocation.highest_protect_level``: no A or B tier for PSOs; the same rule as the
    baseline) and, under a *hard* women's specialist pool, a woman's case goes only to practitioners with the
    ``women`` specialism.
    """
    has_capacity = practitioners["capacity_hours"].to_numpy(dtype=float) > 0
    case_level = protect_level(cases).to_numpy()
    highest = highest_protect_level(practitioners, params).to_numpy()
    eligible = (case_level[:, None] >= highest[None, :]) & has_capacity[None, :]
    if policy.women_specialist_pool == "hard":
        female = (cases["sex"].astype(str) == "female").to_numpy()
        specialist = _specialist(practitioners)
        eligible &= ~female[:, None] | specialist[None, :]
    return eligible


def _specialist(practitioners: pd.DataFrame) -> np.ndarray:
    return np.array([WOMEN_SPECIALISM in _as_tuple(s) for s in practitioners["specialisms"]], dtype=bool)


def pdu_arrays(inp: PduInput, params: Parameters, policy: Policy) -> PduArrays:
    """The arrays of one PDU: eligible pairs and links, bounds' data, and the objective's weights."""
    cases, practs, partners = inp.cases, inp.practitioners, inp.partners
    eligible = eligible_pairs(cases, practs, params, policy)
    placeable = eligible.any(axis=1)
    unplaced = cases.index.to_numpy(dtype=object)[~placeable]
    cases = cases.loc[placeable]
    eligible = eligible[placeable]
    deliverable = inp.deliverable[placeable] if inp.deliverable.size else np.zeros((len(cases), len(partners)))

    pair_case, pair_prac = np.nonzero(eligible)  # row-major: sorted by case, then practitioner
    n_cases = len(cases)
    pair_start = np.concatenate([[0], np.cumsum(np.bincount(pair_case, minlength=n_cases))]).astype(np.int64)

    practitioner_ids = practs.index.to_numpy(dtype=object)
    current_id = cases["current_practitioner_id"].to_numpy(dtype=object)
    current_pos = pd.Index(practitioner_ids).get_indexer(pd.Series(current_id).where(pd.notna(current_id), None))
    current_pair = np.full(n_cases, -1, dtype=np.int64)
    has = current_pos >= 0
    if has.any():
        rows = np.flatnonzero(has)
        ok = eligible[rows, current_pos[rows]]
        rows = rows[ok]
        # the pair's position: pairs before it in its case's segment are the eligible practitioners before it
        before = np.cumsum(eligible, axis=1)[rows, current_pos[rows]] - 1
        current_pair[rows] = pair_start[rows] + before

    female = (cases["sex"].astype(str) == "female").to_numpy()
    pool_penalty = np.zeros(len(pair_case))
    if policy.women_specialist_pool == "soft":
        specialist = _specialist(practs)
        pool_penalty = np.where(female[pair_case] & ~specialist[pair_prac], float(policy.specialist_pool_penalty), 0.0)

    link_case, link_partner = np.nonzero(deliverable > HOURS_TOL)
    link_hours = deliverable[link_case, link_partner] if len(link_case) else np.zeros(0)

    capacity = practs["capacity_hours"].to_numpy(dtype=float)
    limit = practs["caseload_limit"].to_numpy(dtype=float) if policy.caseload_cap is not None else None
    return PduArrays(
        pdu=inp.pdu,
        case_ids=cases.index.to_numpy(dtype=object),
        practitioner_ids=practitioner_ids,
        partner_ids=partners.index.to_numpy(dtype=object),
        unplaced=unplaced,
        required=cases["required_hours"].to_numpy(dtype=float),
        floor=cases["floor_hours"].to_numpy(dtype=float),
        weight=cases["unmet_need_weight"].to_numpy(dtype=float),
        current_id=current_id,
        current_pair=current_pair,
        capacity=capacity,
        staff_cost=practs["staff_cost_per_hour"].to_numpy(dtype=float),
        limit=limit,
        pair_case=pair_case.astype(np.int64),
        pair_prac=pair_prac.astype(np.int64),
        pair_start=pair_start,
        pair_pool_penalty=pool_penalty,
        link_case=link_case.astype(np.int64),
        link_partner=link_partner.astype(np.int64),
        link_hours=link_hours.astype(float),
        contract=partners["contract_hours_pdu"].to_numpy(dtype=float) if len(partners) else np.zeros(0),
        price=partners["price_per_hour"].to_numpy(dtype=float) if len(partners) else np.zeros(0),
        budget=inp.budget_gbp,
        continuity_penalty=float(policy.continuity_penalty),
        coverage_target=float(params["allocation.priority.coverage_target_share"]),
        below_target_multiplier=float(params["allocation.priority.below_target_multiplier"]),
        shortfall_penalty=float(params["allocation.penalties.floor_shortfall_per_hour"]),
        overflow_penalty=float(params["allocation.penalties.overflow_per_hour"]),
        overflow_limit=float(params["allocation.capacity.overflow_limit_share"]) * capacity,
        cap_penalty=float(params["allocation.penalties.caseload_cap_excess_per_case"]),
        cost_weight=float(params["allocation.penalties.cost_weight_per_gbp"]),
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
    case_frame["unmet_need_weight"] = unmet_need_weight(cases, params)
    case_frame["floor_hours"] = statutory_floor(cases, params)
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
    for pdu in pdus:
        ids = serves[pdu]
        sub = partner_frame.loc[ids] if ids else pd.DataFrame()
        matrix = partner_deliverable_hours(cases.loc[case_groups[pdu].index], sub) if ids else np.zeros((len(case_groups[pdu]), 0))
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
            "required_hours and hours_need_<area> columns and the WMT baseline's wmt_hours"
        )
    missing = [c for c in PRACTITIONER_COLUMNS if c not in practitioners.columns]
    if missing:
        raise ValueError(f"practitioners frame lacks column(s) {', '.join(missing)}")
    for column in ("required_hours", "wmt_hours", *[c for c in NEED_COLUMNS if c in needed]):
        values = cases[column].to_numpy(dtype=float)
        bad = ~np.isfinite(values) | (values < 0)
        if bad.any():
            first = cases.index[np.flatnonzero(bad)[0]]
            raise ValueError(f"cases column {column} must be a number of hours, 0 or more; case {first!r} has {values[bad][0]!r}")
    if not cases.index.is_unique:
        raise ValueError("cases index (case_id) has duplicates")
    if not practitioners.index.is_unique:
        raise ValueError("practitioners index (practitioner_id) has duplicates")


# ----------------------------------------------------------------------------------------------------------
# variables and constraint families


@dataclass(frozen=True)
class ColumnBlock:
    """One family of variables: its bounds, objective cost, integrality and the ids that label it."""

    name: str
    lower: np.ndarray
    upper: np.ndarray
    cost: np.ndarray
    integer: bool
    labels: list[np.ndarray]

    @property
    def size(self) -> int:
        return len(self.lower)


@dataclass(frozen=True)
class RowBlock:
    """One constraint family as CSR rows over the model's columns, with row bounds and labels."""

    name: str
    start: np.ndarray
    index: np.ndarray
    value: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    labels: list[np.ndarray]

    @property
    def size(self) -> int:
        return len(self.lower)


def _csr(name: str, n_rows: int, row: np.ndarray, col: np.ndarray, val: np.ndarray,
         lower: np.ndarray, upper: np.ndarray, labels: list[np.ndarray]) -> RowBlock:
    """A RowBlock from coordinate entries (row, col, val); entries are ordered by row, stably."""
    order = np.argsort(row, kind="stable")
    start = np.concatenate([[0], np.cumsum(np.bincount(row, minlength=n_rows))]).astype(np.int64)
    return RowBlock(name, start, col[order].astype(np.int32), val[order].astype(float),
                    np.asarray(lower, dtype=float), np.asarray(upper, dtype=float), labels)


@dataclass(frozen=True)
class Layout:
    """Where each variable block starts in the column vector."""

    offsets: dict[str, int]
    sizes: dict[str, int]

    def slice(self, name: str) -> slice:
        return slice(self.offsets[name], self.offsets[name] + self.sizes[name])

    def cols(self, name: str, positions: np.ndarray) -> np.ndarray:
        return self.offsets[name] + np.asarray(positions, dtype=np.int64)


def define_variables(
    a: PduArrays, explicit: bool, integral: bool, explicit_partner: bool = False
) -> tuple[list[ColumnBlock], float]:
    """Variable blocks with bounds and objective costs, and the objective's constant.

    Objective (minimised, in weighted hours)::

        sum_c w_c (u1_c + m u2_c + m s_c)                           unmet need (m below the coverage target)
      + lambda (sum_(c,p) g_p y[c,p] + sum_(c,k) h_k z[c,k])         staff and partner cost
      + pi_pool sum_(c,p): c a woman, p not a specialist  y[c,p]     soft women's specialist pool
      + pi * (number of cases moved)                                 continuity
      + pi_s sum_c s_c + pi_o sum_p o_p + pi_q sum_p q_p             floor shortfall, overflow, cap excess

    Moves: explicit form ``pi * sum_c (1 - x[c, current_c])``; projected form ``pi / R_c`` per hour a
    non-current practitioner gives. Cases whose current practitioner cannot hold them count as moved in
    the constant. Bounds: 0 <= y[c,p] <= R_c; 0 <= z[c,k] <= min(D_ck, R_c - F_c) (partners never give
    the floor); 0 <= u1_c <= R_c - max(F_c, theta R_c); 0 <= u2_c <= max(theta R_c - F_c, 0);
    0 <= s_c <= F_c; 0 <= o_p <= rho K_p; q_p >= 0; x, v in [0, 1] (binary when
    integral). x is present when ``explicit``; v when ``explicit_partner``, and then only for cases with
    two or more partner links (a case with one link needs no choice).

    The per-hour costs (``lambda g_p + pi_pool``, ``lambda h_k``) and the unmet bands' bounds and weights are
    :mod:`workload.allocate.objective`'s, the functions rounding, local search and polishing price with.
    """
    C, P, E, Q = a.n_cases, a.n_practitioners, a.n_pairs, a.n_links
    R = a.required
    pi = a.continuity_penalty
    has_current = a.current_pair >= 0

    y_cost = pair_hour_cost(a)
    constant = pi * a.moved_anyway
    if not explicit and pi > 0:
        not_current = has_current[a.pair_case] & (np.arange(E) != a.current_pair[a.pair_case])
        with np.errstate(divide="ignore", invalid="ignore"):
            per_hour = np.where(R[a.pair_case] > 0, pi / R[a.pair_case], 0.0)
        y_cost = y_cost + np.where(not_current, per_hour, 0.0)
    pair_labels = [a.case_ids[a.pair_case], a.practitioner_ids[a.pair_prac]]
    link_labels = [a.case_ids[a.link_case], a.partner_ids[a.link_partner]]
    blocks = [ColumnBlock("y", np.zeros(E), R[a.pair_case].copy(), y_cost, False, pair_labels)]
    if explicit:
        x_cost = np.zeros(E)
        x_cost[a.current_pair[has_current]] = -pi
        constant += pi * int(has_current.sum())
        blocks.append(ColumnBlock("x", np.zeros(E), np.ones(E), x_cost, integral, pair_labels))
    z_upper = np.minimum(a.link_hours, R[a.link_case] - a.floor[a.link_case])
    blocks.append(ColumnBlock("z", np.zeros(Q), z_upper, partner_hour_cost(a)[a.link_partner], False, link_labels))
    if explicit_partner:
        choice = a.choice_links
        n_choice = int(choice.sum())
        blocks.append(ColumnBlock("v", np.zeros(n_choice), np.ones(n_choice), np.zeros(n_choice), integral,
                                  [labels[choice] for labels in link_labels]))
    caps, weights = unmet_caps(a), unmet_weights(a)
    blocks += [
        ColumnBlock("u1", np.zeros(C), caps.above, weights.above.copy(), False, [a.case_ids]),
        ColumnBlock("u2", np.zeros(C), caps.below, weights.below, False, [a.case_ids]),
        ColumnBlock("s", np.zeros(C), caps.floor.copy(), weights.floor, False, [a.case_ids]),
        ColumnBlock("o", np.zeros(P), a.overflow_limit.copy(), np.full(P, a.overflow_penalty), False, [a.practitioner_ids]),
    ]
    if a.limit is not None:
        blocks.append(ColumnBlock("q", np.zeros(P), np.full(P, float(max(C, 1))), np.full(P, a.cap_penalty), False, [a.practitioner_ids]))
    return blocks, float(constant)


def define_hours(a: PduArrays, lay: Layout) -> RowBlock:
    """Hours are conserved: what a case gets plus what it lacks is what it needs.

    ``sum_p y[c,p] + sum_k z[c,k] + u1_c + u2_c + s_c = R_c`` for every case c.
    """
    C = a.n_cases
    cases = np.arange(C)
    row = np.concatenate([a.pair_case, a.link_case, cases, cases, cases])
    col = np.concatenate([lay.cols("y", np.arange(a.n_pairs)), lay.cols("z", np.arange(a.n_links)),
                          lay.cols("u1", cases), lay.cols("u2", cases), lay.cols("s", cases)])
    return _csr("hours", C, row, col, np.ones(len(row)), a.required, a.required, [a.case_ids])


def define_floors(a: PduArrays, lay: Layout) -> RowBlock:
    """The statutory floor: practitioner hours reach the floor, or the shortfall s_c is counted.

    The floor is ``sum_p y[c,p] + s_c >= F_c``. With the hours row, it is the same as
    ``sum_k z[c,k] + u1_c + u2_c <= R_c - F_c``; for a case without partner links the bounds of u1 and u2
    (which add up to R_c - F_c) already say so, so rows are needed only for cases with a partner link,
    and they hold no y: the floor costs no entries in the practitioner columns.
    """
    cases = np.unique(a.link_case)
    n = len(cases)
    position = np.full(a.n_cases, -1, dtype=np.int64)
    position[cases] = np.arange(n)
    row = np.concatenate([position[a.link_case], np.arange(n), np.arange(n)])
    col = np.concatenate([lay.cols("z", np.arange(a.n_links)), lay.cols("u1", cases), lay.cols("u2", cases)])
    upper = a.required[cases] - a.floor[cases]
    return _csr("floor", n, row, col, np.ones(len(row)), np.full(n, -np.inf), upper, [a.case_ids[cases]])


def define_capacity(a: PduArrays, lay: Layout) -> RowBlock:
    """Practitioner capacity in hours, with overflow counted.

    ``sum over cases c of y[c,p] - o_p <= K_p`` for every practitioner p (o_p <= rho K_p is a bound).
    """
    P = a.n_practitioners
    practs = np.arange(P)
    row = np.concatenate([a.pair_prac, practs])
    col = np.concatenate([lay.cols("y", np.arange(a.n_pairs)), lay.cols("o", practs)])
    val = np.concatenate([np.ones(a.n_pairs), -np.ones(P)])
    return _csr("capacity", P, row, col, val, np.full(P, -np.inf), a.capacity, [a.practitioner_ids])


def define_partner_contracts(a: PduArrays, lay: Layout) -> RowBlock:
    """Partner hours stay within each partner's contract (this PDU's share of it).

    ``sum over cases c of z[c,k] <= H_k`` for every partner k.
    """
    K = len(a.partner_ids)
    row = a.link_partner
    col = lay.cols("z", np.arange(a.n_links))
    return _csr("contract", K, row, col, np.ones(len(row)), np.full(K, -np.inf), a.contract, [a.partner_ids])


def define_partner_choice(a: PduArrays, lay: Layout, explicit_partner: bool) -> list[RowBlock]:
    """At most one partner per case, and partner hours only for what that partner delivers.

    Only cases with two or more partner links need a rule (with one link, the bound z[c,k] <= D_ck says
    it all). Explicit form: ``z[c,k] - D_ck v[c,k] <= 0`` for each of their links and
    ``sum_k v[c,k] <= 1`` for each such case. Projected form (LP): ``sum_k z[c,k] / D_ck <= 1``.
    """
    links = np.flatnonzero(a.choice_links)
    multi = np.unique(a.link_case[links])
    position = np.full(a.n_cases, -1, dtype=np.int64)
    position[multi] = np.arange(len(multi))
    n, q = len(multi), len(links)
    labels = [a.case_ids[multi]]
    if explicit_partner:
        v = np.arange(q)
        row = np.concatenate([v, v])
        col = np.concatenate([lay.cols("z", links), lay.cols("v", v)])
        val = np.concatenate([np.ones(q), -a.link_hours[links]])
        scope = _csr("partner_scope", q, row, col, val, np.full(q, -np.inf), np.zeros(q),
                     [a.case_ids[a.link_case[links]], a.partner_ids[a.link_partner[links]]])
        one = _csr("one_partner", n, position[a.link_case[links]], lay.cols("v", v), np.ones(q),
                   np.full(n, -np.inf), np.ones(n), labels)
        return [scope, one]
    return [_csr("one_partner", n, position[a.link_case[links]], lay.cols("z", links),
                 1.0 / a.link_hours[links], np.full(n, -np.inf), np.ones(n), labels)]


def define_assignment(a: PduArrays, lay: Layout) -> list[RowBlock]:
    """Each case has exactly one responsible practitioner, who gives all its practitioner hours.

    ``sum_p x[c,p] = 1`` for every case c, and ``y[c,p] - R_c x[c,p] <= 0`` for every eligible pair.
    (Explicit form only; the projected LP leaves x out, see the module docstring.)
    """
    C, E = a.n_cases, a.n_pairs
    pairs = np.arange(E)
    one = _csr("assign", C, a.pair_case, lay.cols("x", pairs), np.ones(E), np.ones(C), np.ones(C), [a.case_ids])
    row = np.concatenate([pairs, pairs])
    col = np.concatenate([lay.cols("y", pairs), lay.cols("x", pairs)])
    val = np.concatenate([np.ones(E), -a.required[a.pair_case]])
    link = _csr("responsible", E, row, col, val, np.full(E, -np.inf), np.zeros(E),
                [a.case_ids[a.pair_case], a.practitioner_ids[a.pair_prac]])
    return [one, link]


def define_caseload_cap(a: PduArrays, lay: Layout) -> RowBlock:
    """The policy's caseload cap, with any excess counted.

    ``sum over cases c of x[c,p] - q_p <= L_p`` for every practitioner p (explicit form, used whenever a
    cap is set).
    """
    assert a.limit is not None
    P = a.n_practitioners
    practs = np.arange(P)
    row = np.concatenate([a.pair_prac, practs])
    col = np.concatenate([lay.cols("x", np.arange(a.n_pairs)), lay.cols("q", practs)])
    val = np.concatenate([np.ones(a.n_pairs), -np.ones(P)])
    return _csr("caseload", P, row, col, val, np.full(P, -np.inf), a.limit, [a.practitioner_ids])


def define_budget(a: PduArrays, lay: Layout) -> RowBlock:
    """The budget cap (this PDU's share): staff plus partner cost.

    ``sum_(c,p) g_p y[c,p] + sum_(c,k) h_k z[c,k] <= B``.
    """
    assert a.budget is not None
    col = np.concatenate([lay.cols("y", np.arange(a.n_pairs)), lay.cols("z", np.arange(a.n_links))])
    val = np.concatenate([a.staff_cost[a.pair_prac], a.price[a.link_partner]])
    return _csr("budget", 1, np.zeros(len(col), dtype=np.int64), col, val, np.array([-np.inf]),
                np.array([a.budget]), [np.array([a.pdu], dtype=object)])


# ----------------------------------------------------------------------------------------------------------
# the model


@dataclass
class Model:
    """One PDU's model: columns (cost, bounds, integrality), CSR rows (with bounds), and their families.

    ``explicit`` says whether the responsibility variables x[c,p] are in the model, ``explicit_partner``
    whether the referral variables v[c,k] are; ``integral`` whether those present are binary. ``blocks`` and ``families`` map each variable
    block and constraint family to its slice of columns and rows.
    """

    arrays: PduArrays
    explicit: bool
    explicit_partner: bool
    integral: bool
    cost: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    integrality: np.ndarray
    offset: float
    start: np.ndarray
    index: np.ndarray
    value: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    blocks: dict[str, slice]
    families: dict[str, slice]
    layout: Layout
    _column_blocks: list[ColumnBlock] = field(repr=False, default_factory=list)
    _row_blocks: list[RowBlock] = field(repr=False, default_factory=list)

    @property
    def n_cols(self) -> int:
        return len(self.cost)

    @property
    def n_rows(self) -> int:
        return len(self.row_lower)

    def column_names(self) -> list[str]:
        """Readable names, e.g. ``y_C001_P01`` (hours of P01 on C001), ``u1_C001``, ``o_P01``."""
        return [f"{b.name}_" + "_".join(str(part) for part in parts)
                for b in self._column_blocks for parts in zip(*b.labels)]

    def row_names(self) -> list[str]:
        """Readable names, e.g. ``capacity_P01``, ``floor_C001``, ``contract_WC1``."""
        return [f"{b.name}_" + "_".join(str(part) for part in parts)
                for b in self._row_blocks for parts in zip(*b.labels)]

    def objective(self, values: np.ndarray) -> float:
        """Objective value of a column vector (offset included)."""
        return float(self.cost @ values + self.offset)

    def row_activity(self, values: np.ndarray) -> np.ndarray:
        """A @ values for the CSR rows."""
        counts = np.diff(self.start)
        rows = np.repeat(np.arange(self.n_rows), counts)
        return np.bincount(rows, weights=self.value * values[self.index], minlength=self.n_rows)

    def violations(self, values: np.ndarray, tol: float = 1e-6) -> list[str]:
        """Names of rows and columns whose bounds ``values`` break by more than ``tol`` (scaled by size)."""
        out: list[str] = []
        act = self.row_activity(values)
        scale = 1.0 + np.abs(np.where(np.isfinite(self.row_upper), self.row_upper, np.where(np.isfinite(self.row_lower), self.row_lower, 0.0)))
        bad_rows = np.flatnonzero((act < self.row_lower - tol * scale) | (act > self.row_upper + tol * scale))
        bad_cols = np.flatnonzero((values < self.lower - tol * (1 + np.abs(self.lower)))
                                  | (values > self.upper + tol * (1 + np.abs(self.upper))))
        if len(bad_rows):
            names = self.row_names()
            out += [f"{names[i]}: {act[i]:.6g} not in [{self.row_lower[i]:.6g}, {self.row_upper[i]:.6g}]" for i in bad_rows]
        if len(bad_cols):
            names = self.column_names()
            out += [f"{names[i]}: {values[i]:.6g} not in [{self.lower[i]:.6g}, {self.upper[i]:.6g}]" for i in bad_cols]
        if self.integral:
            frac = np.flatnonzero((self.integrality > 0) & (np.abs(values - np.round(values)) > tol))
            if len(frac):
                names = self.column_names()
                out += [f"{names[i]}: {values[i]:.6g} is not whole" for i in frac]
        return out

    def solution_vector(
        self,
        pair: np.ndarray,
        hours: np.ndarray,
        link: np.ndarray,
        partner_hours: np.ndarray,
    ) -> np.ndarray:
        """The column vector of a one-practitioner allocation, to price it and check it against the rows.

        ``pair[c]`` is the chosen pair of case c, ``hours[c]`` its practitioner hours, ``link[c]`` its partner
        link (-1 for none) and ``partner_hours[c]`` the partner's hours. s takes the floor shortfall and the
        rest of the unmet hours fill u1, then u2; o and q take the hours over capacity and cases over the
        cap (so o or q can break their bounds when the allocation breaks a rule, which :meth:`violations`
        then names).
        """
        a = self.arrays
        lay = self.layout
        values = np.zeros(self.n_cols)
        values[lay.cols("y", pair)] = hours
        has_link = link >= 0
        values[lay.cols("z", link[has_link])] = partner_hours[has_link]
        if self.explicit:
            values[lay.cols("x", pair)] = 1.0
        if self.explicit_partner:
            choice = self.arrays.choice_links
            v_position = np.cumsum(choice) - 1
            chosen = link[has_link]
            chosen = chosen[choice[chosen]]
            values[lay.cols("v", v_position[chosen])] = 1.0
        bands = unmet_bands(a.required, a.floor, above_target_cap(a.required, a.floor, a.coverage_target), hours, partner_hours)
        values[lay.slice("u1")] = bands.above
        values[lay.slice("u2")] = bands.below
        values[lay.slice("s")] = bands.floor
        load = np.bincount(a.pair_prac[pair], weights=hours, minlength=a.n_practitioners)
        values[lay.slice("o")] = np.maximum(load - a.capacity, 0.0)
        if a.limit is not None:
            count = np.bincount(a.pair_prac[pair], minlength=a.n_practitioners)
            values[lay.slice("q")] = np.maximum(count - a.limit, 0.0)
        return values

    def integral_objective(self, values: np.ndarray, pair: np.ndarray) -> float:
        """Objective of a one-practitioner allocation (from :meth:`solution_vector`), moves counted whole.

        In the projected form the continuity penalty sits on y per hour; for a whole allocation it is
        replaced by pi for each case not with its current practitioner.
        """
        if self.explicit:
            return self.objective(values)
        a = self.arrays
        y = values[self.layout.slice("y")]
        cost_without = self._y_cost_without_continuity()
        y_sl = self.layout.slice("y")
        total = float(self.cost @ values) - float(self.cost[y_sl] @ y) + float(cost_without @ y)
        has_current = a.current_pair >= 0
        moved = has_current & (pair != a.current_pair)
        return total + self.offset + a.continuity_penalty * int(moved.sum())

    def _y_cost_without_continuity(self) -> np.ndarray:
        return pair_hour_cost(self.arrays)


def build_model(
    a: PduArrays, explicit: bool | None = None, integral: bool = False, explicit_partner: bool | None = None
) -> Model:
    """Stack the variable blocks and every constraint family of one PDU into a :class:`Model`.

    ``explicit`` defaults to ``integral or a caseload cap is set`` (the cap counts cases, which needs x),
    ``explicit_partner`` to ``integral``; otherwise the LP uses the projected form, whose optimum is the
    same (module docstring). The rounding MIP is ``integral=True, explicit_partner=False``: binary
    responsibility, with the one-partner rule left to rounding.
    """
    if explicit is None:
        explicit = integral or a.limit is not None
    if explicit_partner is None:
        explicit_partner = integral
    if integral and not explicit:
        raise ValueError("the integral model needs the explicit responsibility variables")
    columns, constant = define_variables(a, explicit, integral, explicit_partner)
    offsets: dict[str, int] = {}
    sizes: dict[str, int] = {}
    position = 0
    for block in columns:
        offsets[block.name] = position
        sizes[block.name] = block.size
        position += block.size
    lay = Layout(offsets, sizes)
    rows: list[RowBlock] = [define_hours(a, lay), define_capacity(a, lay)]
    if a.n_links:
        rows.append(define_floors(a, lay))
        rows.append(define_partner_contracts(a, lay))
        rows += define_partner_choice(a, lay, explicit_partner)
    if explicit:
        rows += define_assignment(a, lay)
    if a.limit is not None:
        rows.append(define_caseload_cap(a, lay))
    if a.budget is not None:
        rows.append(define_budget(a, lay))

    starts = [np.zeros(1, dtype=np.int64)]
    nnz = 0
    families: dict[str, slice] = {}
    r = 0
    for row_block in rows:
        starts.append(row_block.start[1:] + nnz)
        nnz += int(row_block.start[-1])
        families[row_block.name] = slice(r, r + row_block.size)
        r += row_block.size
    integer = np.concatenate([np.full(b.size, 1 if b.integer else 0, dtype=np.uint8) for b in columns])
    return Model(
        arrays=a,
        explicit=explicit,
        explicit_partner=explicit_partner,
        integral=integral,
        cost=np.concatenate([b.cost for b in columns]).astype(float),
        lower=np.concatenate([b.lower for b in columns]).astype(float),
        upper=np.concatenate([b.upper for b in columns]).astype(float),
        integrality=integer,
        offset=constant,
        start=np.concatenate(starts).astype(np.int64),
        index=np.concatenate([b.index for b in rows]).astype(np.int32) if rows else np.zeros(0, dtype=np.int32),
        value=np.concatenate([b.value for b in rows]).astype(float) if rows else np.zeros(0),
        row_lower=np.concatenate([b.lower for b in rows]).astype(float),
        row_upper=np.concatenate([b.upper for b in rows]).astype(float),
        blocks={name: lay.slice(name) for name in offsets},
        families=families,
        layout=lay,
        _column_blocks=columns,
        _row_blocks=rows,
    )


def build_pdu_model(
    cases: pd.DataFrame,
    practitioners: pd.DataFrame,
    partners: pd.DataFrame | None,
    params: Parameters,
    policy: Policy,
    pdu: str,
) -> Model:
    """The model of one PDU straight from the scenario's frames (exact MIP when ``policy.exact``)."""
    inputs = pdu_inputs(cases, practitioners, partners, params, policy)
    if pdu not in inputs:
        raise ValueError(f"PDU {pdu!r} has no cases; PDUs with cases are {', '.join(inputs)}")
    return build_model(pdu_arrays(inputs[pdu], params, policy), integral=policy.exact)
