"""Very large PDUs where cases may move (`rebalance`, `free`): the LP solved in blocks, bounded from their prices.

A PDU of tens of thousands of cases (a region sent as one PDU) holds candidate pairs
(:mod:`workload.allocate.candidates`). Where its cases may move, its LP, with a stay-or-move choice for each of
thousands of cases, took HiGHS 48-97 s a round under ``free`` (benchmarks/README.md, "Fourth round"), while the
same cases in PDUs of 2,500 take about 2 s each. So from :data:`DECOMPOSE_MIN_CASES` cases the PDU is cut into
blocks of about :data:`DECOMPOSE_BLOCK_CASES`:

- practitioners are dealt to blocks in turn, sorted by staff cost (so by grade), women's specialism and load
  (the required hours of the cases they hold over their capacity), so every block has the same mix;
- a case goes with its current practitioner; a case with none goes to a block in proportion to the blocks'
  spare hours, or, if it has no eligible practitioner there, to the block where it has most;
- partner contracts are shared by the need each block's cases could take from the partner, and the budget
  by required hours, as :func:`workload.allocate.arrays.pdu_inputs` shares them between PDUs; the move budget
  (``rebalance``) by the cases each block holds.

Each block's LP is solved with every eligible pair (pricing, :func:`workload.allocate.solvers.solve_highs`).
Their answers together are a point of the whole PDU's LP (every row holds; a case only goes to a
practitioner of its block), so its objective is at least the LP optimum. The bound is
:func:`workload.allocate.lagrangian.stay_or_move_bound` at the blocks' row prices (a shared contract, budget or move
budget row takes the blocks' median). One grade's capacity prices differ between blocks, and in the bound every case
is drawn to the cheapest practitioner of its grade anywhere, so prices are also tried capped, per staff cost,
at a few of their percentiles (:data:`PRICE_CAPS`); any prices give a valid bound, and the highest is kept.
The blocks' point is not the LP's optimum, so no shadow prices are read from it.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

import numpy as np

from workload.allocate.arrays import PduArrays
from workload.allocate.candidates import case_chunks, closed_cases, open_cases, with_pairs
from workload.allocate.lagrangian import stay_or_move_bound
from workload.allocate.model import Model, build_model
from workload.allocate.perspective import moving_cases
from workload.allocate.solvers import SolveStatus, solve_highs

DECOMPOSE_BLOCK_CASES = 2_500
"""Solver setting, not a model number: cases per block. Measured on the 30,000 x 1,150 PDU (needs cell, one
core): 12 blocks of 2,428-2,559 cases took 1.4-3.3 s each, and their point was 0.044% above the LP optimum."""

DECOMPOSE_MIN_CASES = 10_000
"""Solver setting: a PDU holding candidate pairs is solved in blocks only from this many cases (national PDUs
have about 2,500 and never hold candidate pairs)."""

PRICE_CAPS = (5.0, 10.0, 25.0)
"""Solver setting: percentiles at which each staff cost's capacity prices are also capped for the bound. On the
30,000 x 1,150 PDU (needs cell, `free`) the blocks' own prices bound the LP 1.9% below its optimum; capped at the
5th, 10th and 25th percentiles, 0.43%, 0.48% and 0.47% below."""

SHARED_ROWS = ("contract", "budget", "move_budget")
"""Row families shared by the blocks (each holds its share): their price in the bound is the blocks' median."""


@dataclass(frozen=True)
class InBlocks:
    """The blocks' point as a point of the whole PDU's LP (``model``, every case open), and its bound."""

    model: Model
    values: np.ndarray
    objective: float
    bound: float
    blocks: int
    solver_seconds: float
    message: str


def applies(a: PduArrays) -> bool:
    """Whether the PDU is solved in blocks: it holds candidate pairs, cases may move (``rebalance`` or ``free``),
    there is no caseload cap (it counts cases: the explicit form) and it has at least :data:`DECOMPOSE_MIN_CASES`
    cases."""
    return a.rule is not None and a.limit is None and a.n_cases >= DECOMPOSE_MIN_CASES and len(closed_cases(a)) > 0


def partition(a: PduArrays) -> tuple[np.ndarray, np.ndarray]:
    """Block of each case and of each practitioner (module docstring); every case has an eligible practitioner in
    its block."""
    assert a.rule is not None
    n = max(1, min(round(a.n_cases / DECOMPOSE_BLOCK_CASES), a.n_practitioners))
    held = a.current_pair >= 0
    holder = np.where(held, a.pair_prac[np.maximum(a.current_pair, 0)], -1)
    held_hours = np.bincount(holder[held], weights=a.required[held], minlength=a.n_practitioners)
    load = np.divide(held_hours, a.capacity, out=np.zeros(a.n_practitioners), where=a.capacity > 0)
    order = np.lexsort((load, a.rule.specialist, a.staff_cost))
    prac_block = np.empty(a.n_practitioners, dtype=np.int64)
    prac_block[order] = np.arange(a.n_practitioners) % n
    case_block = np.where(held, prac_block[np.maximum(holder, 0)], -1)
    spare = np.maximum(np.bincount(prac_block, weights=a.capacity - held_hours, minlength=n), 0.0)
    share = np.cumsum(spare / spare.sum()) if spare.sum() > 0 else np.arange(1, n + 1) / n
    new = np.flatnonzero(~held)
    need = a.required[new]
    middle = (np.cumsum(need) - need / 2) / max(float(need.sum()), 1e-9)
    case_block[new] = np.minimum(np.searchsorted(share, middle), n - 1)
    # eligible practitioners of each case in each block (cases x blocks), made in chunks of cases
    one_hot = np.zeros((a.n_practitioners, n), dtype=np.int32)
    one_hot[np.arange(a.n_practitioners), prac_block] = 1
    counts = np.zeros((a.n_cases, n), dtype=np.int32)
    for lo, hi in case_chunks(a.n_cases, a.n_practitioners):
        counts[lo:hi] = a.rule.eligible[lo:hi].astype(np.int32) @ one_hot
    stranded = counts[np.arange(a.n_cases), case_block] == 0
    case_block[stranded] = counts[stranded].argmax(axis=1)
    return case_block, prac_block


def block_arrays(a: PduArrays, cases: np.ndarray, practitioners: np.ndarray, n_blocks: int) -> PduArrays:
    """The arrays of one block: these cases (sorted positions) and practitioners, every eligible pair between
    them, and the block's share of each partner contract, the budget and the move budget."""
    assert a.rule is not None
    eligible = a.rule.eligible[np.ix_(cases, practitioners)]
    pair_case, pair_prac = np.nonzero(eligible)  # sorted by case, then practitioner
    P = len(practitioners)
    local = np.full(a.n_practitioners, -1, dtype=np.int64)
    local[practitioners] = np.arange(P)
    current_pair = np.full(len(cases), -1, dtype=np.int64)
    held = np.flatnonzero(a.current_pair[cases] >= 0)
    holder = local[a.pair_prac[a.current_pair[cases[held]]]]
    current_pair[held] = np.searchsorted(pair_case * P + pair_prac, held * P + holder)
    position = np.full(a.n_cases, -1, dtype=np.int64)
    position[cases] = np.arange(len(cases))
    links = np.flatnonzero(position[a.link_case] >= 0)
    total = np.bincount(a.link_partner, weights=a.link_hours, minlength=len(a.partner_ids))
    mine = np.bincount(a.link_partner[links], weights=a.link_hours[links], minlength=len(a.partner_ids))
    contract_share = np.divide(mine, total, out=np.full(len(total), 1.0 / n_blocks), where=total > 0)
    budget = None if a.budget is None else a.budget * float(a.required[cases].sum() / max(a.required.sum(), 1e-12))
    held_here, held_all = int((a.current_pair[cases] >= 0).sum()), int((a.current_pair >= 0).sum())
    moves = None if a.move_budget is None else a.move_budget * held_here / max(held_all, 1)
    return dataclasses.replace(
        a,
        case_ids=a.case_ids[cases],
        practitioner_ids=a.practitioner_ids[practitioners],
        unplaced=a.unplaced[:0],
        required=a.required[cases],
        floor=a.floor[cases],
        weight=a.weight[cases],
        current_id=a.current_id[cases],
        current_pair=current_pair,
        capacity=a.capacity[practitioners],
        staff_cost=a.staff_cost[practitioners],
        pair_case=pair_case.astype(np.int64),
        pair_prac=pair_prac.astype(np.int64),
        pair_start=np.concatenate([[0], np.cumsum(np.bincount(pair_case, minlength=len(cases)))]).astype(np.int64),
        pair_penalty=a.rule.penalty(cases[pair_case], practitioners[pair_prac]),
        link_case=position[a.link_case[links]],
        link_partner=a.link_partner[links],
        link_hours=a.link_hours[links],
        contract=a.contract * contract_share,
        budget=budget,
        move_budget=moves,
        move_price=a.move_price[cases],
        restart=a.restart[cases],
        kept=a.kept[cases],
        overflow_limit=a.overflow_limit[practitioners],
        rule=None,
    )


def capped_prices(model: Model, duals: np.ndarray, percentile: float) -> np.ndarray:
    """``duals`` with each staff cost's negative capacity prices capped at their ``percentile``."""
    rows = model.families["capacity"]
    price = duals[rows].copy()
    cost = model.arrays.staff_cost
    for value in np.unique(cost):
        group = (cost == value) & (price < 0)
        if group.any():
            price[group] = np.minimum(price[group], np.percentile(price[group], percentile))
    out = duals.copy()
    out[rows] = price
    return out


def unique_names(names: list[str]) -> list[str]:
    """Row names made unique: a family with several rows per case or link (the partner split, the component
    floors) repeats a name, so the k-th repeat gets ``#k``; both the blocks' and the whole model's rows come in
    the same order within a family, so the same row gets the same name."""
    seen: dict[str, int] = {}
    out = []
    for name in names:
        k = seen.get(name, 0)
        seen[name] = k + 1
        out.append(f"{name}#{k}" if k else name)
    return out


def solve_in_blocks(a: PduArrays, time_limit: float) -> InBlocks | None:
    """Solve the PDU's LP in blocks (module docstring); None when a block is not solved to optimality in time."""
    start = time.perf_counter()
    case_block, prac_block = partition(a)
    n = int(prac_block.max()) + 1
    solved: list[tuple[Model, np.ndarray, np.ndarray]] = []
    used_case, used_prac = [], []  # the pairs each block's answer uses, as positions in the PDU's arrays
    solver_seconds = 0.0
    for b in range(n):
        cases = np.flatnonzero(case_block == b)
        left = time_limit - (time.perf_counter() - start)
        if not len(cases):
            continue  # its practitioners give no hours in the point; their rows' prices are 0
        if left <= 0:
            return None
        practitioners = np.flatnonzero(prac_block == b)
        model = build_model(block_arrays(a, cases, practitioners, n))
        result = solve_highs(model, left)
        solver_seconds += result.solver_seconds
        if result.status != SolveStatus.OPTIMAL or result.values is None or result.row_dual is None:
            return None
        model = result.model or model
        solved.append((model, result.values, result.row_dual))
        used = np.flatnonzero(result.values[model.blocks["y"]] > 1e-9)
        used_case.append(cases[model.arrays.pair_case[used]])
        used_prac.append(practitioners[model.arrays.pair_prac[used]])
    # the whole PDU (the same cases and practitioners, in the same order), every case open, with those pairs
    whole = build_model(
        with_pairs(open_cases(a, closed_cases(a)), np.concatenate(used_case), np.concatenate(used_prac))
    )
    column_at = {name: i for i, name in enumerate(whole.column_names())}
    row_at = {name: i for i, name in enumerate(unique_names(whole.row_names()))}
    point, duals = np.zeros(whole.n_cols), np.zeros(whole.n_rows)
    shared: dict[str, list[float]] = {}
    for model, values, row_dual in solved:
        names = model.column_names()
        nonzero = np.flatnonzero(np.abs(values) > 1e-9)
        found = np.array([column_at.get(names[j], -1) for j in nonzero], dtype=np.int64)
        if (found < 0).any():  # a block's column the whole LP lacks: no point of it (not expected)
            return None
        point[found] = values[nonzero]
        row_names = unique_names(model.row_names())
        at = np.array([row_at.get(name, -1) for name in row_names], dtype=np.int64)
        is_shared = np.zeros(len(row_names), dtype=bool)
        for family in SHARED_ROWS:
            if family in model.families:
                is_shared[model.families[family]] = True
        own = ~is_shared & (at >= 0)
        duals[at[own]] = row_dual[own]
        for r in np.flatnonzero(is_shared):  # one row per partner and the budget
            shared.setdefault(row_names[r], []).append(float(row_dual[r]))
    for name, prices in shared.items():
        duals[row_at[name]] = float(np.median(prices))
    point = np.clip(point, whole.lower, whole.upper)
    bound = max(stay_or_move_bound(whole, d) for d in [duals, *[capped_prices(whole, duals, q) for q in PRICE_CAPS]])
    objective = whole.objective(point)
    moved = int((point[whole.blocks["m"]] > 1e-6).sum()) if len(moving_cases(whole.arrays)) else 0
    message = (
        f"LP solved in {n} blocks of about {DECOMPOSE_BLOCK_CASES:,} cases ({moved:,} case(s) moved in part or "
        f"whole); the bound is Lagrangian, from the blocks' prices, and their point is "
        f"{(objective - bound) / max(abs(bound), 1.0):.2%} above it"
    )
    return InBlocks(whole, point, objective, bound, n, solver_seconds, message)
