"""Moves priced whole in the LP: the stay-or-move choice of each case that may move, in its perspective form.

A case c that may move (it has a current practitioner p0 who could keep it, and another pair) either stays,
and all its practitioner hours come from p0, or moves, and they all come from others. The plain relaxation
charges a move per hour given away from p0 (pi_c / R_c an hour) and counts unmet need once, on the case's
total hours. An LP can then "move" 80% of a case: give it 80% of its hours from a new practitioner and none
from p0, and pay 80% of the move, because the 20% "left behind" has no hours yet costs nothing more than
20% of hours unmet at the cheapest band. No one-practitioner allocation looks like that: the case either
moved (the whole price) or stayed with no hours (its unmet need in every band, the lowest-coverage ones
weighted most). On the region's PDUs this made the LP bound 1-6% weaker than the exact optimum.

The perspective form (the convex hull of the two choices for one case) splits the case in two components by
its moved share m_c in [0, 1], each with its own bands of unmet hours, scaled by its share:

- stay component (share 1 - m_c): p0's hours, partner hours z - za, need bands u_k, minimum shortfall s;
- move component (share m_c): the other practitioners' hours, partner hours za, bands ua_k, shortfall sa.

Variables (per case c that may move; ``moving_cases``): m_c (cost pi_c, the whole move price), ua_k,c,
sa_c (costed as u_k, s), and za[c,k] for each of its partner links (cost 0: z stays the case's total partner
hours and carries the cost). Rows (maths in each ``define_*``): the move component's hours; each component's
bands within its share; partner hours split within each component's share; each component's minimum.
The hours row of :func:`workload.allocate.model.define_hours` adds ua and sa, so the stay component is what
is left. Integer solutions are exactly those of the plain model (m_c in {0, 1} switches one component off),
with the same objective; the bound is at least as tight (docs/model.md, "The LP allocator").
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from workload.allocate.blocks import ColumnBlock, Layout, RowBlock, _csr
from workload.allocate.objective import UnmetBands, band_names, unmet_caps, unmet_weights

if TYPE_CHECKING:
    from workload.allocate.arrays import PduArrays


def moving_cases(a: PduArrays) -> np.ndarray:
    """Positions of the cases that may move (:attr:`PduArrays.movable`) and need hours: those with an m_c."""
    return np.flatnonzero(a.movable & (a.required > 0))


def away_band_names(a: PduArrays) -> list[str]:
    """The move component's need bands' blocks, lowest coverage first: ``ua1`` ... ``uaK``."""
    return [f"ua{k + 1}" for k in range(len(a.band_top))]


def moving_links(a: PduArrays, moving: np.ndarray) -> np.ndarray:
    """Partner links of the moving cases (positions among the PDU's links)."""
    is_moving = np.zeros(a.n_cases, dtype=bool)
    is_moving[moving] = True
    return np.flatnonzero(is_moving[a.link_case])


def _position(a: PduArrays, moving: np.ndarray) -> np.ndarray:
    """Each case's position among the moving cases (-1 for the others)."""
    position = np.full(a.n_cases, -1, dtype=np.int64)
    position[moving] = np.arange(len(moving))
    return position


def partner_bound(a: PduArrays) -> np.ndarray:
    """Each link's upper bound on partner hours, ``min(D_ck, R_c - F_c)`` (partners never give the minimum)."""
    return np.minimum(a.link_hours, a.required[a.link_case] - a.floor[a.link_case])


def define_move_columns(a: PduArrays) -> list[ColumnBlock]:
    """The blocks m (moved share, cost pi_c), za (move component's partner hours, cost 0), ua_k and sa
    (move component's unmet hours, costed as u_k and s), for the moving cases; empty blocks when none."""
    moving = moving_cases(a)
    n = len(moving)
    links = moving_links(a, moving)
    caps, weights = unmet_caps(a).take(moving), unmet_weights(a).take(moving)
    labels = [a.case_ids[moving]]
    blocks = [
        ColumnBlock("m", np.zeros(n), np.ones(n), a.move_price[moving].astype(float), False, labels),
        ColumnBlock(
            "za",
            np.zeros(len(links)),
            partner_bound(a)[links],
            np.zeros(len(links)),
            False,
            [a.case_ids[a.link_case[links]], a.partner_ids[a.link_partner[links]]],
        ),
    ]
    blocks += [
        ColumnBlock(name, np.zeros(n), caps.need[k].copy(), weights.need[k].copy(), False, labels)
        for k, name in enumerate(away_band_names(a))
    ]
    blocks.append(ColumnBlock("sa", np.zeros(n), caps.floor.copy(), weights.floor.copy(), False, labels))
    return blocks


def hours_entries(a: PduArrays, lay: Layout) -> tuple[np.ndarray, np.ndarray]:
    """(case, column) entries the hours row adds for the move component's unmet hours (ua_k, sa)."""
    moving = moving_cases(a)
    n = len(moving)
    names = [*away_band_names(a), "sa"]
    row = np.concatenate([moving] * len(names)) if n else np.zeros(0, dtype=np.int64)
    col = np.concatenate([lay.cols(name, np.arange(n)) for name in names])
    return row.astype(np.int64), col


def define_away_hours(a: PduArrays, lay: Layout) -> RowBlock:
    """The move component's hours: its share of the case's need, met or unmet.

    ``sum_(p != p0) y[c,p] + sum_k za[c,k] + sum_k ua_k,c + sa_c - R_c m_c = 0`` for every moving case c
    (with the hours row, the stay component is ``y[c,p0] + (z - za) + u + s = R_c (1 - m_c)``).
    """
    moving = moving_cases(a)
    n = len(moving)
    position = _position(a, moving)
    away = (position[a.pair_case] >= 0) & (np.arange(a.n_pairs) != a.current_pair[a.pair_case])
    pairs = np.flatnonzero(away)
    links = moving_links(a, moving)
    names = [*away_band_names(a), "sa"]
    rows = np.arange(n)
    row = np.concatenate([position[a.pair_case[pairs]], position[a.link_case[links]], *([rows] * len(names)), rows])
    col = np.concatenate(
        [
            lay.cols("y", pairs),
            lay.cols("za", np.arange(len(links))),
            *[lay.cols(name, rows) for name in names],
            lay.cols("m", rows),
        ]
    )
    val = np.concatenate([np.ones(len(pairs) + len(links) + len(names) * n), -a.required[moving]])
    zero = np.zeros(n)
    return _csr("away_hours", n, row, col, val, zero, zero, [a.case_ids[moving]])


def define_component_bands(a: PduArrays, lay: Layout) -> RowBlock:
    """Each component's unmet hours stay within its share of each band.

    ``u_k,c + cap_k,c m_c <= cap_k,c`` and ``ua_k,c - cap_k,c m_c <= 0`` for every band k (cap_k,c its size,
    :func:`workload.allocate.objective.band_caps`), and ``s_c + F_c m_c <= F_c``, ``sa_c - F_c m_c <= 0``
    for the minimum, for every moving case c; bands of size 0 need no row (the bounds hold them at 0).
    """
    moving = moving_cases(a)
    caps = unmet_caps(a).take(moving)
    sizes = np.vstack([caps.need, caps.floor[None, :]])  # (K + 1) x moving cases
    stay_names = [*band_names(a), "s"]
    away_names = [*away_band_names(a), "sa"]
    rows, cols, vals, upper, case_labels, band_labels = [], [], [], [], [], []
    r = 0
    for k in range(sizes.shape[0]):
        sized = np.flatnonzero(sizes[k] > 0)  # positions among the moving cases
        size = sizes[k][sized]
        for own, sign, name in (
            (lay.cols(stay_names[k], moving[sized]), 1.0, stay_names[k]),
            (lay.cols(away_names[k], sized), -1.0, away_names[k]),
        ):
            idx = np.arange(r, r + len(sized))
            rows += [idx, idx]
            cols += [own, lay.cols("m", sized)]
            vals += [np.ones(len(sized)), sign * size]
            upper.append(size if sign > 0 else np.zeros(len(sized)))
            case_labels.append(a.case_ids[moving[sized]])
            band_labels.append(np.full(len(sized), name, dtype=object))
            r += len(sized)
    return _csr(
        "component_bands",
        r,
        np.concatenate(rows),
        np.concatenate(cols),
        np.concatenate(vals),
        np.full(r, -np.inf),
        np.concatenate(upper),
        [np.concatenate(case_labels), np.concatenate(band_labels)],
    )


def define_partner_split(a: PduArrays, lay: Layout) -> RowBlock:
    """Partner hours split between the components, each within its share of the link's bound.

    For every partner link (c, k) of a moving case, with b_ck = min(D_ck, R_c - F_c):
    ``za[c,k] - b_ck m_c <= 0``, ``z[c,k] - za[c,k] + b_ck m_c <= b_ck`` and ``z[c,k] - za[c,k] >= 0``.
    """
    moving = moving_cases(a)
    position = _position(a, moving)
    links = moving_links(a, moving)
    q = len(links)
    bound = partner_bound(a)[links]
    za = lay.cols("za", np.arange(q))
    z = lay.cols("z", links)
    m = lay.cols("m", position[a.link_case[links]])
    first, second, third = np.arange(q), np.arange(q, 2 * q), np.arange(2 * q, 3 * q)
    row = np.concatenate([first, first, second, second, second, third, third])
    col = np.concatenate([za, m, z, za, m, z, za])
    val = np.concatenate([np.ones(q), -bound, np.ones(q), -np.ones(q), bound, np.ones(q), -np.ones(q)])
    lower = np.concatenate([np.full(2 * q, -np.inf), np.zeros(q)])
    upper = np.concatenate([np.zeros(q), bound, np.full(q, np.inf)])
    names = [a.case_ids[a.link_case[links]], a.partner_ids[a.link_partner[links]]]
    return _csr("partner_split", 3 * q, row, col, val, lower, upper, [np.concatenate([n] * 3) for n in names])


def define_component_floors(a: PduArrays, lay: Layout) -> RowBlock:
    """Each component's minimum: practitioner hours reach its share of F_c, or the shortfall is counted.

    As in :func:`workload.allocate.model.define_floors`, only moving cases with a partner link need rows:
    ``sum_k (z[c,k] - za[c,k]) + sum_k u_k,c + (R_c - F_c) m_c <= R_c - F_c`` (stay) and
    ``sum_k za[c,k] + sum_k ua_k,c - (R_c - F_c) m_c <= 0`` (move).
    """
    moving = moving_cases(a)
    position = _position(a, moving)
    links = moving_links(a, moving)
    cases = np.unique(a.link_case[links])
    n = len(cases)
    at = np.full(a.n_cases, -1, dtype=np.int64)
    at[cases] = np.arange(n)
    link_row = at[a.link_case[links]]
    bands = len(a.band_top)
    span = a.required[cases] - a.floor[cases]
    stay_row = np.concatenate([link_row, link_row, *([np.arange(n)] * bands), np.arange(n)])
    stay_col = np.concatenate(
        [
            lay.cols("z", links),
            lay.cols("za", np.arange(len(links))),
            *[lay.cols(name, cases) for name in band_names(a)],
            lay.cols("m", position[cases]),
        ]
    )
    stay_val = np.concatenate([np.ones(len(links)), -np.ones(len(links)), np.ones(bands * n), span])
    away_row = n + np.concatenate([link_row, *([np.arange(n)] * bands), np.arange(n)])
    away_col = np.concatenate(
        [
            lay.cols("za", np.arange(len(links))),
            *[lay.cols(name, position[cases]) for name in away_band_names(a)],
            lay.cols("m", position[cases]),
        ]
    )
    away_val = np.concatenate([np.ones(len(links)), np.ones(bands * n), -span])
    return _csr(
        "component_floors",
        2 * n,
        np.concatenate([stay_row, away_row]),
        np.concatenate([stay_col, away_col]),
        np.concatenate([stay_val, away_val]),
        np.full(2 * n, -np.inf),
        np.concatenate([span, np.zeros(n)]),
        [np.concatenate([a.case_ids[cases]] * 2)],
    )


def define_shedding(a: PduArrays, lay: Layout) -> RowBlock:
    """Hours a practitioner over capacity with today's caseload must shed, with each move counted whole.

    Practitioner p holds the cases C_p today, needing D_p = sum_(c in C_p) R_c - K_p hours more than p has.
    From p's capacity row (cases placed on p only add to it, so they are left out) and each case's stay
    component, ``sum_(c in C_p) [R_c m_c + (z_c - za_c) + sum_k u_k,c + s_c] + o_p >= D_p``: p sheds its excess
    by moving cases, by partner hours, by leaving need unmet or by overflow. A case moved whole sheds at
    most D_p of the excess, so R_c may be cut to min(R_c, D_p) (valid for m_c in {0, 1}):

        ``sum_(c in C_p) min(R_c, D_p) m_c + sum_(c in C_p) [(z_c - za_c) + sum_k u_k,c + s_c] + o_p >= D_p``

    for every p with D_p > 0. Without it the LP sheds 10 hours by moving a tenth of a 100-hour case, for a
    tenth of its price; a one-practitioner allocation must move the whole case or leave the 10 hours unmet.
    """
    held = np.flatnonzero(a.current_pair >= 0)
    holder = a.pair_prac[a.current_pair[held]]
    excess = np.bincount(holder, weights=a.required[held], minlength=a.n_practitioners) - a.capacity
    over = np.flatnonzero(excess > 1e-9)
    row_of = np.full(a.n_practitioners, -1, dtype=np.int64)
    row_of[over] = np.arange(len(over))
    on = row_of[holder] >= 0
    cases, rows = held[on], row_of[holder[on]]
    moving = moving_cases(a)
    position = _position(a, moving)
    is_moving = position[cases] >= 0
    case_row = np.full(a.n_cases, -1, dtype=np.int64)
    case_row[cases] = rows
    links = np.flatnonzero(case_row[a.link_case] >= 0)
    away_links = moving_links(a, moving)
    za_on = case_row[a.link_case[away_links]] >= 0
    bands = [*band_names(a), "s"]
    row = np.concatenate(
        [
            rows[is_moving],
            *([rows] * len(bands)),
            case_row[a.link_case[links]],
            case_row[a.link_case[away_links[za_on]]],
            np.arange(len(over)),
        ]
    )
    col = np.concatenate(
        [
            lay.cols("m", position[cases[is_moving]]),
            *[lay.cols(name, cases) for name in bands],
            lay.cols("z", links),
            lay.cols("za", np.flatnonzero(za_on)),
            lay.cols("o", over),
        ]
    )
    val = np.concatenate(
        [
            np.minimum(a.required[cases[is_moving]], excess[holder[on][is_moving]]),
            np.ones(len(bands) * len(cases) + len(links)),
            -np.ones(int(za_on.sum())),
            np.ones(len(over)),
        ]
    )
    n = len(over)
    return _csr("shedding", n, row, col, val, excess[over], np.full(n, np.inf), [a.practitioner_ids[over]])


def define_stay_link(a: PduArrays, lay: Layout) -> RowBlock:
    """Explicit form: the moved share is the responsibility the current practitioner gives up.

    ``m_c + x[c, p0] = 1`` for every moving case c.
    """
    moving = moving_cases(a)
    n = len(moving)
    rows = np.arange(n)
    row = np.concatenate([rows, rows])
    col = np.concatenate([lay.cols("m", rows), lay.cols("x", a.current_pair[moving])])
    one = np.ones(n)
    return _csr("stay_link", n, row, col, np.ones(2 * n), one, one, [a.case_ids[moving]])


def define_perspective(a: PduArrays, lay: Layout, explicit: bool) -> list[RowBlock]:
    """Every row family of the perspective form (none when no case may move)."""
    if not len(moving_cases(a)):
        return []
    rows = [define_away_hours(a, lay), define_component_bands(a, lay), define_shedding(a, lay)]
    if len(moving_links(a, moving_cases(a))):
        rows += [define_partner_split(a, lay), define_component_floors(a, lay)]
    if explicit:
        rows.append(define_stay_link(a, lay))
    return rows


def fill_solution(
    a: PduArrays,
    lay: Layout,
    values: np.ndarray,
    pair: np.ndarray,
    bands: UnmetBands,
    partner_hours_by_link: np.ndarray,
) -> None:
    """Set the perspective columns of a one-practitioner allocation's vector (``values``, in place): m_c = 1
    for each moving case not with its current practitioner, whose unmet hours then sit in ua and sa (not u
    and s) and whose partner hours in za as well as z."""
    moving = moving_cases(a)
    if not len(moving):
        return
    moved = pair[moving] != a.current_pair[moving]
    values[lay.slice("m")] = moved.astype(float)
    sized = np.flatnonzero(moved)
    cases = moving[sized]
    for k, (name, stay) in enumerate(zip(away_band_names(a), band_names(a))):
        values[lay.cols(name, sized)] = bands.need[k][cases]
        values[lay.cols(stay, cases)] = 0.0
    values[lay.cols("sa", sized)] = bands.floor[cases]
    values[lay.cols("s", cases)] = 0.0
    links = moving_links(a, moving)
    position = _position(a, moving)
    on = moved[position[a.link_case[links]]]
    za = np.zeros(len(links))
    za[on] = partner_hours_by_link[links[on]]
    values[lay.slice("za")] = za


def unmet_columns(model_blocks: dict[str, slice], a: PduArrays) -> list[tuple[slice, np.ndarray]]:
    """Every block of unmet hours with the case position of each of its columns: u_k and s (every case),
    ua_k and sa (the moving cases)."""
    every = np.arange(a.n_cases)
    out = [(model_blocks[name], every) for name in [*band_names(a), "s"]]
    if "m" in model_blocks:
        moving = moving_cases(a)
        out += [(model_blocks[name], moving) for name in [*away_band_names(a), "sa"]]
    return out
