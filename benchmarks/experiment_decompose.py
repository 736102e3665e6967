"""An experiment, not a product path: solve the big PDU's `free` LP in blocks, and bound it from the blocks' duals.

A plain script::

    python benchmarks/experiment_decompose.py [--cell needs|wmt] [--block-cases 2500] [--open-moved]

The 30,000 x 1,150 PDU (``bench_big_pdu.py``'s scenario) under ``free`` is cut into blocks of about
``--block-cases`` cases: practitioners are dealt to blocks in turn, sorted by grade, specialisms and load (the
required hours of the cases they hold over their capacity), so each block has the same mix; a case goes with
its current practitioner, and a case with none to a block in proportion to the blocks' spare hours. Partner
contracts are shared by deliverable need and the budget by required hours, as ``pdu_inputs`` shares them
between PDUs. Each block's LP is solved by HiGHS with pricing; their answers together are a point of the whole
PDU's LP (every row holds: checked), so its objective is at least the LP optimum.

The bound is Lagrangian: every row's dual is the blocks' (a row of one case or practitioner belongs to one
block; a shared contract or budget row takes the blocks' median), except each case's hours, away_hours and
component_bands rows, which are kept: with them each case's problem is its stay-or-move choice, solved exactly
(the cheaper of two continuous knapsacks: stay with its current practitioner, or move, paying its move price,
to its cheapest eligible practitioner, any pair of the PDU priced from the duals without being made). At a
block's own duals this gives back the block's optimum exactly (checked). ``--open-moved`` then opens the cases
the blocks moved in the candidate-pair LP (``workload.allocate.candidates``) and solves it as the product does,
logging each opening round; ``--product`` instead solves the candidate-pair LP as the product does (every held
case closed at first) with a 600 s limit in place of the policy's 120 s, logging each opening round.

Prints what it measures; benchmarks/README.md ("Fourth round") quotes one run.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_big_pdu import SHAPE
from bench_pipeline import synth

from workload import pipeline
from workload.allocate import solvers
from workload.allocate.arrays import PduArrays, PduInput
from workload.allocate.candidates import case_chunks, closed_cases, open_cases, with_pairs
from workload.allocate.model import Model, build_model, pdu_arrays, pdu_inputs
from workload.allocate.perspective import moving_cases, moving_links
from workload.allocate.pricing import columns, outside_reduced_costs
from workload.load import load_scenario

KEPT = ("hours", "away_hours", "component_bands")
SHARED = ("contract_", "budget", "move_budget")


def blocks(inp: PduInput, block_cases: int) -> tuple[np.ndarray, np.ndarray]:
    """Block of each case and of each practitioner."""
    pr, cs = inp.practitioners, inp.cases
    n = max(1, round(len(cs) / block_cases))
    cap = pr["capacity_hours"].to_numpy(dtype=float)
    held = cs.groupby("current_practitioner_id")["required_hours"].sum().reindex(pr.index).fillna(0.0).to_numpy()
    load = np.where(cap > 0, held / np.maximum(cap, 1e-9), 0.0)
    order = np.lexsort((load, pr["specialisms"].astype(str).to_numpy(), pr["grade"].astype(str).to_numpy()))
    prac_block = np.empty(len(pr), dtype=np.int64)
    prac_block[order] = np.arange(len(pr)) % n
    case_block = cs["current_practitioner_id"].map(pd.Series(prac_block, index=pr.index)).to_numpy(dtype=float).copy()
    new = np.isnan(case_block)
    spare = np.maximum(np.bincount(prac_block, weights=cap - held, minlength=n), 0.0)
    share = np.cumsum(spare / spare.sum()) if spare.sum() > 0 else np.arange(1, n + 1) / n
    need = cs["required_hours"].to_numpy(dtype=float)[new]
    middle = (np.cumsum(need) - need / 2) / max(need.sum(), 1e-9)
    case_block[new] = np.minimum(np.searchsorted(share, middle), n - 1)
    return case_block.astype(np.int64), prac_block


def block_input(inp: PduInput, cases: np.ndarray, practitioners: np.ndarray, n_blocks: int) -> PduInput:
    partners = inp.partners.copy()
    if len(partners):
        total, mine = inp.deliverable.sum(axis=0), inp.deliverable[cases].sum(axis=0)
        share = np.where(total > 0, mine / np.maximum(total, 1e-12), 1.0 / n_blocks)
        partners["contract_hours_pdu"] = partners["contract_hours_pdu"].to_numpy(dtype=float) * share
    need = inp.cases["required_hours"].to_numpy(dtype=float)
    budget = None if inp.budget_gbp is None else inp.budget_gbp * need[cases].sum() / need.sum()
    return PduInput(
        pdu=inp.pdu,
        cases=inp.cases.iloc[cases],
        practitioners=inp.practitioners.iloc[practitioners],
        partners=partners,
        deliverable=inp.deliverable[cases],
        budget_gbp=budget,
    )


def knapsack(case: np.ndarray, cost: np.ndarray, size: np.ndarray, need: np.ndarray) -> np.ndarray:
    """Least cost of filling ``need[c]`` hours of each case from its items (cost per hour, most hours), or inf."""
    n = len(need)
    order = np.lexsort((cost, case))
    case, cost, size = case[order], cost[order], size[order]
    filled = np.cumsum(size)
    before = filled - size - np.concatenate([[0.0], filled])[np.searchsorted(case, np.arange(n))][case]
    take = np.clip(need[case] - before, 0.0, size)
    value = np.bincount(
        case, weights=np.where(take > 0, take * np.where(np.isfinite(cost), cost, 0.0), 0.0), minlength=n
    )
    got = np.bincount(case, weights=take, minlength=n)
    return np.where(got >= need - 1e-9 * (1 + need), value, np.inf)


def lagrangian_bound(model: Model, duals: np.ndarray) -> float:
    """The bound described in the module docstring, at these row duals (``model`` holds candidate pairs)."""
    a: PduArrays = model.arrays
    C, lay = a.n_cases, model.layout
    kept = np.zeros(model.n_rows, dtype=bool)
    for family in KEPT:
        if family in model.families:
            kept[model.families[family]] = True
    d = np.where(kept, 0.0, duals)
    start, index, value = columns(model)
    priced = np.add.reduceat(np.concatenate([value * d[index], [0.0]]), start[:-1])
    reduced = model.cost - np.where(np.diff(start) > 0, priced, 0.0)
    rhs = np.where(d > 0, model.row_lower, np.where(d < 0, model.row_upper, 0.0))
    total = float(np.where(d != 0, d * rhs, 0.0).sum()) + model.offset
    owned = np.zeros(model.n_cols, dtype=bool)
    moving = moving_cases(a)
    is_moving = np.zeros(C, dtype=bool)
    is_moving[moving] = True
    current = np.where(a.current_pair >= 0, a.pair_prac[np.maximum(a.current_pair, 0)], -1)
    y = lay.cols("y", np.arange(a.n_pairs))
    owned[y] = True
    stays = (a.pair_prac == current[a.pair_case]) | ~is_moving[a.pair_case]
    stay = [(a.pair_case[stays], reduced[y][stays], a.required[a.pair_case[stays]])]
    move = [(a.pair_case[~stays], reduced[y][~stays], a.required[a.pair_case[~stays]])]
    everyone = np.arange(C)
    for name in [b for b in model.blocks if (b.startswith("u") and not b.startswith("ua")) or b == "s"]:
        col = lay.cols(name, everyone)
        owned[col] = True
        stay.append((everyone, reduced[col], model.upper[col]))
    if a.n_links:
        z = lay.cols("z", np.arange(a.n_links))
        owned[z] = True
        stay.append((a.link_case, reduced[z], model.upper[z]))
        if len(moving):
            links = moving_links(a, moving)
            za = lay.cols("za", np.arange(len(links)))
            owned[za] = True
            move.append(
                (
                    a.link_case[links],
                    reduced[z][links] + reduced[za],
                    np.minimum(model.upper[z][links], model.upper[za]),
                )
            )
    move_price = np.zeros(C)
    if len(moving):
        m = lay.cols("m", np.arange(len(moving)))
        owned[m] = True
        move_price[moving] = reduced[m]
        for name in [b for b in model.blocks if b.startswith("ua") or b == "sa"]:
            col = lay.cols(name, np.arange(len(moving)))
            owned[col] = True
            move.append((moving, reduced[col], model.upper[col]))
    # every eligible pair the arrays do not hold, at its cheapest per case (priced in chunks, never made)
    outside = np.full(C, np.inf)
    for lo, hi in case_chunks(C, a.n_practitioners) if a.rule is not None else []:
        assert a.rule is not None
        cost = outside_reduced_costs(model, d, lo, hi)
        usable = a.rule.eligible[lo:hi].copy()
        held = slice(a.pair_start[lo], a.pair_start[hi])
        usable[a.pair_case[held] - lo, a.pair_prac[held]] = False
        outside[lo:hi] = np.where(usable, cost, np.inf).min(axis=1)
    stay.append((everyone[~is_moving], outside[~is_moving], a.required[~is_moving]))
    move.append((moving, outside[moving], a.required[moving]))
    s_case, s_cost, s_size = (np.concatenate([item[i] for item in stay]) for i in range(3))
    m_case, m_cost, m_size = (np.concatenate([item[i] for item in move]) for i in range(3))
    stay_value = knapsack(s_case, s_cost, s_size, a.required)
    move_value = knapsack(m_case, m_cost, m_size, np.where(is_moving, a.required, 0.0)) + move_price
    per_case = np.where(is_moving, np.minimum(stay_value, move_value), stay_value)
    rest = np.minimum(reduced * model.lower, reduced * np.where(np.isfinite(model.upper), model.upper, 0.0))
    return total + float(rest[~owned].sum()) + float(per_case.sum())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cell", choices=("needs", "wmt"), default="needs")
    parser.add_argument("--block-cases", type=int, default=2_500)
    parser.add_argument("--open-moved", action="store_true")
    parser.add_argument("--product", action="store_true")
    args = parser.parse_args()
    began = time.perf_counter()
    scenario = load_scenario(synth(*SHAPE, seed=7))
    policy = scenario.spec.policy.model_copy(update={"continuity": "free"})
    if args.cell == "wmt":
        policy = policy.model_copy(update={"use_partners": False})
    frame = pipeline.lp_cases(scenario, pipeline.score_cases(scenario), args.cell)
    (inp,) = pdu_inputs(frame, scenario.practitioners, scenario.partners, scenario.params, policy).values()
    whole = pdu_arrays(inp, scenario.params, policy)
    if args.product:
        logged_solve(build_model(whole), "the product's candidate LP")
        return
    case_block, prac_block = blocks(inp, args.block_cases)
    n = int(prac_block.max()) + 1
    solved = []
    started = time.perf_counter()
    for b in range(n):
        arrays = pdu_arrays(
            block_input(inp, np.flatnonzero(case_block == b), np.flatnonzero(prac_block == b), n),
            scenario.params,
            policy,
        )
        if len(arrays.unplaced):
            raise SystemExit(f"block {b}: {len(arrays.unplaced)} case(s) have no eligible practitioner in the block")
        model = build_model(arrays)
        t = time.perf_counter()
        result = solvers.solve_highs(model, 600)
        assert result.values is not None and result.row_dual is not None and result.objective is not None
        own = lagrangian_bound(model, result.row_dual)  # at its own duals: its own optimum (a check)
        solved.append((model, result))
        print(
            f"block {b}: {arrays.n_cases:,} cases x {arrays.n_practitioners} practitioners, LP {result.objective:,.1f} "
            f"in {time.perf_counter() - t:.1f} s, bound at its own duals {own:,.1f}"
        )
    block_seconds = time.perf_counter() - started
    # the blocks' answers as one point of the whole PDU's LP, every case open, with the pairs the blocks used
    full = open_cases(whole, closed_cases(whole))
    case_at = {c: i for i, c in enumerate(full.case_ids)}
    prac_at = {p: i for i, p in enumerate(full.practitioner_ids)}
    used_case, used_prac = [], []
    for model, result in solved:
        ba = model.arrays
        assert result.values is not None
        used = np.flatnonzero(result.values[model.blocks["y"]] > 1e-9)
        used_case += [case_at[c] for c in ba.case_ids[ba.pair_case[used]]]
        used_prac += [prac_at[p] for p in ba.practitioner_ids[ba.pair_prac[used]]]
    full = with_pairs(full, np.array(used_case), np.array(used_prac))
    union = build_model(full)
    column_at = {name: i for i, name in enumerate(union.column_names())}
    row_at = {name: i for i, name in enumerate(union.row_names())}
    point, duals, shared = np.zeros(union.n_cols), np.zeros(union.n_rows), {}
    for model, result in solved:
        assert result.values is not None and result.row_dual is not None
        names = model.column_names()
        for j in np.flatnonzero(np.abs(result.values) > 1e-9):
            point[column_at[names[j]]] += result.values[j]
        for name, dual in zip(model.row_names(), result.row_dual):
            if name.startswith(SHARED):
                shared.setdefault(name, []).append(dual)
            elif name in row_at:
                duals[row_at[name]] = dual
    for name, values in shared.items():
        duals[row_at[name]] = float(np.median(values))
    violations = union.violations(point)
    objective = union.objective(point)
    bound = lagrangian_bound(union, duals)
    moved = moving_cases(full)[point[union.blocks["m"]] > 1e-6]
    print(
        f"{n} blocks in {block_seconds:.1f} s; their point {objective:,.1f} ({len(violations)} rows broken, "
        f"{len(moved):,} cases moved); bound {bound:,.1f}, {(objective - bound) / bound:.2%} below it; "
        f"{time.perf_counter() - began:.1f} s in all"
    )
    if args.open_moved:
        arrays = open_cases(whole, np.intersect1d(moved, closed_cases(whole)))
        used = point[union.blocks["y"]] > 1e-9
        logged_solve(
            build_model(with_pairs(arrays, full.pair_case[used], full.pair_prac[used])), "from the blocks' moves"
        )


def logged_solve(model: Model, label: str) -> None:
    """Solve a candidate-pair LP as the product does (600 s limit), printing each opening round."""
    began = time.perf_counter()
    opening = solvers.opening

    def logged(model: Model, row_dual: np.ndarray) -> tuple[np.ndarray, float]:
        cases, gain = opening(model, row_dual)
        print(
            f"  {time.perf_counter() - began:6.1f} s: {len(cases):,} cases to open, could gain {gain:,.1f}", flush=True
        )
        return cases, gain

    solvers.opening = logged
    result = solvers.solve_highs(model, 600)
    print(
        f"{label}: {result.status} in {time.perf_counter() - began:.1f} s, objective {result.objective}, bound {result.bound}; {result.message}"
    )


if __name__ == "__main__":
    main()
