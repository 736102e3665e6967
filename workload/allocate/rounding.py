"""Rounding: an LP answer to one practitioner and at most one partner per case, within capacity."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from workload.allocate.arrays import HOURS_TOL, PduArrays
from workload.allocate.grouped import lead_links, take
from workload.allocate.local_search import LocalSearch
from workload.allocate.model import Model
from workload.allocate.neighbourhood import improve_in_neighbourhood
from workload.allocate.objective import partner_hour_cost, segments, unmet_weights
from workload.allocate.polish import polish_hours

SHARE_TOL = 1e-6
"""Numerical guard: an LP share of a case at or above 1 - SHARE_TOL counts as the whole case."""


@dataclass(frozen=True)
class Rounded:
    """A one-practitioner allocation of a PDU's placeable cases (positions in the model's arrays)."""

    pair: np.ndarray
    hours: np.ndarray
    link: np.ndarray
    partner_hours: np.ndarray
    moves: int = 0
    solver_seconds: float = 0.0
    """HiGHS's own run time in the rounding (the polishing LP)."""


@dataclass(frozen=True)
class LpChoice:
    """An LP answer read per case (:func:`lp_choice`)."""

    hours: np.ndarray
    """Each case's total practitioner hours."""
    z: np.ndarray
    """Partner hours by link."""
    score: np.ndarray
    """Each pair's share of its case (x in the explicit form, y / hours in the projected form)."""
    chosen: np.ndarray
    """The pair with the largest share per case (the current practitioner's on a tie)."""
    settled: np.ndarray
    """Whether that share is the whole case (>= 1 - :data:`SHARE_TOL`, with some hours in the projected form)."""


def lp_choice(model: Model, values: np.ndarray | None) -> LpChoice:
    """Read an LP answer per case: practitioner hours, partner hours per link, and the practitioner it leans
    to (:class:`LpChoice`); ``values`` None reads as an LP that gave nothing."""
    a = model.arrays
    C, E, Q = a.n_cases, a.n_pairs, a.n_links
    lay = model.layout
    if values is None:
        y, z, x = np.zeros(E), np.zeros(Q), None
    else:
        y = np.clip(values[lay.slice("y")], 0.0, None)
        z = np.clip(values[lay.slice("z")], 0.0, None)
        x = values[lay.slice("x")] if model.explicit else None
    y = np.where(y > HOURS_TOL, y, 0.0)
    hours = np.bincount(a.pair_case, weights=y, minlength=C)
    if x is not None:
        score = np.clip(x, 0.0, 1.0)
    else:
        denom = hours[a.pair_case]
        score = np.divide(y, denom, out=np.zeros(E), where=denom > HOURS_TOL)
    starts = a.pair_start[:-1]
    best = np.maximum.reduceat(score, starts)
    is_best = score >= best[a.pair_case] - 1e-9
    first = np.minimum.reduceat(np.where(is_best, np.arange(E), E), starts)
    current_ok = (a.current_pair >= 0) & is_best[np.maximum(a.current_pair, 0)]
    chosen = np.where(current_ok, a.current_pair, first)
    settled = best >= 1.0 - SHARE_TOL
    if x is None:
        settled &= hours > HOURS_TOL
    return LpChoice(hours, z, score, chosen, settled)


def best_hours(a: PduArrays, cases: np.ndarray, pair: np.ndarray, partner_hours: np.ndarray) -> np.ndarray:
    """The best practitioner hours for these cases given who holds them: a fractional knapsack per practitioner.

    Each practitioner's capacity K_p goes to the segments of their cases
    (:func:`workload.allocate.objective.segments`) of highest value first, and only to segments worth more
    than their cost; then up to rho K_p of overflow goes to segments worth more than the overflow penalty
    (in practice only floors). With the assignment fixed this is exactly the LP's choice of hours (partner
    hours held fixed).
    """
    n = len(cases)
    if n == 0:
        return np.zeros(0)
    _, length, value = segments(a, cases, pair, partner_hours)
    prac = a.pair_prac[pair]
    S = length.shape[0]
    group = np.tile(prac, S)
    amount = np.where(value > 0, length, 0.0).ravel()
    priority = -value.ravel()
    first = take(group, amount, priority, a.capacity)
    rest = np.where(value.ravel() > a.overflow_penalty, amount - first, 0.0)
    second = take(group, rest, priority, a.overflow_limit)
    return (first + second).reshape(S, n).sum(axis=0)


def round_allocation(
    model: Model, values: np.ndarray | None, improve: bool = True, polish: bool = True, neighbourhood: bool = True
) -> Rounded:
    """Round an LP (or MIP) answer to one practitioner and at most one partner per case, within capacity.

    1. **Choose**: a case the LP gives wholly to one practitioner (share >= 1 - 1e-6) keeps them. Split
       cases (about 1%), and cases the LP gave no practitioner hours, are placed one at a time, highest
       weighted need first, on the eligible practitioner with the largest LP share among those with room
       for the case's LP hours (and under any caseload cap), ties to the current practitioner, then to the
       most spare hours; if none has room, on the one with most spare hours.
    2. **Partner**: keep the partner with the most LP hours (capped at R_c - F_c: partners never give the
       floor); hours from any other partner are given up.
    3. **Caseload cap**: cases over a practitioner's cap move (smallest first, current holders last) to an
       eligible practitioner under their cap, if there is one.
    4. **Hours**: with every case's practitioner fixed, each practitioner's hours go where they are worth
       most (:func:`best_hours`: minimums, then need band by band from the lowest coverage; overflow up
       to rho K_p only for minimums). This is the LP's own answer for a fixed assignment, so capacity is
       repaired by trimming the least valuable hours, never by guesswork.
    5. **Improve**: moves and exchanges of cases while they lower the objective (:class:`~workload.allocate.local_search.LocalSearch`); this
       also moves cases whose minimums cannot be met where they are. Under ``rebalance`` the moves beyond the
       PDU's move budget go back right after step 1, least sure first (:func:`moves_over_budget`), and steps 3
       and 5 then make no move that would break it (:func:`keep_move_budget` checks again at the end).
    6. **Partners and budget**: partners' spare contract hours go to cases with need left in areas the
       partner delivers and, with a budget, hours are trimmed by least value per pound until the PDU's
       share of the cap holds. When there are partners or a budget, and a solver's answer is being
       rounded, practitioner and partner hours are also solved exactly for the assignment by a small LP
       (:func:`~workload.allocate.polish.polish_hours`), and that answer is kept if it is better (it nearly always is: the rules
       hold partner hours fixed while practitioners' hours are chosen). ``polish=False`` skips the LP.
    7. **Neighbourhood** (only where cases may move, ``rebalance`` and ``free``): the exact MIP with each
       case's practitioners restricted to those the LP gave it hours, its rounded one and its current one,
       started from the allocation so far, kept if better
       (:func:`~workload.allocate.neighbourhood.improve_in_neighbourhood`). ``improve=False`` or
       ``neighbourhood=False`` (``policy.neighbourhood``) skips it.

    ``values`` None (no solver answered) is the greedy fallback: every case is placed by step 1 with no LP
    hours (current practitioner first), then steps 2-6 run, step 6 by rule. An exact MIP answer
    (``model.integral``) is already whole: it keeps its practitioners and hours, and only step 6's rules run.
    """
    a = model.arrays
    C, P, Q = a.n_cases, a.n_practitioners, a.n_links
    read = lp_choice(model, values)
    lp_hours, z, score, chosen, settled = read.hours, read.z, read.score, read.chosen, read.settled

    pair = np.where(settled, chosen, -1)
    prac = np.where(settled, a.pair_prac[np.maximum(pair, 0)], -1)
    load = np.bincount(prac[settled], weights=lp_hours[settled], minlength=P)
    count = np.bincount(prac[settled], minlength=P)
    limit = np.floor(a.limit + 1e-9) if a.limit is not None else None
    moves = 0

    # 1. place split cases, highest weighted need first
    split = np.flatnonzero(~settled)
    if len(split):
        order = np.lexsort((split, -(a.weight[split] * a.required[split])))
        for c in split[order].tolist():
            lo, hi = int(a.pair_start[c]), int(a.pair_start[c + 1])
            pr = a.pair_prac[lo:hi]
            rem = a.capacity[pr] - load[pr]
            room = count[pr] < limit[pr] if limit is not None else np.ones(hi - lo, dtype=bool)
            fits = (rem >= max(lp_hours[c], a.floor[c]) - HOURS_TOL) & room
            is_current = np.arange(lo, hi) == a.current_pair[c]
            tie = -np.arange(hi - lo)
            if fits.any():
                j = int(np.lexsort((tie, rem, is_current, score[lo:hi], fits))[-1])
            else:
                j = int(np.lexsort((tie, rem, room))[-1])
            pair[c] = lo + j
            p = int(pr[j])
            prac[c] = p
            load[p] += max(lp_hours[c], a.floor[c])
            count[p] += 1

    # 1b. the move budget: the moves the LP was least sure of go back now, so that the caseload cap and
    # the local search below work on an assignment within it (and keep it so)
    if a.move_budget is not None:
        back = moves_over_budget(a, pair, score)
        if len(back):
            np.add.at(load, prac[back], -lp_hours[back])
            np.add.at(count, prac[back], -1)
            pair[back] = a.current_pair[back]
            prac[back] = a.pair_prac[pair[back]]
            np.add.at(load, prac[back], lp_hours[back])
            np.add.at(count, prac[back], 1)
    moved = int(((a.current_pair >= 0) & (pair != a.current_pair)).sum())

    # 2. partner: keep the one with most LP hours
    link = np.full(C, -1, dtype=np.int64)
    partner_hours = np.zeros(C)
    if Q:
        lead = lead_links(a, z)
        lead = lead[(lead >= 0) & (z[np.maximum(lead, 0)] > HOURS_TOL)]
        link[a.link_case[lead]] = lead
        partner_hours[a.link_case[lead]] = np.minimum(z[lead], a.link_hours[lead])
    partner_hours = np.clip(np.minimum(partner_hours, a.required - a.floor), 0.0, None)

    # 3. caseload cap
    if limit is not None and (count > limit).any():
        for p in np.flatnonzero(count > limit).tolist():
            mine = np.flatnonzero(prac == p)
            mine = mine[np.lexsort((mine, lp_hours[mine], pair[mine] == a.current_pair[mine]))]
            for c in mine.tolist():
                if count[p] <= limit[p]:
                    break
                lo, hi = int(a.pair_start[c]), int(a.pair_start[c + 1])
                pr = a.pair_prac[lo:hi]
                ok = (count[pr] < limit[pr]) & (pr != p)
                at_home = pair[c] == a.current_pair[c]
                if at_home and a.move_budget is not None and moved >= a.move_budget:
                    continue  # a move of a case held today would break the PDU's move budget
                if not ok.any():
                    continue
                moved += int(at_home)
                rem = a.capacity[pr] - load[pr]
                j = int(np.lexsort((-np.arange(hi - lo), rem, ok))[-1])
                q = int(pr[j])
                load[p] -= lp_hours[c]
                load[q] += lp_hours[c]
                count[p] -= 1
                count[q] += 1
                pair[c], prac[c] = lo + j, q
                moves += 1

    # 4. hours, given the assignment (an exact MIP answer keeps its own hours: they already respect the budget)
    if model.integral and values is not None:
        hours = np.minimum(lp_hours, a.required - partner_hours)
    else:
        hours = best_hours(a, np.arange(C), pair, partner_hours)

    # 5. improving moves
    if improve and not (model.integral and values is not None):
        moves += LocalSearch(a, pair, prac, hours, partner_hours, count, limit).run()

    # 5b. the move budget, checked again (steps 1b, 3 and 5 keep it): any move beyond it goes back
    if a.move_budget is not None:
        pair, prac, hours, undone = keep_move_budget(a, pair, prac, hours, score, partner_hours)
        moves += undone

    # 6. partners' spare contract hours by rule, then the budget; and, with a solver's answer to round,
    # hours and partner hours solved exactly for the assignment, if that is better (without partners or
    # a budget, step 4's hours already are the exact answer)
    if Q:
        link, partner_hours = partner_refill(a, hours, link, partner_hours)
    if a.budget is not None:
        hours, link, partner_hours = keep_budget(a, pair, hours, link, partner_hours)
    hours = np.clip(hours, 0.0, a.required)
    partner_hours = np.clip(np.minimum(partner_hours, a.required - hours), 0.0, None)
    link = np.where(partner_hours > HOURS_TOL, link, -1)
    partner_hours = np.where(link >= 0, partner_hours, 0.0)
    polish = polish and values is not None and not model.integral and (Q > 0 or a.budget is not None)
    solver_seconds = 0.0
    try:
        polished = polish_hours(model, pair) if polish else None
    except Exception:  # noqa: BLE001 - a solver failure must not lose the allocation: step 6's rules stand
        polished = None
    if polished is not None:
        solver_seconds = polished.solver_seconds
    if polished is not None and polished.optimal:

        def objective(h: np.ndarray, link_: np.ndarray, z: np.ndarray) -> float:
            return model.integral_objective(model.solution_vector(pair, h, link_, z), pair)

        if objective(polished.hours, polished.link, polished.partner_hours) < objective(hours, link, partner_hours):
            hours, link, partner_hours = polished.hours, polished.link, polished.partner_hours

    # 7. where cases may move: the exact MIP on the LP's neighbourhood of this allocation, started from it
    if improve and neighbourhood and values is not None and not model.integral and "m" in model.blocks:
        current = model.integral_objective(model.solution_vector(pair, hours, link, partner_hours), pair)
        found = improve_in_neighbourhood(model, values, pair, hours, link, partner_hours, current)
        solver_seconds += found.solver_seconds
        if found.better:
            pair, hours, link, partner_hours = found.pair, found.hours, found.link, found.partner_hours
            moves += found.changed
    return Rounded(
        pair=pair.astype(np.int64),
        hours=hours,
        link=link,
        partner_hours=partner_hours,
        moves=moves,
        solver_seconds=solver_seconds,
    )


def moves_over_budget(a: PduArrays, pair: np.ndarray, score: np.ndarray) -> np.ndarray:
    """The moved cases to send back to their current practitioner so that at most ``a.move_budget`` are moved:
    those whose current pair kept the largest LP share, ties to the higher move price, then the lower position
    (empty without a budget or within it)."""
    moved = np.flatnonzero((a.current_pair >= 0) & (pair != a.current_pair))
    extra = len(moved) - int(a.move_budget or 0)
    if a.move_budget is None or extra <= 0:
        return np.zeros(0, dtype=np.int64)
    return moved[np.lexsort((moved, -a.move_price[moved], -score[a.current_pair[moved]]))[:extra]]


def keep_move_budget(
    a: PduArrays, pair: np.ndarray, prac: np.ndarray, hours: np.ndarray, score: np.ndarray, partner_hours: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Send moved cases back to their current practitioner until at most ``a.move_budget`` are moved.

    The moves kept are those the LP was surest of (:func:`moves_over_budget` picks the others); the hours are
    then the best for the new assignment (:func:`best_hours`). Returns (pair, prac, hours, cases sent back).
    """
    back = moves_over_budget(a, pair, score)
    extra = len(back)
    if extra == 0:
        return pair, prac, hours, 0
    pair = pair.copy()
    pair[back] = a.current_pair[back]
    prac = a.pair_prac[pair]
    return pair, prac, best_hours(a, np.arange(a.n_cases), pair, partner_hours), extra


def partner_refill(
    a: PduArrays, hours: np.ndarray, link: np.ndarray, partner_hours: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Give partners' spare contract hours to cases with need left in areas they deliver, most valuable first.

    A referred case can get more from its partner (up to D_ck and R_c - F_c); a case not referred can be
    referred to the partner that could deliver most for it. Within each partner, hours go to the highest
    marginal weight (the lowest-covered need band first).
    """
    C = a.n_cases
    used = np.bincount(a.link_partner[link[link >= 0]], weights=partner_hours[link >= 0], minlength=len(a.partner_ids))
    spare = np.maximum(a.contract - used, 0.0)
    gap = np.maximum(a.required - hours - partner_hours, 0.0)
    if not ((spare > HOURS_TOL).any() and (gap > HOURS_TOL).any()):
        return link, partner_hours
    candidate = np.where(link >= 0, link, lead_links(a, a.link_hours))
    has = candidate >= 0
    ceiling = np.minimum(a.link_hours[np.maximum(candidate, 0)], a.required - a.floor)
    amount = np.where(has, np.clip(np.minimum(gap, ceiling - partner_hours), 0.0, None), 0.0)
    covered = hours + partner_hours
    K = len(a.band_top)
    tops = a.band_top[:, None] * a.required[None, :]
    bottoms = np.vstack([np.zeros((1, C)), tops[:-1]])
    # the hours added in each need band: coverage rises from `covered` to `covered + amount`
    in_band = np.clip(np.minimum((covered + amount)[None, :], tops) - np.maximum(covered[None, :], bottoms), 0.0, None)
    group = np.tile(a.link_partner[np.maximum(candidate, 0)], K)
    weights = unmet_weights(a).need.ravel()
    unit = np.tile(partner_hour_cost(a)[group[:C]], K)
    worth = in_band.ravel() * (weights > unit)
    add = take(group, worth, -(weights - unit), spare)
    extra = add.reshape(K, C).sum(axis=0)
    got = extra > HOURS_TOL
    link = np.where(got & (link < 0), candidate, link)
    return link, partner_hours + np.where(got, extra, 0.0)


def keep_budget(
    a: PduArrays, pair: np.ndarray, hours: np.ndarray, link: np.ndarray, partner_hours: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Trim hours, least value per pound first, until staff plus partner cost is within the PDU's budget."""
    C = a.n_cases
    unit = a.staff_cost[a.pair_prac[pair]]
    price = np.zeros(C)
    referred = link >= 0
    price[referred] = a.price[a.link_partner[link[referred]]]
    over = float(unit @ hours + price @ partner_hours) - float(a.budget)  # type: ignore[arg-type]
    if over <= HOURS_TOL:
        return hours, link, partner_hours
    start, length, value = segments(a, np.arange(C), pair, partner_hours)
    filled = np.clip(hours[None, :] - start, 0.0, length)
    S = length.shape[0]
    w = unmet_weights(a).need
    # a partner hour cut lowers coverage in the band the case's coverage is in
    band = (a.band_top[:, None] * a.required[None, :] < (hours + partner_hours)[None, :] - HOURS_TOL).sum(axis=0)
    partner_value = w[np.minimum(band, w.shape[0] - 1), np.arange(C)]
    amounts = np.concatenate([filled.ravel() * np.tile(unit, S), partner_hours * price])
    per_pound = np.concatenate([np.tile(unit, S), price])
    worth = np.concatenate([value.ravel(), partner_value])
    priority = np.divide(worth, per_pound, out=np.full(len(worth), np.inf), where=per_pound > 0)
    taken = take(
        np.zeros(len(amounts), dtype=np.int64), np.where(per_pound > 0, amounts, 0.0), priority, np.array([over])
    )
    cut = np.divide(taken, per_pound, out=np.zeros(len(taken)), where=per_pound > 0)
    hours = hours - cut[: S * C].reshape(S, C).sum(axis=0)
    partner_hours = partner_hours - cut[S * C :]
    link = np.where(partner_hours > HOURS_TOL, link, -1)
    return np.clip(hours, 0.0, None), link, np.clip(partner_hours, 0.0, None)
