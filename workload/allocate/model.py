"""The allocator's model for one PDU, defined once as arrays (linopy / PyPSA style).

A PDU's cases, practitioners and partner agencies become numpy arrays (:class:`PduArrays`); the variables
are blocks of columns (:func:`define_variables`) and every constraint family is one ``define_*`` function
that returns a block of sparse rows (CSR: ``start``, ``index``, ``value``) whose docstring writes the maths.
:func:`build_model` stacks them into one :class:`Model`: costs, bounds, CSR rows, row bounds, integrality
and (on demand) names. Both hand-offs in :mod:`workload.allocate.solvers` (arrays straight to HiGHS, or through
PuLP to CBC, HiGHS or a licensed solver) and the .lp/.mps export read this one definition.

Notation (per PDU): cases c, practitioners p, partners k; E the eligible (case, practitioner) pairs, Q the
eligible (case, partner) links. R_c required hours, F_c public-protection minimum, w_c unmet-need weight, K_p capacity
hours, L_p caseload limit, g_p staff cost per hour, D_ck hours of case c's need components partner k
delivers, H_k partner k's contract hours for this PDU, h_k its price per hour, B the PDU's budget.

Variables: y[c,p] practitioner hours (pair), z[c,k] partner hours (link); a case's unmet hours in three
bands, u1_c ... uK_c by coverage (u1 the lowest: the need bands, allocation.rationing), and s_c inside its
public-protection minimum (the minimum's shortfall); o_p hours over capacity, q_p cases over the caseload cap; and, in the explicit
form, x[c,p] responsibility and v[c,k] referral (binary in the exact MIP).

Moves are priced whole in both forms: each case that may move has a moved share m_c and its need split into
a stay and a move component (:mod:`workload.allocate.perspective`, the perspective form of the stay-or-move
choice), so an LP cannot move most of a case's hours while paying for part of a move.

The LP relaxation without a caseload cap uses the *projected* form, which leaves x and v out: with
x[c,p] >= y[c,p] / R_c and sum_p x[c,p] = 1, x only ties a case's hours to its practitioners, which the
components already do (the move component's hours are at most R_c m_c, the stay component's at most
R_c (1 - m_c)); likewise the referral rows become sum_k z[c,k] / D_ck <= 1. The optimum is the same with half
the columns and a tenth of the rows (docs/model.md, "The LP allocator"; a test holds the two forms to the same
optimum).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from workload.allocate.arrays import (
    CASE_COLUMNS,
    HOURS_TOL,
    NEED_AREAS,
    NEED_COLUMNS,
    PRACTITIONER_COLUMNS,
    PduArrays,
    PduInput,
    capacity_hours,
    caseload_limit,
    check_columns,
    partner_deliverable_hours,
    pdu_arrays,
    pdu_inputs,
    protection_minimum,
    staff_cost_per_hour,
)
from workload.allocate.blocks import ColumnBlock, Layout, RowBlock, _csr, _one_row
from workload.allocate.continuity import (
    WOMEN_SPECIALISM,
    _as_tuple,
    define_move_budget,
    eligible_pairs,
)
from workload.allocate.objective import (
    band_caps,
    band_names,
    pair_hour_cost,
    partner_hour_cost,
    unmet_bands,
    unmet_caps,
    unmet_weights,
)
from workload.allocate.perspective import (
    define_move_columns,
    define_perspective,
    fill_solution,
    hours_entries,
    moving_cases,
    partner_bound,
)
from workload.params import Parameters
from workload.scenario import Policy

# The per-PDU data is defined in workload.allocate.arrays; its names stay importable from here.
__all__ = [
    "CASE_COLUMNS",
    "HOURS_TOL",
    "NEED_AREAS",
    "NEED_COLUMNS",
    "PRACTITIONER_COLUMNS",
    "WOMEN_SPECIALISM",
    "ColumnBlock",
    "Layout",
    "Model",
    "PduArrays",
    "PduInput",
    "RowBlock",
    "_as_tuple",
    "build_model",
    "build_pdu_model",
    "capacity_hours",
    "caseload_limit",
    "check_columns",
    "define_assignment",
    "define_budget",
    "define_capacity",
    "define_caseload_cap",
    "define_floors",
    "define_hours",
    "define_move_budget",
    "define_partner_choice",
    "define_partner_contracts",
    "define_variables",
    "eligible_pairs",
    "partner_deliverable_hours",
    "pdu_arrays",
    "pdu_inputs",
    "protection_minimum",
    "staff_cost_per_hour",
]


# ----------------------------------------------------------------------------------------------------------
# variables and constraint families


def define_variables(
    a: PduArrays, explicit: bool, integral: bool, explicit_partner: bool = False
) -> tuple[list[ColumnBlock], float]:
    """Variable blocks with bounds and objective costs, and the objective's constant.

    Objective (minimised, in weighted hours)::

        sum_c sum_k mu_k w_c uk_c + sum_c mu_1 w_c s_c             unmet need, in convex bands by coverage
      + lambda (sum_(c,p) g_p y[c,p] + sum_(c,k) h_k z[c,k])         staff and partner cost
      + pi_pool sum_(c,p): c a woman, p not a specialist  y[c,p]     soft women's specialist pool
      + sum_c pi_c m_c                                               continuity: each move priced whole
      + pi_s sum_c s_c + pi_o sum_p o_p + pi_q sum_p q_p             minimum shortfall, overflow, cap excess

    pi_c = continuity_penalty + w_c r_c, with r_c the relationship-building hours the move restarts, and m_c
    the moved share of a case that may move (its move component's unmet hours ua_k, sa are weighted as u_k,
    s: :mod:`workload.allocate.perspective`). Cases whose current practitioner cannot keep them are placed at
    no price (their move is not the allocator's choice). Bounds: 0 <= y[c,p] <= R_c; 0 <= z[c,k] <= min(D_ck,
    R_c - F_c) (partners never give the minimum); 0 <= uk_c <= max(t_k R_c - max(F_c, t_(k-1) R_c), 0);
    0 <= s_c <= F_c; 0 <= o_p <= rho K_p; q_p >= 0; x, v in [0, 1] (binary when
    integral). x is present when ``explicit``; v when ``explicit_partner``, and then only for cases with
    two or more partner links (a case with one link needs no choice).

    The per-hour costs (``lambda g_p + pi_pool``, ``lambda h_k``) and the unmet bands' bounds and weights are
    :mod:`workload.allocate.objective`'s, the functions rounding, local search and polishing price with.
    """
    C, P, E, Q = a.n_cases, a.n_practitioners, a.n_pairs, a.n_links
    R = a.required

    y_cost = pair_hour_cost(a)
    constant = 0.0
    pair_labels = [a.case_ids[a.pair_case], a.practitioner_ids[a.pair_prac]]
    link_labels = [a.case_ids[a.link_case], a.partner_ids[a.link_partner]]
    blocks = [ColumnBlock("y", np.zeros(E), R[a.pair_case].copy(), y_cost, False, pair_labels)]
    if explicit:
        blocks.append(ColumnBlock("x", np.zeros(E), np.ones(E), np.zeros(E), integral, pair_labels))
    blocks.append(
        ColumnBlock("z", np.zeros(Q), partner_bound(a), partner_hour_cost(a)[a.link_partner], False, link_labels)
    )
    if explicit_partner:
        choice = a.choice_links
        n_choice = int(choice.sum())
        blocks.append(
            ColumnBlock(
                "v",
                np.zeros(n_choice),
                np.ones(n_choice),
                np.zeros(n_choice),
                integral,
                [labels[choice] for labels in link_labels],
            )
        )
    caps, weights = unmet_caps(a), unmet_weights(a)
    blocks += [
        ColumnBlock(name, np.zeros(C), caps.need[k].copy(), weights.need[k].copy(), False, [a.case_ids])
        for k, name in enumerate(band_names(a))
    ]
    blocks += [
        ColumnBlock("s", np.zeros(C), caps.floor.copy(), weights.floor, False, [a.case_ids]),
        ColumnBlock(
            "o", np.zeros(P), a.overflow_limit.copy(), np.full(P, a.overflow_penalty), False, [a.practitioner_ids]
        ),
    ]
    if a.limit is not None:
        blocks.append(
            ColumnBlock(
                "q", np.zeros(P), np.full(P, float(max(C, 1))), np.full(P, a.cap_penalty), False, [a.practitioner_ids]
            )
        )
    if len(moving_cases(a)):
        blocks += define_move_columns(a)
    return blocks, float(constant)


def define_hours(a: PduArrays, lay: Layout) -> RowBlock:
    """Hours are conserved: what a case gets plus what it lacks is what it needs.

    ``sum_p y[c,p] + sum_k z[c,k] + sum_k u_k,c + s_c = R_c`` for every case c.
    """
    C = a.n_cases
    cases = np.arange(C)
    bands = band_names(a)
    extra_row, extra_col = hours_entries(a, lay) if "m" in lay.offsets else (np.zeros(0, np.int64),) * 2
    row = np.concatenate([a.pair_case, a.link_case, *([cases] * len(bands)), cases, extra_row])
    col = np.concatenate(
        [
            lay.cols("y", np.arange(a.n_pairs)),
            lay.cols("z", np.arange(a.n_links)),
            *[lay.cols(name, cases) for name in bands],
            lay.cols("s", cases),
            extra_col,
        ]
    )
    return _csr("hours", C, row, col, np.ones(len(row)), a.required, a.required, [a.case_ids])


def define_floors(a: PduArrays, lay: Layout) -> RowBlock:
    """The public-protection minimum: practitioner hours reach it, or the shortfall s_c is counted.

    The minimum is ``sum_p y[c,p] + s_c >= F_c``. With the hours row, it is the same as
    ``sum_k z[c,k] + sum_k u_k,c <= R_c - F_c``; for a case without partner links the bounds of the u_k
    (which add up to R_c - F_c) already say so, so rows are needed only for cases with a partner link,
    and they hold no y: the minimum costs no entries in the practitioner columns.
    """
    cases = np.unique(a.link_case)
    n = len(cases)
    position = np.full(a.n_cases, -1, dtype=np.int64)
    position[cases] = np.arange(n)
    bands = band_names(a)
    row = np.concatenate([position[a.link_case], *([np.arange(n)] * len(bands))])
    col = np.concatenate([lay.cols("z", np.arange(a.n_links)), *[lay.cols(name, cases) for name in bands]])
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
        scope = _csr(
            "partner_scope",
            q,
            row,
            col,
            val,
            np.full(q, -np.inf),
            np.zeros(q),
            [a.case_ids[a.link_case[links]], a.partner_ids[a.link_partner[links]]],
        )
        one = _csr(
            "one_partner",
            n,
            position[a.link_case[links]],
            lay.cols("v", v),
            np.ones(q),
            np.full(n, -np.inf),
            np.ones(n),
            labels,
        )
        return [scope, one]
    return [
        _csr(
            "one_partner",
            n,
            position[a.link_case[links]],
            lay.cols("z", links),
            1.0 / a.link_hours[links],
            np.full(n, -np.inf),
            np.ones(n),
            labels,
        )
    ]


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
    link = _csr(
        "responsible",
        E,
        row,
        col,
        val,
        np.full(E, -np.inf),
        np.zeros(E),
        [a.case_ids[a.pair_case], a.practitioner_ids[a.pair_prac]],
    )
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
    return _one_row("budget", col, val, float(a.budget), a.pdu)


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
        return [
            f"{b.name}_" + "_".join(str(part) for part in parts)
            for b in self._column_blocks
            for parts in zip(*b.labels)
        ]

    def row_names(self) -> list[str]:
        """Readable names, e.g. ``capacity_P01``, ``floor_C001``, ``contract_WC1``."""
        return [
            f"{b.name}_" + "_".join(str(part) for part in parts) for b in self._row_blocks for parts in zip(*b.labels)
        ]

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
        scale = 1.0 + np.abs(
            np.where(
                np.isfinite(self.row_upper), self.row_upper, np.where(np.isfinite(self.row_lower), self.row_lower, 0.0)
            )
        )
        bad_rows = np.flatnonzero((act < self.row_lower - tol * scale) | (act > self.row_upper + tol * scale))
        bad_cols = np.flatnonzero(
            (values < self.lower - tol * (1 + np.abs(self.lower)))
            | (values > self.upper + tol * (1 + np.abs(self.upper)))
        )
        if len(bad_rows):
            names = self.row_names()
            out += [
                f"{names[i]}: {act[i]:.6g} not in [{self.row_lower[i]:.6g}, {self.row_upper[i]:.6g}]" for i in bad_rows
            ]
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
        link (-1 for none) and ``partner_hours[c]`` the partner's hours. s takes the minimum's shortfall and
        the rest of the unmet hours fill the need bands from the top; o and q take the hours over capacity and cases over the
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
        bands = unmet_bands(a.required, a.floor, band_caps(a.required, a.floor, a.band_top), hours, partner_hours)
        for k, name in enumerate(band_names(a)):
            values[lay.slice(name)] = bands.need[k]
        values[lay.slice("s")] = bands.floor
        if "m" in lay.offsets:
            by_link = np.zeros(a.n_links)
            by_link[link[has_link]] = partner_hours[has_link]
            fill_solution(a, lay, values, pair, bands, by_link)
        load = np.bincount(a.pair_prac[pair], weights=hours, minlength=a.n_practitioners)
        values[lay.slice("o")] = np.maximum(load - a.capacity, 0.0)
        if a.limit is not None:
            count = np.bincount(a.pair_prac[pair], minlength=a.n_practitioners)
            values[lay.slice("q")] = np.maximum(count - a.limit, 0.0)
        return values

    def integral_objective(self, values: np.ndarray, pair: np.ndarray) -> float:
        """Objective of a one-practitioner allocation (from :meth:`solution_vector`), moves counted whole: m_c
        is 1 for each case that left its current practitioner and carries the whole move price."""
        del pair  # the vector already says who moved
        return self.objective(values)


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
    if "m" in offsets:
        rows += define_perspective(a, lay, explicit)
        if a.move_budget is not None:
            rows.append(define_move_budget(a, lay))

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
