"""Candidate pairs: a very large PDU's arrays hold a few (case, practitioner) pairs per case, not every eligible one.

Under ``free`` or ``rebalance`` every case may go to any eligible practitioner, so a PDU of 30,000 cases and
1,150 practitioners (a region sent as one PDU) has 34.5 million eligible pairs, and arrays of every pair take
over 10 GB. Above :data:`CANDIDATE_THRESHOLD` eligible pairs, :func:`workload.allocate.arrays.pdu_arrays`
keeps each case's current pair and :data:`CANDIDATE_PAIRS` others (:func:`candidate_pairs`), and the arrays
carry the eligibility rule (:class:`PairRule`: the cases x practitioners matrix as booleans, and what an hour on
any pair costs) so that the LP can price every other eligible pair from its duals without making it
(:func:`workload.allocate.pricing.outside_entering`): a pair with a negative reduced cost joins the arrays
(:func:`with_pairs`) and the model is rebuilt around it.

A case held by a practitioner who may keep it starts *closed* (:func:`closed_cases`): its current pair only, so
it has none of the perspective form's columns and rows (:mod:`workload.allocate.perspective`; with 28,510 cases
that may move under ``free`` those are 333,000 rows, which made HiGHS's first LP alone take minutes). The LP's
duals say which closed cases could gain by moving (:func:`workload.allocate.pricing.opening`); those are opened
(:func:`open_cases`: their candidate pairs, moved share and rows join the model) and HiGHS carries on from its
basis. When no pair prices in and no closed case would open, the LP's optimum over the arrays is its optimum
over every eligible pair with every case free to move (docs/model.md, "Solving").
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from workload.allocate.arrays import PduArrays
    from workload.scenario import Policy

CANDIDATE_THRESHOLD = 5_000_000
"""Solver setting, not a model number: a PDU with more eligible (case, practitioner) pairs than this holds
candidate pairs only (about 1.2 GB of arrays and model at the ~240 bytes a pair
:data:`workload.allocate.parallel.PAIR_BYTES` measures). National PDUs (about 2,500 x 110: at most 275,000
pairs) stay far below it, so their results do not change; a 30,000 x 1,150 PDU under ``free`` is above it."""

CANDIDATE_PAIRS = 24
"""Solver setting: each case's candidate pairs are its current pair and this many others, spread evenly over its
eligible practitioners (the LP starts from :data:`CANDIDATE_START_PAIRS` of them and prices the others in; they
are also the rounding's local search's neighbourhood, whose moves stay within the arrays' pairs)."""

CANDIDATE_START_PAIRS = 2
"""Solver setting: with candidate pairs, HiGHS's first restricted LP holds each case's current pair and this many
others (not :data:`workload.allocate.pricing.PRICING_START_PAIRS`' 12). Measured on the 30,000 x 1,150 PDU
under ``rebalance`` (176,502 rows): the first LP took 9 s from 2 others a case and 45 s from 12; the
pairs it lacks are priced in warm."""

CHUNK_ENTRIES = 2_000_000
"""Solver setting: cases x practitioners entries handled at once when pairs are chosen or priced (about 16 MB
of float64 at a time)."""


def uses_candidates(n_eligible: int, policy: Policy) -> bool:
    """Whether a PDU with ``n_eligible`` eligible pairs holds candidate pairs only: above
    :data:`CANDIDATE_THRESHOLD`, when its LP is solved by HiGHS by pricing pairs in (the projected LP: no
    caseload cap, not the exact MIP). Otherwise every eligible pair is in the arrays, as a solver without
    pricing (or the explicit form with a cap) needs."""
    return (
        n_eligible > CANDIDATE_THRESHOLD
        and policy.solver == "highs"
        and policy.caseload_cap is None
        and not policy.exact
    )


def case_chunks(n_cases: int, n_practitioners: int) -> list[tuple[int, int]]:
    """Ranges of cases ``[lo, hi)`` of about :data:`CHUNK_ENTRIES` cases x practitioners entries each."""
    step = max(CHUNK_ENTRIES // max(n_practitioners, 1), 1)
    return [(lo, min(lo + step, n_cases)) for lo in range(0, n_cases, step)]


@dataclass(frozen=True)
class PairRule:
    """Which pairs are eligible and the extra cost of an hour on each, for any pair (made or not).

    ``eligible`` is the cases x practitioners matrix of the continuity rule
    (:func:`workload.allocate.continuity.continuity_pairs`, placeable cases only). The extra cost per hour of
    pair (c, p) is :attr:`workload.allocate.arrays.PduArrays.pair_penalty`'s: ``load_cost[p]`` when case c has
    no current pair (``placed``: the allocator places it), plus ``pool_penalty`` when ``soft_pool`` and c is a
    woman's case (``female``) and p not a specialist (``specialist``).
    """

    eligible: np.ndarray
    eligible_count: np.ndarray
    """Eligible practitioners per case (the row sums of ``eligible``)."""
    placed: np.ndarray
    load_cost: np.ndarray
    female: np.ndarray
    specialist: np.ndarray
    soft_pool: bool
    pool_penalty: float

    def penalty(self, case: np.ndarray, prac: np.ndarray) -> np.ndarray:
        """Extra cost per hour of the pairs (``case[i]``, ``prac[i]``)."""
        out = np.zeros(len(case))
        out = out + np.where(self.placed[case], self.load_cost[prac], 0.0)
        if self.soft_pool:
            out = out + np.where(self.female[case] & ~self.specialist[prac], self.pool_penalty, 0.0)
        return out

    def penalty_block(self, lo: int, hi: int) -> np.ndarray:
        """Extra cost per hour of every pair of cases ``lo:hi`` (dense, cases x practitioners)."""
        out = np.where(self.placed[lo:hi, None], self.load_cost[None, :], 0.0)
        if self.soft_pool:
            out = out + np.where(self.female[lo:hi, None] & ~self.specialist[None, :], self.pool_penalty, 0.0)
        return out


def candidate_pairs(
    eligible: np.ndarray, current: np.ndarray, others: int, closed: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """``others + 1`` pairs per case (every eligible pair when it has fewer): its current pair and ``others``
    more, spread evenly over its eligible practitioners.

    ``current[c]`` is the column of case c's current pair (-1: none). Case c with n eligible practitioners
    takes those of rank ``(c + i * max(n // (others + 1), 1)) mod n`` for i = 0 ... others among them (cases start
    at different practitioners, so every practitioner is some cases' candidate); when its current practitioner
    is not among them, it takes the place of the last. A case that may move thus keeps two pairs or more, as
    with every eligible pair. Returns (case, practitioner), sorted by case then practitioner, like
    ``np.nonzero(eligible)``; made in chunks of cases, so the cases x practitioners matrix is never held as
    integers. A ``closed`` case (with a current pair) takes its current pair only.
    """
    n_cases, n_practitioners = eligible.shape
    cases, practs = [], []
    for lo, hi in case_chunks(n_cases, n_practitioners):
        block = eligible[lo:hi]
        count = np.maximum(block.sum(axis=1), 1)
        step = np.maximum(count // (others + 1), 1)[:, None]
        rank = np.cumsum(block, axis=1, dtype=np.int32) - 1
        shifted = (rank - (np.arange(lo, hi) % count)[:, None]) % count[:, None]
        slot = np.where(shifted % step == 0, shifted // step, others + 1)
        keep = block & (slot <= others)
        rows = np.flatnonzero(current[lo:hi] >= 0)
        away = rows[~keep[rows, current[lo:hi][rows]]]  # current practitioner not taken: replaces the last
        keep[away] &= slot[away] < others
        if closed is not None:
            keep[closed[lo:hi]] = False
        keep[rows, current[lo:hi][rows]] = True
        c, p = np.nonzero(keep)
        cases.append(c + lo)
        practs.append(p)
    if not cases:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(cases).astype(np.int64), np.concatenate(practs).astype(np.int64)


def with_pairs(a: PduArrays, case: np.ndarray, prac: np.ndarray) -> PduArrays:
    """The arrays with the pairs (``case[i]``, ``prac[i]``) added (pairs already there are not repeated).

    Only the pair arrays change (``pair_case``, ``pair_prac``, ``pair_start``, ``pair_penalty``) and
    ``current_pair``, which is re-found among them; everything per case, practitioner and link is the same,
    so the model's rows are the same (each case keeps two or more pairs, so the moving cases are too).
    """
    assert a.rule is not None
    P = a.n_practitioners
    key = np.union1d(a.pair_case * P + a.pair_prac, case.astype(np.int64) * P + prac)
    pair_case, pair_prac = key // P, key % P
    held = a.current_pair >= 0
    current_pair = np.full(a.n_cases, -1, dtype=np.int64)
    old = a.current_pair[held]
    current_pair[held] = np.searchsorted(key, a.pair_case[old] * P + a.pair_prac[old])
    pair_start = np.concatenate([[0], np.cumsum(np.bincount(pair_case, minlength=a.n_cases))]).astype(np.int64)
    return dataclasses.replace(
        a,
        pair_case=pair_case,
        pair_prac=pair_prac,
        pair_start=pair_start,
        pair_penalty=a.rule.penalty(pair_case, pair_prac),
        current_pair=current_pair,
    )


def closed_cases(a: PduArrays) -> np.ndarray:
    """Cases that may move but whose arrays hold their current pair only (*closed*): with no other pair they stay,
    so they have no moved share and none of the perspective form's rows (:mod:`workload.allocate.perspective`)."""
    assert a.rule is not None
    return np.flatnonzero(
        (a.current_pair >= 0) & (np.diff(a.pair_start) == 1) & (a.rule.eligible_count >= 2) & (a.required > 0)
    )


def open_cases(a: PduArrays, cases: np.ndarray) -> PduArrays:
    """The arrays with these closed cases given their candidate pairs (:func:`candidate_pairs`): they may now
    move, and the model has their moved share and rows."""
    assert a.rule is not None
    current = np.where(a.current_pair[cases] >= 0, a.pair_prac[np.maximum(a.current_pair[cases], 0)], -1)
    case, prac = candidate_pairs(a.rule.eligible[cases], current, CANDIDATE_PAIRS)
    return with_pairs(a, cases[case], prac)
