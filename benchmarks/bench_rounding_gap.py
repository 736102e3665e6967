"""Measure the rounding's gap to the exact MIP on small PDUs, by how far need exceeds capacity.

A plain script, not a test: ``python benchmarks/bench_rounding_gap.py``. For need at 90-150% of capacity and
two PDU shapes (60 cases x 3 practitioners, 80 x 4; two partners; ``Policy()`` defaults; seeds 0-9), it solves
the LP, rounds it (with and without the local search) and solves the exact MIP, and writes the mean and
largest gap, (rounded - MIP optimum) / MIP optimum, to ``benchmarks/results/rounding_gap.md`` (the table in
docs/model.md, "Rounding").
"""

from __future__ import annotations

import statistics
from pathlib import Path

from workload.allocate.lp import round_allocation, solve_highs
from workload.allocate.model import build_model, pdu_arrays, pdu_inputs
from workload.params import load_parameters
from workload.scenario import Policy
from workload.testing import random_allocation_inputs

RESULTS = Path(__file__).resolve().parent / "results"
LOADS = (0.9, 1.0, 1.1, 1.2, 1.3, 1.5)
SHAPES = ((60, 3), (80, 4))
SEEDS = range(10)


def gaps(load: float, cases_per_pdu: int, practitioners_per_pdu: int) -> tuple[list[float], list[float]]:
    params, policy = load_parameters(), Policy()
    with_search, without = [], []
    for seed in SEEDS:
        cases, practitioners, partners = random_allocation_inputs(
            seed, cases_per_pdu=cases_per_pdu, practitioners_per_pdu=practitioners_per_pdu, n_partners=2, load=load
        )
        (inp,) = pdu_inputs(cases, practitioners, partners, params, policy).values()
        arrays = pdu_arrays(inp, params, policy)
        lp, exact = build_model(arrays), build_model(arrays, integral=True)
        relaxed, best = solve_highs(lp, 60), solve_highs(exact, 120)
        for improve, out in ((True, with_search), (False, without)):
            r = round_allocation(lp, relaxed.values, improve=improve)
            objective = exact.objective(exact.solution_vector(r.pair, r.hours, r.link, r.partner_hours))
            out.append((objective - best.objective) / best.objective * 100)
    return with_search, without


def main() -> None:
    lines = [
        "# Rounding gap against the exact MIP",
        "",
        (
            "Written by `python benchmarks/bench_rounding_gap.py`: random PDUs (`workload.testing.random_allocation_inputs`, "
            "2 partners, `Policy()` defaults, seeds 0-9), gap = (rounded - MIP optimum) / MIP optimum."
        ),
        "",
        "| need / capacity | 60 cases x 3 practitioners: mean / max | 80 x 4: mean / max | without the local search (60 x 3; 80 x 4), mean |",
        "|---|---|---|---|",
    ]
    for load in LOADS:
        cells = [gaps(load, c, p) for c, p in SHAPES]
        (a, a0), (b, b0) = cells
        lines.append(
            f"| {load:.0%} | {statistics.mean(a):.2f}% / {max(a):.2f}% | {statistics.mean(b):.2f}% / {max(b):.2f}% | "
            f"{statistics.mean(a0):.2f}%; {statistics.mean(b0):.2f}% |"
        )
        print(lines[-1], flush=True)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "rounding_gap.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
