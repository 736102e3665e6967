"""Time ``workload plan`` (the investment LP) on the regional and, optionally, the national scenario.

A plain script, not a test::

    python benchmarks/bench_plan.py [--national] [--repeats 1]

Each scenario is planned end to end as a process (``workload plan SCENARIO --budgets ...``): wall time and peak
memory (the process tree's resident memory, sampled every 100 ms, as bench_pipeline.py samples it). The plan's
LP is one joint LP of every PDU, so unlike ``workload run`` it runs in one process. It writes
``benchmarks/results/plan.json`` and ``plan.md`` with the load average when it started.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_pipeline import NATIONAL, REGION, RESULTS, synth, timed_process

BUDGETS = "250000,500000,1000000,2000000,4000000"
"""The budgets (GBP a year) each plan is asked for; the curve's first point, 0, is always added."""


def plan_once(scenario: Path) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "plan"
        # this checkout's package (python -m from the repository root), not whichever one is installed
        command = [sys.executable, "-m", "workload.cli", "plan", str(scenario), "--budgets", BUDGETS, "--out", str(out)]
        return timed_process(command)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--national", action="store_true", help="also plan the national synthetic scenario")
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    load = os.getloadavg()
    scenarios = {"region": REGION}
    if args.national:
        scenarios["national"] = synth(*NATIONAL)
    rows: dict[str, dict[str, Any]] = {}
    for name, path in scenarios.items():
        runs = [plan_once(path) for _ in range(args.repeats)]
        rows[name] = {
            "wall_s": statistics.median(r["wall"] for r in runs),
            "peak_tree_rss_mib": max(r["peak_tree_rss_mib"] for r in runs),
            # the answer without the temporary folder: "(6 budgets). Lowest whole-life cost ... added)"
            "stdout": runs[-1]["stdout"].strip().split(" Open ")[0].split("/ ", 1)[-1],
        }
    result = {
        "budgets": BUDGETS,
        "repeats": args.repeats,
        "load_average": load,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "scenarios": rows,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "plan.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    lines = [
        "# Plan benchmark",
        "",
        (
            f"Written by `python benchmarks/bench_plan.py{' --national' if args.national else ''}` on {os.cpu_count()} "
            f"CPU(s), Python {platform.python_version()}, medians of {args.repeats} run(s). Budgets: 0,{BUDGETS}. Load "
            f"average when it started: {load[0]:.2f}, {load[1]:.2f}, {load[2]:.2f} (the machine may be shared; read "
            "wall times with it)."
        ),
        "",
        "| scenario | wall (s) | peak memory (MiB, process tree) | answer |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {name} | {row['wall_s']:.1f} | {row['peak_tree_rss_mib']:,.0f} | {row['stdout']} |"
        for name, row in rows.items()
    ]
    (RESULTS / "plan.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
