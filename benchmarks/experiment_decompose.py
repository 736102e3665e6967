"""An experiment on the big PDU where cases may move: the LP solved in blocks (the product's path) against the
LP solved whole (the candidate-pair path it replaced from 10,000 cases).

A plain script::

    python benchmarks/experiment_decompose.py [--continuity free|rebalance] [--cell needs|wmt] [--whole] [--open-moved]

It builds the 30,000 x 1,150 PDU of ``bench_big_pdu.py`` (one cell, as ``workload run`` scores it) and solves its
LP in blocks (:func:`workload.allocate.decompose.solve_in_blocks`), printing each block's size and time, the
blocks' point and its bound, and the bound at the blocks' own prices and at each price cap
(:data:`workload.allocate.decompose.PRICE_CAPS`). ``--whole`` also solves the LP whole by the candidate-pair
path (every held case closed at first, opened as its duals say; 600 s limit), printing each opening round;
``--open-moved`` does the same starting with the cases the blocks moved already open. Prints only;
benchmarks/README.md ("Fourth round") quotes one run.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_big_pdu import SHAPE
from bench_pipeline import synth

from workload import pipeline
from workload.allocate import decompose, lagrangian, solvers
from workload.allocate.candidates import closed_cases, open_cases, with_pairs
from workload.allocate.model import Model, build_model, pdu_arrays, pdu_inputs
from workload.allocate.perspective import moving_cases
from workload.load import load_scenario


def logged_solve(model: Model, label: str) -> None:
    """Solve a candidate-pair LP whole, as the product did (600 s limit), printing each opening round."""
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
    solvers.opening = opening
    print(
        f"{label}: {result.status} in {time.perf_counter() - began:.1f} s, objective {result.objective}, bound {result.bound}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--continuity", choices=("free", "rebalance"), default="free")
    parser.add_argument("--cell", choices=("needs", "wmt"), default="needs")
    parser.add_argument("--whole", action="store_true")
    parser.add_argument("--open-moved", action="store_true")
    args = parser.parse_args()
    scenario = load_scenario(synth(*SHAPE, seed=7))
    policy = scenario.spec.policy.model_copy(update={"continuity": args.continuity})
    if args.cell == "wmt":
        policy = policy.model_copy(update={"use_partners": False})
    frame = pipeline.lp_cases(scenario, pipeline.score_cases(scenario), args.cell)
    (inp,) = pdu_inputs(frame, scenario.practitioners, scenario.partners, scenario.params, policy).values()
    a = pdu_arrays(inp, scenario.params, policy)
    assert decompose.applies(a)

    case_block, prac_block = decompose.partition(a)
    n = int(prac_block.max()) + 1
    for b in range(n):
        block = decompose.block_arrays(a, np.flatnonzero(case_block == b), np.flatnonzero(prac_block == b), n)
        began = time.perf_counter()
        result = solvers.solve_highs(build_model(block), 600)
        print(
            f"block {b}: {block.n_cases:,} cases x {block.n_practitioners} practitioners, LP {result.objective:,.1f} "
            f"in {time.perf_counter() - began:.1f} s"
        )
    bounds: list[tuple[str, np.ndarray]] = []
    original = lagrangian.stay_or_move_bound

    def kept(model: Model, duals: np.ndarray) -> float:
        bounds.append(
            (
                "the blocks' prices"
                if not bounds
                else f"capped at percentile {decompose.PRICE_CAPS[len(bounds) - 1]:g}",
                duals,
            )
        )
        value = original(model, duals)
        print(f"  bound at {bounds[-1][0]}: {value:,.1f}")
        return value

    decompose.stay_or_move_bound = kept
    began = time.perf_counter()
    found = decompose.solve_in_blocks(a, 600)
    decompose.stay_or_move_bound = original
    assert found is not None
    moved = moving_cases(found.model.arrays)[found.values[found.model.blocks["m"]] > 1e-6]
    print(
        f"in blocks: {time.perf_counter() - began:.1f} s; point {found.objective:,.1f} "
        f"({len(found.model.violations(found.values))} rows broken, {len(moved):,} cases moved); bound {found.bound:,.1f}"
    )
    if args.whole:
        logged_solve(build_model(a), "whole, as before")
    if args.open_moved:
        arrays = open_cases(a, np.intersect1d(moved, closed_cases(a)))
        used = found.values[found.model.blocks["y"]] > 1e-9
        grown = with_pairs(arrays, found.model.arrays.pair_case[used], found.model.arrays.pair_prac[used])
        logged_solve(build_model(grown), "whole, from the blocks' moves")


if __name__ == "__main__":
    main()
