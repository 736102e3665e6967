"""Time the whole-life cost model over 250,000 random valid cases (about the national caseload).

A plain script, not a test: ``python benchmarks/bench_costs.py [--cases N] [--repeats R] [--seed S]``. After
one warm-up call it times, ``repeats`` times each, :func:`workload.costs.whole_life_costs` for one cell,
:func:`workload.costs.hour_value`, :func:`workload.costs.objective_weight` (the allocator's weights under
``objective = "whole_life_cost"``) and :func:`workload.outcomes.sensitivity` (two cells, every figure at its
low and high), and writes the medians to ``benchmarks/results/costs.json`` and ``costs.md``.

The cases are those of ``bench_scoring.py`` (random, not a real caseload); each case gets a random share of
its need met by one practitioner.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.bench_scoring import random_cases
from workload import costs, outcomes
from workload.params import load_parameters
from workload.scoring.needs import score_needs

RESULTS = Path(__file__).resolve().parent / "results"


def timed(call: Callable[[], object], repeats: int) -> float:
    call()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=250_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    params = load_parameters()
    cases = random_cases(args.cases, args.seed)
    need = score_needs(cases, params)["required_hours"].astype(float)
    rng = np.random.default_rng(args.seed)
    afforded = need * rng.uniform(0.2, 1.0, len(cases))
    holder = pd.Series("P1", index=cases.index, dtype=object)
    cell = outcomes.CellResult(afforded, pd.Series(0.0, index=cases.index), holder, holder.isna())
    frame = outcomes.case_outcomes(need, cell)
    grades = pd.Series({"P1": "PO"})
    staff = costs.staff_cost(afforded, holder, grades, params)
    zero = pd.Series(0.0, index=cases.index)
    values = costs.cost_values(params)
    per_case = {
        name: pd.concat([frame, costs.whole_life_costs(cases, frame, staff, zero, values)], axis=1)
        for name in outcomes.CELLS
    }
    staff_by = {name: staff for name in outcomes.CELLS}
    partner_by = {name: zero for name in outcomes.CELLS}
    medians = {
        "whole_life_costs": timed(lambda: costs.whole_life_costs(cases, frame, staff, zero, values), args.repeats),
        "hour_value": timed(lambda: costs.hour_value(cases, values), args.repeats),
        "objective_weight": timed(lambda: costs.objective_weight(cases, params), args.repeats),
        "sensitivity": timed(lambda: outcomes.sensitivity(cases, per_case, staff_by, partner_by, params), args.repeats),
    }
    load = os.getloadavg()
    result = {
        "cases": args.cases,
        "repeats": args.repeats,
        "median_seconds": {k: round(v, 4) for k, v in medians.items()},
        "sensitivity_rows": len(params.table("outcomes.sensitivity.low")),
        "load_average_1_5_15": [round(x, 2) for x in load],
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "costs.json").write_text(json.dumps(result, indent=2) + "\n")
    lines = [
        "# Whole-life cost model timings",
        "",
        (
            f"{args.cases:,} random cases, median of {args.repeats} runs after a warm-up; load average "
            f"{load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} on {os.cpu_count()} CPUs."
        ),
        "",
        "| step | median seconds |",
        "|---|---|",
        *[f"| `{k}` | {v:.3f} |" for k, v in medians.items()],
        "",
    ]
    (RESULTS / "costs.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
