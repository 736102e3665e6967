"""Local search: moves and exchanges of cases between practitioners while they lower the objective."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from workload.allocate.arrays import HOURS_TOL, PduArrays
from workload.allocate.grouped import first_per_group
from workload.allocate.objective import (
    UnmetBands,
    band_caps,
    hour_segments,
    pair_hour_cost,
    segment_worth,
    staff_hour_cost,
    unmet_bands,
    unmet_cost,
    unmet_weights,
)

EXCHANGE_PAIRS = 10
"""Search setting, not a model number: when no single move helps, exchanges are tried between the this many
most promising (p, q) pairs of practitioners, :data:`EXCHANGES_PER_PAIR` each."""

EXCHANGES_PER_PAIR = 3
SWAP_BACK_TRIES = 3
"""Search setting: a case away from its current practitioner is tried back in exchange for this many of
their cases, those closest in hours."""

SPARE_MOVES_PER_PRACTITIONER = 5
"""Search setting: each practitioner whose hours are worth less is offered this many cases a round, those
of best optimistic estimate; :data:`SPARE_MOVES_WHEN_STUCK` when a round makes no move."""

SPARE_MOVES_WHEN_STUCK = 20
"""Search setting: how deep down each practitioner's list of cases the search looks before it gives up on
single moves (the estimate is optimistic, so the best moves are not always at the top)."""


# ----------------------------------------------------------------------------------------------------------
# pricing caseloads


@dataclass(frozen=True)
class CostTables:
    """Per-case and per-pair quantities the local search reads, computed once for it (partner hours are
    fixed while it runs), from :mod:`workload.allocate.objective`."""

    R: np.ndarray
    z: np.ndarray
    floor: np.ndarray
    weights: UnmetBands
    """:func:`~workload.allocate.objective.unmet_weights`."""
    caps: np.ndarray
    """:func:`~workload.allocate.objective.band_caps` (K x cases)."""
    start: np.ndarray
    length: np.ndarray
    """:func:`~workload.allocate.objective.hour_segments` of every case."""
    base: np.ndarray
    """:func:`~workload.allocate.objective.segment_worth` of every case (before the hour's cost)."""
    unit: np.ndarray
    """:func:`~workload.allocate.objective.pair_hour_cost` of every pair."""


def cost_tables(a: PduArrays, partner_hours: np.ndarray) -> CostTables:
    """The :class:`CostTables` of a PDU with these partner hours."""
    weights = unmet_weights(a)
    start, length = hour_segments(a, np.arange(a.n_cases), partner_hours)
    return CostTables(
        a.required,
        partner_hours,
        a.floor,
        weights,
        band_caps(a.required, a.floor, a.band_top),
        start,
        length,
        segment_worth(weights),
        pair_hour_cost(a),
    )


def caseload_costs(
    a: PduArrays, t: CostTables, owner: np.ndarray, group: np.ndarray, members: np.ndarray, member_pair: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Objective part of many caseloads at their best hours, in one pass: (cost per caseload, hours per member).

    Caseload g is held by practitioner ``owner[g]`` and is the cases ``members[group == g]``, each held
    through the pair ``member_pair``. Its hours are its own fractional knapsack, as
    :func:`workload.allocate.rounding.best_hours` (capacity to the most valuable segments first, then up to
    rho K_p of overflow for segments worth more than the overflow penalty), and its cost is
    :func:`workload.allocate.objective.case_costs` summed plus the overflow penalty. The local search prices
    hundreds of candidate caseloads a round: one sort over all their segments costs what one numpy call per
    caseload would cost in overhead alone.
    """
    G, n = len(owner), len(members)
    capacity = a.capacity[owner]
    if n == 0:
        return a.overflow_penalty * np.maximum(-capacity, 0.0), np.zeros(0)
    unit = t.unit[member_pair]
    value = (t.base[:, members] - unit).ravel()
    amount = np.where(value > 0, t.length[:, members].ravel(), 0.0)
    S = t.length.shape[0]
    items = np.tile(group, S)
    # within a caseload: most valuable first, ties to the earlier segment (as grouped.take's stable order)
    order = np.lexsort((np.arange(S * n), -value, items))
    g = items[order]
    first_item = np.maximum.accumulate(np.where(np.r_[True, g[1:] != g[:-1]], np.arange(S * n), 0))

    def fill(amt: np.ndarray, budget: np.ndarray) -> np.ndarray:
        before = np.cumsum(amt) - amt
        before = before - before[first_item]
        return np.clip(np.maximum(budget[g], 0.0) - before, 0.0, amt)

    amt = amount[order]
    first = fill(amt, capacity)
    second = fill(np.where(value[order] > a.overflow_penalty, amt - first, 0.0), a.overflow_limit[owner])
    filled = np.empty(S * n)
    filled[order] = first + second
    hours = filled.reshape(S, n).sum(axis=0)
    bands = unmet_bands(t.R[members], t.floor[members], t.caps[:, members], hours, t.z[members])
    cost = unmet_cost(t.weights.take(members), bands) + unit * hours
    load = np.bincount(group, weights=hours, minlength=G)
    return np.bincount(group, weights=cost, minlength=G) + a.overflow_penalty * np.maximum(load - capacity, 0.0), hours


@dataclass(frozen=True)
class _Holdings:
    """Who holds what during the local search: cases sorted by holder, with each holder's slice."""

    by_holder: np.ndarray
    start: np.ndarray

    @classmethod
    def of(cls, prac: np.ndarray, P: int) -> _Holdings:
        return cls(np.argsort(prac, kind="stable"), np.r_[0, np.cumsum(np.bincount(prac, minlength=P))])

    def size(self, p: np.ndarray) -> np.ndarray:
        return self.start[p + 1] - self.start[p]

    def cases(self, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Every case held by each of ``p``: (position in ``p``, case), in ``p``'s order then ascending."""
        sizes = self.size(p)
        owner = np.repeat(np.arange(len(p)), sizes)
        offset = np.arange(int(sizes.sum())) - np.repeat(np.cumsum(sizes) - sizes, sizes)
        return owner, self.by_holder[np.repeat(self.start[p], sizes) + offset]


def gain_threshold(length: np.ndarray, value: np.ndarray, need: np.ndarray) -> np.ndarray:
    """Per case, the price T_c below which its hours could be worth more than ``need_c``.

    ``Gamma_c(theta) = sum_k length_kc max(value_kc - theta, 0)`` is what case c's segments are worth
    at a price theta an hour. It is the largest of the partial sums ``sum_(k in S) length_kc (value_kc -
    theta)`` over subsets S, each a line falling in theta, so ``Gamma_c(theta) > need_c`` exactly when theta
    is below one of their roots: T_c is the largest root (+inf when need_c < 0, -inf when the case has no
    hours to give). A subset's root is the length-weighted mean of its values less need over its length, so
    adding a segment worth more than the root raises it and dropping one worth less raises it too: the
    largest root is that of a prefix of the segments sorted by value, and only the S prefixes are tried
    (not the 2^S - 1 subsets). ``length`` and ``value`` are S x C (S = K + 1 segments).
    """
    order = np.argsort(-value, axis=0, kind="stable")
    lengths = np.take_along_axis(length, order, axis=0)
    worth = np.where(lengths > 0, lengths * np.take_along_axis(value, order, axis=0), 0.0)
    lengths, worth = np.cumsum(lengths, axis=0), np.cumsum(worth, axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        roots = np.where(lengths > 0, (worth - need) / lengths, -np.inf)
    return np.where(need < 0, np.inf, roots.max(axis=0))


# ----------------------------------------------------------------------------------------------------------
# the search


Candidates = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
"""Candidate moves (c, e, d, f): case c to pair e and, for an exchange, case d to pair f (-1 for a single move)."""


class LocalSearch:
    """Moves and exchanges of cases that lower the objective, in rounds, until none does.

    Each round gathers candidates and prices them all exactly in one pass (:func:`caseload_costs`: both
    practitioners' hours re-optimised, the continuity penalty counted whole):

    - **back to the current practitioner** (:meth:`moves_back`): the LP can share a case between
      practitioners (a fractional move), which rounding then makes whole; each case away from an eligible current
      practitioner is tried back with them, alone or in exchange for one of their cases of similar hours
      (the three closest);
    - **to a practitioner whose hours are worth less** (:meth:`moves_to_spare`): rounding can leave a
      practitioner with spare hours, or giving hours of less value than another practitioner's unmet need;
      for each such practitioner, every case held elsewhere that they may hold is scored by an optimistic
      estimate (what its practitioner can give other cases with the hours freed, plus what the case is worth
      at the new practitioner, in spare hours or in place of their least valuable hours, minus continuity)
      and the best five are priced (twenty once a round makes no move); a pair is estimated only when a
      bound on what its case could gain there leaves it a chance, and estimates are kept between rounds,
      refreshed only where a practitioner's caseload changed;
    - **exchanges** (:meth:`exchanges`), when no single move helps: two cases swapped between a practitioner
      whose unmet need is worth more and one whose hours are worth less, the larger going to the latter.

    The improving candidates are made best first, at most one per practitioner a round (:meth:`make`), so
    each one's price stays exact; the objective falls with every move, so the search ends. A candidate
    already priced is not priced again until the case is held by someone else or one of its two
    practitioners' caseloads changes. ``pair``, ``prac``, ``hours`` and ``count`` are updated in place.
    """

    def __init__(
        self,
        a: PduArrays,
        pair: np.ndarray,
        prac: np.ndarray,
        hours: np.ndarray,
        partner_hours: np.ndarray,
        count: np.ndarray,
        limit: np.ndarray | None,
    ) -> None:
        self.a = a
        self.pair, self.prac, self.hours, self.count, self.limit = pair, prac, hours, count, limit
        self.P = P = a.n_practitioners
        self.pi = a.move_price
        self.t = cost_tables(a, partner_hours)
        self.key = a.pair_case * P + a.pair_prac  # ascending: pairs are sorted by case, then practitioner
        self.cost = caseload_costs(a, self.t, np.arange(P), prac, np.arange(a.n_cases), pair)[0]
        self.version = np.zeros(P, dtype=np.int64)
        self.priced: dict[tuple[int, int, int], tuple[int, int, int]] = {}
        self.estimate = np.zeros(a.n_pairs)
        self.stale = np.ones(P, dtype=bool)  # practitioners whose caseload changed since the estimates were made
        self.staff_unit = staff_hour_cost(a)
        self.moves = 0

    def room(self, q: np.ndarray) -> np.ndarray:
        """Whether each practitioner in ``q`` is under their caseload cap (all are without a cap)."""
        if self.limit is None:
            return np.ones(len(q), dtype=bool)
        return self.count[q] < self.limit[q]

    def held_today(self, cases: np.ndarray) -> np.ndarray:
        """Whether each case is with its current practitioner while the PDU's move budget is used up (moving it
        would be one move too many, so it is not a candidate); all False while moves are left."""
        a, cur = self.a, self.a.current_pair
        if a.move_budget is None or int(((cur >= 0) & (self.pair != cur)).sum()) < a.move_budget:
            return np.zeros(len(cases), dtype=bool)
        return (cur[cases] >= 0) & (self.pair[cases] == cur[cases])

    def pair_index(self, cases: np.ndarray, pracs: np.ndarray) -> np.ndarray:
        """The pair (case, practitioner), or -1 where that practitioner may not hold the case."""
        key = self.key
        wanted = cases * self.P + pracs
        at = np.minimum(np.searchsorted(key, wanted), len(key) - 1)
        return np.where(key[at] == wanted, at, -1)

    def moves_back(self, held: _Holdings) -> Candidates:
        """Cases away from their current practitioner, back with them: alone, or in exchange for one of
        theirs closest in hours that may go the other way."""
        a, pair, prac, hours = self.a, self.pair, self.prac, self.hours
        none = np.zeros(0, dtype=np.int64)
        if not (self.pi > 0).any():
            return none, none, none, none
        away = np.flatnonzero((a.current_pair >= 0) & (pair != a.current_pair))
        home = a.current_pair[away]
        alone = away[self.room(a.pair_prac[home])]
        # in exchange for one of the current practitioner's cases closest in hours that may go the other way
        i, other = held.cases(a.pair_prac[home])
        case = away[i]
        back = self.pair_index(other, prac[case])
        ok = back >= 0
        i, case, other, back = i[ok], case[ok], other[ok], back[ok]
        pick = first_per_group(i, np.abs(hours[other] - hours[case]), SWAP_BACK_TRIES)
        return (
            np.r_[alone, case[pick]],
            np.r_[a.current_pair[alone], a.current_pair[case[pick]]],
            np.r_[np.full(len(alone), -1), other[pick]],
            np.r_[np.full(len(alone), -1), back[pick]],
        )

    def worth(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Per practitioner: spare hours, the best value an hour more would add (open), unmet hours worth
        having, and the value of the least valuable hour given (marginal); per case, the value it has now."""
        a, t, prac, hours, P = self.a, self.t, self.prac, self.hours, self.P
        spare = a.capacity - np.bincount(prac, weights=hours, minlength=P)
        value = t.base - t.unit[self.pair]
        filled = np.clip(hours[None, :] - t.start, 0.0, t.length)
        open_value = np.where((value > 0) & (t.length - filled > HOURS_TOL), value, 0.0)
        best_open = np.zeros(P)
        np.maximum.at(best_open, prac, open_value.max(axis=0))
        open_hours = np.bincount(prac, weights=np.where(value > 0, t.length - filled, 0.0).sum(axis=0), minlength=P)
        marginal = np.full(P, np.inf)
        np.minimum.at(marginal, prac, np.where(filled > HOURS_TOL, value, np.inf).min(axis=0))
        marginal = np.where(np.isfinite(marginal), marginal, 0.0)
        have = (filled * value).sum(axis=0)
        return spare, best_open, open_hours, marginal, have

    def moves_to_spare(self, depth: int) -> Candidates:
        """Cases to practitioners whose hours are worth less: the ``depth`` best estimates of each."""
        a, t, pair, prac, hours, pi = self.a, self.t, self.pair, self.prac, self.hours, self.pi
        estimate, stale = self.estimate, self.stale
        spare, best_open, open_hours, marginal, have = self.worth()
        # an estimate depends only on the case's holder and the receiving practitioner: refresh those
        e = np.flatnonzero(stale[prac[a.pair_case]] | stale[a.pair_prac])
        stale[:] = False
        # Bound first, price the few that pass. A pair's gain is at most Gamma_c(theta_q) =
        # sum_k L_ck max(b_ck - theta_q, 0), with theta_q q's staff cost plus, when q has no spare hours,
        # the value of q's least valuable hour. Gamma_c is the largest of its partial sums over subsets of
        # the three segments, so Gamma_c(theta) > need_c exactly when theta < T_c, the largest root over
        # subsets. Pairs with theta_q >= T_c cannot have a positive estimate (a move back to the current
        # practitioner, worth pi more, is always priced).
        freed_all = np.minimum(hours, open_hours[prac]) * best_open[prac]
        need = HOURS_TOL - (freed_all - have) + pi * (pair == a.current_pair)
        T = gain_threshold(t.length, t.base, need)
        theta = self.staff_unit + np.where(spare > 0, np.minimum(marginal, 0.0), marginal)
        c_all = a.pair_case[e]
        worth_pricing = (theta[a.pair_prac[e]] <= T[c_all] + HOURS_TOL) | (e == a.current_pair[c_all])
        estimate[e[~worth_pricing]] = -np.inf
        e = e[worth_pricing]
        c, q = a.pair_case[e], a.pair_prac[e]
        p = prac[c]
        value = t.base[:, c] - t.unit[e]
        within = np.clip(np.maximum(spare[q], 0.0) - t.start[:, c], 0.0, t.length[:, c])
        gain = (within * np.maximum(value, 0.0) + (t.length[:, c] - within) * np.maximum(value - marginal[q], 0.0)).sum(
            axis=0
        )
        continuity = pi[c] * ((pair[c] == a.current_pair[c]).astype(float) - (e == a.current_pair[c]).astype(float))
        estimate[e] = np.where(p != q, freed_all[c] + gain - have[c] - continuity, -np.inf)
        hope = (spare > HOURS_TOL) | (marginal < best_open.max() - HOURS_TOL)
        e = np.flatnonzero(estimate > HOURS_TOL)
        e = e[~self.held_today(a.pair_case[e])]
        q = a.pair_prac[e]
        e = e[hope[q] & self.room(q)]
        pick = e[first_per_group(a.pair_prac[e], -estimate[e], depth)]
        return a.pair_case[pick], pick, np.full(len(pick), -1), np.full(len(pick), -1)

    def exchanges(self, held: _Holdings) -> Candidates:
        """Exchanges between the most promising (p, q) pairs of practitioners: p's unmet need worth more
        than q's least valuable hour, the larger case going to q."""
        a, pair, hours, pi = self.a, self.pair, self.hours, self.pi
        spare, best_open, _, marginal, _ = self.worth()
        edge = best_open[:, None] - np.where(spare > HOURS_TOL, 0.0, marginal)[None, :]
        np.fill_diagonal(edge, 0.0)
        found: list[tuple[int, int, int, int]] = []
        for p, q in zip(*np.unravel_index(np.argsort(-edge, axis=None, kind="stable")[:EXCHANGE_PAIRS], edge.shape)):
            p, q = int(p), int(q)
            if edge[p, q] <= HOURS_TOL:
                break
            cs = held.cases(np.array([p]))[1]
            ds = held.cases(np.array([q]))[1]
            cq, dp = self.pair_index(cs, np.full(len(cs), q)), self.pair_index(ds, np.full(len(ds), p))
            cs, cq, ds, dp = cs[cq >= 0], cq[cq >= 0], ds[dp >= 0], dp[dp >= 0]
            cs, cq = cs[~self.held_today(cs)], cq[~self.held_today(cs)]
            ds, dp = ds[~self.held_today(ds)], dp[~self.held_today(ds)]
            if not (len(cs) and len(ds)):
                continue
            shift = hours[cs][:, None] - hours[ds][None, :]
            stay_c = (pair[cs] == a.current_pair[cs]).astype(float) - (cq == a.current_pair[cs]).astype(float)
            stay_d = (pair[ds] == a.current_pair[ds]).astype(float) - (dp == a.current_pair[ds]).astype(float)
            promise = np.clip(shift, 0.0, None) * edge[p, q] - (pi[cs] * stay_c)[:, None] - (pi[ds] * stay_d)[None, :]
            for k in np.argsort(-promise, axis=None, kind="stable")[:EXCHANGES_PER_PAIR].tolist():
                i, j = divmod(k, len(ds))
                if promise[i, j] <= HOURS_TOL:
                    break
                found.append((int(cs[i]), int(cq[i]), int(ds[j]), int(dp[j])))
        if not found:
            none = np.zeros(0, dtype=np.int64)
            return none, none, none, none
        c, e, d, f = (np.array(column, dtype=np.int64) for column in zip(*found))
        return c, e, d, f

    def make(self, held: _Holdings, c: np.ndarray, e: np.ndarray, d: np.ndarray, f: np.ndarray) -> int:
        """Price the candidates (case c to pair e and, for an exchange, case d to pair f) and make the
        improving ones, best first, one per practitioner; returns how many were made."""
        a, pair, prac, hours, count = self.a, self.pair, self.prac, self.hours, self.count
        version, priced, cost, pi = self.version, self.priced, self.cost, self.pi
        p, q = prac[c], a.pair_prac[e]
        fresh = []
        for i, (ci, ei, di, pi_, qi) in enumerate(zip(c.tolist(), e.tolist(), d.tolist(), p.tolist(), q.tolist())):
            stamp = (pi_, int(version[pi_]), int(version[qi]))  # the holder too: c may have moved since
            if pi_ != qi and priced.get((ci, ei, di)) != stamp:
                priced[(ci, ei, di)] = stamp
                fresh.append(i)
        if not fresh:
            return 0
        sel = np.array(fresh, dtype=np.int64)
        c, e, d, f, p, q = c[sel], e[sel], d[sel], f[sel], p[sel], q[sel]
        G = len(c)
        owner = np.r_[p, q]
        group, members = held.cases(owner)
        drop = np.r_[c, d]
        keep = members != drop[group]
        group, members = group[keep], members[keep]
        add, add_pair = np.r_[d, c], np.r_[f, e]
        extra = np.flatnonzero(add >= 0)
        group = np.r_[group, extra]
        member_pair = np.r_[pair[members], add_pair[extra]]
        members = np.r_[members, add[extra]]
        after, new_hours = caseload_costs(a, self.t, owner, group, members, member_pair)
        swap = d >= 0
        dd = np.maximum(d, 0)
        continuity = pi[c] * ((pair[c] == a.current_pair[c]).astype(float) - (e == a.current_pair[c]).astype(float))
        continuity += np.where(
            swap,
            pi[dd] * ((pair[dd] == a.current_pair[dd]).astype(float) - (f == a.current_pair[dd]).astype(float)),
            0.0,
        )
        delta = after[:G] + after[G:] - cost[p] - cost[q] + continuity
        better = np.flatnonzero(delta < -HOURS_TOL)
        if not len(better):
            return 0
        # moves each candidate adds (a case leaving its current practitioner) or takes back, for the move budget
        cur = a.current_pair

        def leaves(cases: np.ndarray, to: np.ndarray) -> np.ndarray:
            return ((cur[cases] >= 0) & (to != cur[cases])).astype(np.int64)

        added = leaves(c, e) - leaves(c, pair[c]) + np.where(swap, leaves(dd, f) - leaves(dd, pair[dd]), 0)
        budget = a.move_budget
        moved = int(((cur >= 0) & (pair != cur)).sum())
        used = np.zeros(self.P, dtype=bool)
        chosen = []
        for i in better[np.lexsort((better, delta[better]))].tolist():
            if budget is not None and added[i] > 0 and moved + added[i] > budget:
                continue  # a move beyond the PDU's move budget
            if not (used[p[i]] or used[q[i]]):
                used[p[i]] = used[q[i]] = True
                chosen.append(i)
                moved += int(added[i])
        if not chosen:
            return 0
        k = np.array(chosen, dtype=np.int64)
        prac[c[k]], pair[c[k]] = q[k], e[k]
        s = k[swap[k]]
        prac[d[s]], pair[d[s]] = p[s], f[s]
        single = k[~swap[k]]
        np.subtract.at(count, p[single], 1)
        np.add.at(count, q[single], 1)
        cost[p[k]], cost[q[k]] = after[k], after[G + k]
        version[p[k]] += 1
        version[q[k]] += 1
        self.stale[p[k]] = self.stale[q[k]] = True
        taken = np.zeros(2 * G, dtype=bool)
        taken[k] = taken[G + k] = True
        hours[members[taken[group]]] = new_hours[taken[group]]
        self.moves += len(k)
        return len(k)

    def run(self) -> int:
        """Search until no candidate improves: single moves first, looking deeper when a round makes none,
        then exchanges. Returns the number of moves made."""
        depth = SPARE_MOVES_PER_PRACTITIONER
        while True:
            held = _Holdings.of(self.prac, self.P)
            back, spare = self.moves_back(held), self.moves_to_spare(depth)
            singles = [np.r_[x, y] for x, y in zip(back, spare)]
            if self.make(held, *singles):
                depth = SPARE_MOVES_PER_PRACTITIONER
            elif depth < SPARE_MOVES_WHEN_STUCK:
                depth = SPARE_MOVES_WHEN_STUCK
            elif self.make(held, *self.exchanges(held)):
                depth = SPARE_MOVES_PER_PRACTITIONER
            else:
                return self.moves
