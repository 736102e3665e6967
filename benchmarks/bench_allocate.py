"""Time the LP allocator on one PDU of 2,500 cases x 90 practitioners (issue 5's yardstick).

A plain script, not a test: ``python benchmarks/bench_allocate.py [--repeats R] [--cbc]``. One synthetic
PDU (``workload.testing.random_allocation_inputs``: 2,500 cases, 90 practitioners, 3 partners, need at 120%
of capacity, as the service runs) is built and solved ``repeats`` times each way, and the medians go to
``benchmarks/results/allocate.json`` and ``allocate.md``:

- **build**: cutting the PDU from the frames (``pdu_inputs`` + ``pdu_arrays``) and defining the model as
  arrays (``build_model``);
- **direct HiGHS hand-off**: arrays straight into ``highspy`` and solved, as one LP (``pricing=False``) and
  as the default (pairs priced in); wall time against HiGHS's own run time, so the hand-off's overhead is
  the difference;
- **PuLP hand-off**: the same arrays as a PuLP problem (``to_pulp``), then PuLP's copy into HiGHS and the
  solve; with ``--cbc`` also CBC through PuLP (once: it is slow);
- **rounding** (one practitioner per case, repaired, improved) and the whole PDU (``solve_pdu``), with the
  share of split cases in the LP and the objective of the rounded answer against the LP bound.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import highspy
import numpy as np
import pulp

from workload.allocate.lp import lp_choice, round_allocation, solve_highs, solve_pdu, to_pulp
from workload.allocate.model import build_model, pdu_arrays, pdu_inputs
from workload.params import load_parameters
from workload.scenario import Policy
from workload.testing import random_allocation_inputs

RESULTS = Path(__file__).resolve().parent / "results"
CASES, PRACTITIONERS, PARTNERS, LOAD, SEED = 2500, 90, 3, 1.2, 0


def median(values: list[float]) -> float:
    return float(statistics.median(values))


def pulp_solve(model, solver: str, time_limit: float) -> dict[str, float]:
    """Build the PuLP problem, hand it to the solver and solve; the parts timed apart."""
    start = time.perf_counter()
    problem, variables = to_pulp(model)
    built = time.perf_counter()
    if solver == "highs":
        engine = pulp.HiGHS(msg=False, timeLimit=time_limit, threads=1)
    else:
        engine = pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit, threads=1)
    problem.solve(engine)
    done = time.perf_counter()
    run = float(problem.solverModel.getRunTime()) if solver == "highs" else done - built
    values = np.array([v.varValue or 0.0 for v in variables])
    return {
        "build_pulp_s": built - start,
        "handoff_and_solve_s": done - built,
        "total_s": done - start,
        "solver_run_s": run,
        "objective": model.objective(values),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--cbc", action="store_true", help="also solve once with CBC through PuLP")
    args = parser.parse_args()

    params = load_parameters()
    policy = Policy()
    cases, practitioners, partners = random_allocation_inputs(
        SEED, cases_per_pdu=CASES, practitioners_per_pdu=PRACTITIONERS, n_partners=PARTNERS, load=LOAD
    )
    runs: dict[str, list[float]] = {}

    def record(key: str, value: float) -> None:
        runs.setdefault(key, []).append(value)

    highspy.Highs()  # HiGHS prints its banner on the first construction; keep it out of the timings
    for r in range(args.repeats):
        start = time.perf_counter()
        (inp,) = pdu_inputs(cases, practitioners, partners, params, policy).values()
        arrays = pdu_arrays(inp, params, policy)
        prepared = time.perf_counter()
        model = build_model(arrays)
        built = time.perf_counter()
        record("prepare_s", prepared - start)
        record("build_model_s", built - prepared)

        one = solve_highs(model, 600, pricing=False)
        record("highs_direct_lp_wall_s", one.seconds)
        record("highs_direct_lp_run_s", one.solver_seconds)
        record("highs_direct_lp_overhead_s", one.seconds - one.solver_seconds)
        priced = solve_highs(model, 600)
        record("highs_direct_pricing_wall_s", priced.seconds)
        record("highs_direct_pricing_run_s", priced.solver_seconds)
        record("highs_build_and_solve_s", (built - prepared) + priced.seconds)
        assert abs(priced.objective - one.objective) <= 1e-6 * abs(one.objective), "pricing must reach the LP's optimum"

        via = pulp_solve(model, "highs", 600)
        record("pulp_build_s", via["build_pulp_s"])
        record("pulp_handoff_and_solve_s", via["handoff_and_solve_s"])
        record("pulp_highs_run_s", via["solver_run_s"])
        record("pulp_build_and_solve_s", (built - prepared) + via["total_s"])
        assert abs(via["objective"] - one.objective) <= 1e-6 * abs(one.objective), "both hand-offs must agree"

        start = time.perf_counter()
        rounded = round_allocation(model, priced.values)
        record("rounding_s", time.perf_counter() - start)
        vector = model.solution_vector(rounded.pair, rounded.hours, rounded.link, rounded.partner_hours)
        objective = model.integral_objective(vector, rounded.pair)
        record("rounding_gap_vs_lp_bound", (objective - priced.objective) / abs(priced.objective))
        settled = lp_choice(model, priced.values).settled
        record("split_share", float((~settled).mean()))
        record("improving_moves", float(rounded.moves))

        # without the continuity penalty the LP bound is tight, so the gap to it is the rounding's own
        free = Policy(continuity_penalty=0.0)
        free_model = build_model(pdu_arrays(inp, params, free))
        free_lp = solve_highs(free_model, 600)
        free_round = round_allocation(free_model, free_lp.values)
        free_vector = free_model.solution_vector(
            free_round.pair, free_round.hours, free_round.link, free_round.partner_hours
        )
        record(
            "rounding_gap_vs_lp_bound_no_continuity",
            (free_model.integral_objective(free_vector, free_round.pair) - free_lp.objective) / abs(free_lp.objective),
        )

        start = time.perf_counter()
        solve_pdu(inp, params, policy)
        record("solve_pdu_s", time.perf_counter() - start)
        print(
            f"run {r + 1}/{args.repeats}: build {built - prepared:.3f} s, HiGHS {priced.seconds:.2f} s, "
            f"PuLP {via['total_s']:.2f} s, PDU {runs['solve_pdu_s'][-1]:.2f} s",
            file=sys.stderr,
        )

    result: dict[str, Any] = {
        "instance": {
            "cases": CASES,
            "practitioners": PRACTITIONERS,
            "partners": PARTNERS,
            "load": LOAD,
            "seed": SEED,
            "pairs": int(model.arrays.n_pairs),
            "columns": model.n_cols,
            "rows": model.n_rows,
            "nonzeros": len(model.value),
        },
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "highspy": highspy.__version__ if hasattr(highspy, "__version__") else "",
            "pulp": pulp.__version__,
        },
        "repeats": args.repeats,
        "median": {key: median(values) for key, values in runs.items()},
        "runs": runs,
    }
    if args.cbc:
        cbc = pulp_solve(model, "cbc", 600)
        result["cbc_once"] = cbc
        print(f"CBC through PuLP: {cbc['total_s']:.1f} s", file=sys.stderr)

    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "allocate.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    m = result["median"]
    lines = [
        "# LP allocator benchmark",
        "",
        (
            f"One PDU: {CASES:,} cases x {PRACTITIONERS} practitioners, {PARTNERS} partners, need at {LOAD:.0%} of capacity "
            f"({result['instance']['pairs']:,} eligible pairs; LP {model.n_cols:,} columns x {model.n_rows:,} rows, "
            f"{len(model.value):,} non-zeros). Medians of {args.repeats} runs on {os.cpu_count()} CPU(s), HiGHS on one thread. "
            "Written by `python benchmarks/bench_allocate.py`."
        ),
        "",
        "| step | median (s) |",
        "|---|---|",
        f"| build: cut the PDU from the frames (`pdu_inputs` + `pdu_arrays`) | {m['prepare_s']:.3f} |",
        f"| build: define the model as arrays (`build_model`) | {m['build_model_s']:.3f} |",
        f"| direct hand-off, one LP: wall (hand-off + solve) | {m['highs_direct_lp_wall_s']:.2f} |",
        f"| of which HiGHS's own run time | {m['highs_direct_lp_run_s']:.2f} |",
        f"| of which hand-off overhead (wall - run) | {m['highs_direct_lp_overhead_s']:.3f} |",
        f"| direct hand-off, pairs priced in (default): wall | {m['highs_direct_pricing_wall_s']:.2f} |",
        f"| of which HiGHS's own run time | {m['highs_direct_pricing_run_s']:.2f} |",
        f"| **build + solve, direct HiGHS (default)** | **{m['highs_build_and_solve_s']:.2f}** |",
        f"| PuLP: build the problem (`to_pulp`) | {m['pulp_build_s']:.2f} |",
        f"| PuLP: copy into HiGHS and solve | {m['pulp_handoff_and_solve_s']:.2f} |",
        f"| of which HiGHS's own run time | {m['pulp_highs_run_s']:.2f} |",
        f"| **build + solve, through PuLP** | **{m['pulp_build_and_solve_s']:.2f}** |",
        f"| rounding to one practitioner per case (repair + improving moves) | {m['rounding_s']:.2f} |",
        f"| whole PDU (`solve_pdu`: build, solve, round, report) | {m['solve_pdu_s']:.2f} |",
        "",
        (
            f"Split cases in the LP: {m['split_share']:.2%}. Rounded objective above the LP bound: "
            f"{m['rounding_gap_vs_lp_bound']:.2%} with the default continuity penalty (an upper bound on the gap to "
            f"the exact MIP, which cannot be solved at this size), "
            f"{m['rounding_gap_vs_lp_bound_no_continuity']:.3%} without it. "
            f"Improving moves after rounding: {m['improving_moves']:.0f}."
        ),
    ]
    if args.cbc:
        c = result["cbc_once"]
        lines += [
            "",
            f"CBC through PuLP (one run): build {c['build_pulp_s']:.2f} s, solve {c['handoff_and_solve_s']:.2f} s.",
        ]
    (RESULTS / "allocate.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
