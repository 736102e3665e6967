"""Time a sweep: 8 variants of scenarios/region (10 PDUs, 80 tasks) on 1 and 2 workers, and on Dask.

A plain script, not a test: ``python benchmarks/bench_sweep.py [--repeats R] [--dask/--no-dask]``. It writes
``benchmarks/results/sweep.json`` and ``sweep.md``: median wall times, the speed-up from 1 to 2 worker
processes, and what Dask's nanny default ``MALLOC_TRIM_THRESHOLD_=65536`` costs these tasks.

Every timed run is a fresh Python process (``--run CONFIG``), and the configurations take turns, so that
anything else running on the machine weighs on all of them alike and no run inherits another's state. That
matters for the MALLOC measurement: Dask's nanny writes its pre-spawn variables into the environment of the
process that starts a LocalCluster, so a second cluster started in the same process would inherit them.

Configurations:

- ``pool1``, ``pool2``: the default process pool with 1 and 2 workers;
- ``dask-default``: a 2-worker LocalCluster started with Dask's defaults (workers get
  ``MALLOC_TRIM_THRESHOLD_=65536``), reached as a remote scheduler, so ``workload`` cannot change it;
- ``dask-local``: ``--scheduler local`` with 2 workers, which starts its LocalCluster without it.

Times are wall-clock and include worker (and cluster) start-up and scenario loading, as a user sees them.
The glibc effect is also measured apart from Dask (``--probe``): the tasks of one variant run one after
another in a fresh process started with and without ``MALLOC_TRIM_THRESHOLD_=65536``, on the region's PDUs
(about 1,200 cases each) and on one synthetic 4,000-case PDU.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results"
SCENARIO = ROOT / "scenarios" / "region"
SWEEP = """
name = "benchmark: pool x continuity"
[grid]
"policy.women_specialist_pool" = ["off", "hard"]
"policy.continuity_penalty" = [5.0, 10.0, 20.0, 40.0]
[objective]
metric = "needs_lp.coverage"
direction = "max"
"""
CONFIGS = {
    "pool1": "process pool, 1 worker",
    "pool2": "process pool, 2 workers",
    "dask-default": "Dask LocalCluster, 2 workers, nanny default (MALLOC_TRIM_THRESHOLD_=65536)",
    "dask-local": "Dask --scheduler local, 2 workers (MALLOC_TRIM_THRESHOLD_ unset)",
}


# ----------------------------------------------------------------------------------------------------------
# child processes: one timed run each


def run_one(config: str, sweep: Path, out: Path) -> dict[str, Any]:
    """One whole sweep (``--run``): wall seconds, a digest of results.csv, the workers' trim setting."""
    from workload.sweep import run_sweep
    from workload.sweep.executors import _worker_malloc_trim

    start = time.perf_counter()
    trim: list[str | None] = []
    if config == "dask-default":
        from distributed import Client, LocalCluster

        with LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40
        ) as cluster:
            with Client(cluster) as client:
                trim = sorted(set(client.run(_worker_malloc_trim).values()), key=str)
            result = run_sweep(SCENARIO, sweep, out, scheduler=cluster.scheduler_address, progress=False)
    elif config == "dask-local":
        result = run_sweep(SCENARIO, sweep, out, workers=2, scheduler="local", progress=False)
        trim = [None]
    else:
        result = run_sweep(SCENARIO, sweep, out, workers=int(config[-1]), progress=False)
    seconds = time.perf_counter() - start
    digest = hashlib.sha256((out / "results.csv").read_bytes()).hexdigest()
    return {"seconds": seconds, "results_sha256": digest, "tasks": result.ran, "worker_trim": trim}


def probe(scenario: Path, passes: int) -> dict[str, Any]:
    """The tasks of one variant, one after another in this process (``--probe``), after one warm-up task."""
    from workload.load import load_scenario
    from workload.sweep.plan import Task, scenario_fingerprint
    from workload.sweep.task import run_task

    loaded = load_scenario(scenario)
    fingerprint = scenario_fingerprint(loaded)
    tasks = [Task(str(loaded.path), fingerprint, "g00", pdu, {"continuity_penalty": 10.0}, {}) for pdu in loaded.pdus]
    run_task(tasks[0])
    start = time.perf_counter()
    for task in tasks * passes:
        run_task(task)
    return {
        "seconds": time.perf_counter() - start,
        "tasks": len(tasks) * passes,
        "MALLOC_TRIM_THRESHOLD_": os.environ.get("MALLOC_TRIM_THRESHOLD_"),
    }


def child(args: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run this script in a fresh process and read the JSON it prints last."""
    done = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, env=env, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


# ----------------------------------------------------------------------------------------------------------
# the benchmark


def stats(values: list[float]) -> dict[str, Any]:
    return {
        "median_seconds": statistics.median(values),
        "min_seconds": min(values),
        "max_seconds": max(values),
        "all_seconds": [round(v, 3) for v in values],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--dask", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--run", choices=list(CONFIGS), help=argparse.SUPPRESS)
    parser.add_argument("--probe", help=argparse.SUPPRESS)
    parser.add_argument("--passes", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--sweep", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.run:
        print(json.dumps(run_one(args.run, Path(args.sweep), Path(args.out))))
        return 0
    if args.probe:
        print(json.dumps(probe(Path(args.probe), args.passes)))
        return 0

    configs = [c for c in CONFIGS if args.dask or not c.startswith("dask")]
    runs: dict[str, list[dict[str, Any]]] = {c: [] for c in configs}
    loads: dict[str, list[float]] = {c: [] for c in configs}
    probes: dict[str, dict[str, list[float]]] = {}
    work = Path(tempfile.mkdtemp(prefix="bench-sweep-"))
    try:
        sweep = work / "sweep.toml"
        sweep.write_text(SWEEP, encoding="utf-8")
        for i in range(args.repeats):
            for config in configs:
                loads[config].append(os.getloadavg()[0])
                out = work / f"{config}-{i}"
                runs[config].append(child(["--run", config, "--sweep", str(sweep), "--out", str(out)]))
                shutil.rmtree(out, ignore_errors=True)
                print(f"{config}, run {i + 1}/{args.repeats}: {runs[config][-1]['seconds']:.1f} s", file=sys.stderr)

        from workload.synth import synth_scenario, write_scenario

        big = work / "big-pdu"
        write_scenario(
            big, synth_scenario(n_cases=4000, n_practitioners=170, n_pdus=1, seed=3), name="one 4,000-case PDU"
        )
        plain = {k: v for k, v in os.environ.items() if k != "MALLOC_TRIM_THRESHOLD_"}
        for label, scenario, passes in (
            ("region, 10 PDUs of ~1,200 cases", SCENARIO, 1),
            ("one 4,000-case PDU, 3 passes", big, 3),
        ):
            probes[label] = {"unset": [], "65536": []}
            for i in range(args.repeats):
                for setting, env in (("unset", plain), ("65536", {**plain, "MALLOC_TRIM_THRESHOLD_": "65536"})):
                    found = child(["--probe", str(scenario), "--passes", str(passes)], env=env)
                    probes[label][setting].append(found["seconds"])
                    print(f"probe {label}, {setting}: {found['seconds']:.1f} s", file=sys.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    digests = {r["results_sha256"] for rs in runs.values() for r in rs}
    summary = {
        c: {
            "label": CONFIGS[c],
            **stats([r["seconds"] for r in runs[c]]),
            "tasks": runs[c][0]["tasks"],
            "worker_MALLOC_TRIM_THRESHOLD_": runs[c][0]["worker_trim"],
            "load_average_1min_before_each": [round(x, 2) for x in loads[c]],
        }
        for c in configs
    }
    result: dict[str, Any] = {
        "benchmark": "workload sweep",
        "scenario": "scenarios/region (12,000 cases, 520 practitioners, 10 PDUs)",
        "sweep": SWEEP.strip(),
        "variants": 8,
        "tasks_per_sweep": 80,
        "repeats": args.repeats,
        "runs": summary,
        "speed_up_1_to_2_workers": summary["pool1"]["median_seconds"] / summary["pool2"]["median_seconds"],
        "speed_up_1_to_2_workers_best_runs": summary["pool1"]["min_seconds"] / summary["pool2"]["min_seconds"],
        "results_identical_across_configurations_and_repeats": len(digests) == 1,
        "malloc_probe": {
            label: {setting: stats(values) for setting, values in found.items()}
            | {"slowdown": statistics.median(found["65536"]) / statistics.median(found["unset"])}
            for label, found in probes.items()
        },
        "machine": {
            "python": sys.version.split()[0],
            "numpy": np.__version__,
            "pandas": pd.__version__,
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
        },
    }
    if args.dask:
        result["dask_default_vs_local"] = (
            summary["dask-default"]["median_seconds"] / summary["dask-local"]["median_seconds"]
        )
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "sweep.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    (RESULTS / "sweep.md").write_text(markdown(result), encoding="utf-8")
    print(markdown(result))
    return 0


def markdown(result: dict[str, Any]) -> str:
    lines = [
        "# Benchmark: sweep",
        "",
        (
            f"A sweep of {result['variants']} variants (women's specialist pool off/hard x continuity penalty 5/10/20/40) "
            f"over {result['scenario']}: {result['tasks_per_sweep']} tasks (variant x PDU), run "
            f"{result['repeats']} times per configuration, each run a fresh process, the configurations taking "
            "turns. Wall-clock seconds, worker and cluster start-up and scenario loading included "
            "(`python benchmarks/bench_sweep.py`)."
        ),
        "",
        "| configuration | median s | min s | max s | workers' MALLOC_TRIM_THRESHOLD_ | load average before each run |",
        "|---|---|---|---|---|---|",
    ]
    for run in result["runs"].values():
        trim = ", ".join("unset" if t is None else str(t) for t in run["worker_MALLOC_TRIM_THRESHOLD_"]) or "unset"
        load = ", ".join(f"{x:.1f}" for x in run["load_average_1min_before_each"])
        lines.append(
            f"| {run['label']} | {run['median_seconds']:.1f} | {run['min_seconds']:.1f} | "
            f"{run['max_seconds']:.1f} | {trim} | {load} |"
        )
    lines += [
        "",
        (
            f"**Speed-up from 1 to 2 worker processes: {result['speed_up_1_to_2_workers']:.2f}x** on medians, "
            f"{result['speed_up_1_to_2_workers_best_runs']:.2f}x on the best run of each "
            f"(on {result['machine']['cpus']} CPUs)."
        ),
        "",
        (
            "results.csv byte-identical in every configuration and repeat: "
            f"{'yes' if result['results_identical_across_configurations_and_repeats'] else 'NO'}."
        ),
    ]
    # The load average before a run mostly shows the previous run's own workers; the spread of a
    # configuration's times is what shows that something else was running.
    spread = max(r["max_seconds"] / r["min_seconds"] for r in result["runs"].values())
    if spread > 1.25:
        lines += [
            "",
            (
                f"**Caution:** times of one configuration differ by up to {spread:.2f}x, so other work was running "
                "on the machine during some runs; the best runs are the better guide. Rerun on a quiet machine for "
                "a clean figure."
            ),
        ]
    lines += [
        "",
        "## Dask and MALLOC_TRIM_THRESHOLD_",
        "",
        (
            "Dask's nanny starts each worker with `MALLOC_TRIM_THRESHOLD_=65536` (`distributed.nanny.pre-spawn-environ`). "
            "Setting it makes glibc return memory to the system whenever 64 KiB are free at the top of the heap, and "
            "turns off glibc's adaptive thresholds, so every allocation above 128 KiB is a fresh mmap (zeroed pages, "
            "page faults) however often it recurs. The LP model of a PDU is built from arrays of that size."
        ),
        "",
        (
            "Apart from Dask, the tasks of one variant one after another in a fresh process with and without the "
            "variable (median of the repeats):"
        ),
        "",
        "| tasks | unset, s | 65536, s | slowdown |",
        "|---|---|---|---|",
    ]
    for label, found in result["malloc_probe"].items():
        lines.append(
            f"| {label} | {found['unset']['median_seconds']:.2f} | {found['65536']['median_seconds']:.2f} | "
            f"{found['slowdown']:.2f}x |"
        )
    if "dask_default_vs_local" in result:
        lines += [
            "",
            (
                f"The whole sweep on a 2-worker LocalCluster with the nanny default took "
                f"{result['dask_default_vs_local']:.2f}x as long as with `--scheduler local` (medians; "
                f"{'within' if abs(result['dask_default_vs_local'] - 1) < 0.15 else 'beyond'} the run-to-run noise of "
                "this comparison, the range in the table above), which starts its "
                'LocalCluster with the variable removed (`dask.config.set({"distributed.nanny.pre-spawn-environ.'
                "MALLOC_TRIM_THRESHOLD_\": None})`, and the variable taken out of the parent's environment while "
                "workers start, since an earlier nanny in the same process leaves it there). Against a remote "
                "scheduler `workload sweep` asks the workers for their setting (`client.run`) and prints a note when "
                "they trim that eagerly; docs/sweep.md says how to start workers without it."
            ),
        ]
    m = result["machine"]
    lines += ["", f"Python {m['python']}, numpy {m['numpy']}, pandas {m['pandas']}, {m['platform']}, {m['cpus']} CPUs."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
