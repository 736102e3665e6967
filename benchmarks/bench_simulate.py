"""Time ``workload simulate``: a year of scenarios/women-pdu (one PDU, 1,200 cases, 25 practitioners), 3 policies,
20 replications on 2 worker processes; the target is under 2 minutes on 2 cores.

A plain script, not a test: ``python benchmarks/bench_simulate.py [--replications N] [--workers N]``. It writes
``benchmarks/results/simulate.json`` and ``simulate.md``: the wall time of the whole simulation (worker start-up
and reading the replications back included, writing the folder timed apart), the seconds of one replication of
each policy alone in this process (where the time goes), the machine's load average before and after, and
peak memory of the process tree (this process plus the largest worker, times the workers: an upper bound).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from workload.load import load_scenario
from workload.simulate import resolve_settings, run_replication, simulate, write_simulation

RESULTS = Path(__file__).resolve().parent / "results"
SCENARIO = ROOT / "scenarios" / "women-pdu"
TARGET_SECONDS = 120.0


def _cpu() -> tuple[float, float]:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime, time.perf_counter()


def write_markdown(result: dict) -> None:
    """benchmarks/results/simulate.md from the figures (``--report-only`` re-renders it from simulate.json)."""
    cpu_per_worker = result["simulate_cpu_seconds"] / result["workers"]
    lines = [
        "# `workload simulate` benchmark",
        "",
        (
            f"scenarios/women-pdu ({result['cases']:,} cases, {result['practitioners']} practitioners, one PDU), "
            f"{result['weeks']} weeks x {result['replications']} replications x {len(result['policies'])} policies "
            f"({', '.join(result['policies'])}; lp with continuity keep, re-planning every caseload's hours every "
            f"{result['lp_replan_weeks']} weeks), {result['workers']} worker processes, one run of "
            "`python benchmarks/bench_simulate.py`."
        ),
        "",
        "| figure | value |",
        "|---|---|",
        f"| simulation wall time (workers started, replications run and read back) | {result['simulate_wall_seconds']} s |",
        f"| CPU time (this process and its workers) | {result['simulate_cpu_seconds']} s |",
        f"| CPU time per worker (the wall time with a free core each) | {cpu_per_worker:.1f} s |",
        f"| writing the folder (CSV, Parquet, bands, summary, page) | {result['write_seconds']} s |",
        f"| target: wall time under {TARGET_SECONDS:.0f} s | {'met' if result['meets_target'] else 'NOT met'} |",
        *(
            f"| one replication, {p} alone, in this process | {s} s |"
            for p, s in result["one_replication_seconds_by_policy"].items()
        ),
        f"| load average before (1, 5, 15 min) | {', '.join(map(str, result['load_average_before']))} |",
        f"| load average after | {', '.join(map(str, result['load_average_after']))} |",
        f"| peak memory, process tree (upper bound) | {result['peak_memory_mib_upper_bound']} MiB |",
        f"| machine | {result['cpus']} CPUs, Python {result['python']}, {result['machine']} |",
        "",
        "The machine was shared with other work while this ran (the load averages above): with a load above the",
        "number of cores the workers did not have a core each, so the wall time is longer than the CPU time per",
        "worker, which is what the run would take on two free cores.",
        "",
    ]
    (RESULTS / "simulate.md").write_text("\n".join(lines))
    print("\n".join(lines))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--replications", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--report-only", action="store_true", help="re-render simulate.md from simulate.json")
    parser.add_argument(
        "--keep", type=Path, help="write the simulation folder here and keep it (default: a temporary one)"
    )
    args = parser.parse_args()
    if args.report_only:
        write_markdown(json.loads((RESULTS / "simulate.json").read_text()))
        return 0

    scenario = load_scenario(SCENARIO)
    settings = resolve_settings(
        scenario, weeks=args.weeks, replications=args.replications, seed=1, workers=args.workers
    )
    load_before = os.getloadavg()
    per_policy = {}
    for policy in settings.policies:  # one replication of each policy alone, in this process
        start = time.perf_counter()
        run_replication(scenario, replace(settings, policies=(policy,)), 0)
        per_policy[policy] = round(time.perf_counter() - start, 2)

    tmp = Path(tempfile.mkdtemp(prefix="bench-simulate-"))
    out = args.keep or tmp / "sim"
    try:
        cpu0, wall0 = _cpu()
        sim = simulate(scenario, settings, out)
        cpu1, wall1 = _cpu()
        write_simulation(sim, out)
        wall2 = time.perf_counter()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(out.parent / f".{out.name}.parts", ignore_errors=True)
    load_after = os.getloadavg()
    me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    result = {
        "scenario": "scenarios/women-pdu",
        "cases": len(scenario.cases),
        "practitioners": len(scenario.practitioners),
        "weeks": settings.weeks,
        "replications": settings.replications,
        "policies": list(settings.policies),
        "lp_replan_weeks": settings.lp_replan_weeks,
        "workers": args.workers,
        "simulate_wall_seconds": round(wall1 - wall0, 1),
        "simulate_cpu_seconds": round(cpu1 - cpu0, 1),
        "write_seconds": round(wall2 - wall1, 1),
        "one_replication_seconds_by_policy": per_policy,
        "target_seconds": TARGET_SECONDS,
        "meets_target": (wall1 - wall0) < TARGET_SECONDS,
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_after],
        "peak_memory_mib_upper_bound": round(me + args.workers * child),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "simulate.json").write_text(json.dumps(result, indent=2) + "\n")
    write_markdown(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
