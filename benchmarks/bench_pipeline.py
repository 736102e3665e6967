"""Time the whole pipeline, stage by stage, on the regional and (optionally) national scenarios (issue 7).

A plain script, not a test::

    python benchmarks/bench_pipeline.py [--national] [--sizes 25000,100000,250000] [--workers 2] [--repeats 1]

It writes ``benchmarks/results/pipeline.json`` and ``pipeline.md`` (medians where repeated, and the machine):

- **stages**: for each scenario, a child process loads and validates it, runs every stage of
  :func:`workload.pipeline.run_scenario` (scoring, today's allocation, both LP cells, outcomes, tables) and
  writes the run folder and report; its stage seconds are recorded;
- **end to end**: ``workload run SCENARIO --workers N`` as a process: wall time and peak memory (the sum of
  the resident memory of the process and its workers, sampled every 100 ms, and the largest single process's
  ``ru_maxrss``);
- **reference points** (region, needs-scored cell, in this process): the LP allocation (build, solve and
  round every PDU on ``--workers`` processes); the same LPs built idiomatically in PuLP (an ``LpVariable`` per
  column, ``lpSum`` per row, ``prob +=`` in Python loops) and solved by HiGHS through PuLP, one PDU after
  another; and two HiGHS floors: the sum of HiGHS's own run times inside the allocator's solves (it prices
  pairs in), and the sum of HiGHS's own run times for the full LP handed over directly (what any wrapper of
  this LP could at best reach);
- **scaling**: synthetic scenarios of ``--sizes`` cases with practitioners (44 per 1,000 cases) and PDUs
  (one per 2,500 cases) in proportion, end to end; the exponent b in time ~ cases^b is fitted on log-log.

National and scaling scenarios are generated with ``workload synth`` under ``benchmarks/scratch/`` (git-ignored).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
SCRATCH = ROOT / "benchmarks" / "scratch"
REGION = ROOT / "scenarios" / "region"
BIN = Path(sys.executable).parent
WORKLOAD = str(BIN / "workload")
NATIONAL = (250_000, 11_000, 100)
STAGES = (
    "load and validate",
    "scoring",
    "today's allocation",
    "LP allocation",
    "outcomes",
    "tables",
    "assemble",
    "write and report",
)


def median(values: list[float]) -> float:
    return float(statistics.median(values))


# ----------------------------------------------------------------------------------------------------------
# child: one staged run (called as `python bench_pipeline.py --child SCENARIO OUT WORKERS`)


def child(scenario_path: str, out: str, workers: int) -> None:
    start = time.perf_counter()
    from workload.load import load_scenario
    from workload.pipeline import run_scenario, write_run

    imported = time.perf_counter()
    scenario = load_scenario(scenario_path)
    loaded = time.perf_counter()
    result = run_scenario(scenario, workers=workers)
    ran = time.perf_counter()
    write_run(result, Path(out), force=True)
    written = time.perf_counter()
    stages = {"import": imported - start, "load and validate": loaded - imported}
    stages.update({k: float(v) for k, v in result.timings.items()})
    stages["write and report"] = written - ran
    stages["total"] = written - start
    stages["main process CPU"] = time.process_time()
    print(json.dumps(stages))


# ----------------------------------------------------------------------------------------------------------
# processes, memory


def _tree_rss(pid: int) -> int:
    """Resident bytes of a process and all its descendants (walking /proc/<pid>/task/*/children)."""
    page = os.sysconf("SC_PAGE_SIZE")
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/statm") as f:
                total += int(f.read().split()[1]) * page
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo += [int(c) for c in f.read().split()]
        except (OSError, ValueError, IndexError):
            continue
    return total


def timed_process(args: list[str]) -> dict[str, Any]:
    """Run a process; its wall time, stdout, peak tree RSS (sampled) and the largest child's ru_maxrss."""
    peak = [0]
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], _tree_rss(proc.pid))
            stop.wait(0.1)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    out, _ = proc.communicate()
    wall = time.perf_counter() - start
    stop.set()
    thread.join()
    if proc.returncode:
        raise RuntimeError(f"{' '.join(args)} exited {proc.returncode}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (usage.ru_utime + usage.ru_stime)
    return {
        "wall": wall,
        "stdout": out,
        "peak_tree_rss_mib": peak[0] / 2**20,
        "max_single_rss_mib": after.ru_maxrss / 1024,
        "cpu_seconds": cpu,
    }


def synth(cases: int, practitioners: int, pdus: int, seed: int = 1) -> Path:
    out = SCRATCH / f"synth-{cases}-{practitioners}-{pdus}-s{seed}"
    if not (out / "scenario.toml").exists():
        subprocess.run(
            [
                WORKLOAD,
                "synth",
                "--cases",
                str(cases),
                "--practitioners",
                str(practitioners),
                "--pdus",
                str(pdus),
                "--seed",
                str(seed),
                "--out",
                str(out),
                "--force",
            ],
            cwd=ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return out


def staged_run(scenario: Path, workers: int, repeats: int) -> dict[str, float]:
    runs = []
    with tempfile.TemporaryDirectory(dir=SCRATCH) as tmp:
        for _ in range(repeats):
            p = timed_process(
                [sys.executable, __file__, "--child", str(scenario), str(Path(tmp) / "run"), str(workers)]
            )
            runs.append(json.loads(p["stdout"].strip().splitlines()[-1]))
    return {k: median([r[k] for r in runs]) for k in runs[0]}


def end_to_end(scenario: Path, workers: int, repeats: int, extra: tuple[str, ...] = ()) -> dict[str, float]:
    walls, peaks, singles, cpus = [], [], [], []
    with tempfile.TemporaryDirectory(dir=SCRATCH) as tmp:
        for _ in range(repeats):
            p = timed_process(
                [WORKLOAD, "run", str(scenario), "--out", str(Path(tmp) / "run"), "--force", "--workers", str(workers)]
                + list(extra)
            )
            walls.append(p["wall"])
            peaks.append(p["peak_tree_rss_mib"])
            singles.append(p["max_single_rss_mib"])
            cpus.append(p["cpu_seconds"])
    return {
        "wall_seconds": median(walls),
        "peak_memory_mib": max(peaks),
        "max_single_process_rss_mib": max(singles),
        "cpu_seconds": median(cpus),
        "runs": len(walls),
        "wall_seconds_all": walls,
    }


# ----------------------------------------------------------------------------------------------------------
# reference points on the region


def pulp_idiomatic(model, time_limit: float = 600.0) -> dict[str, float]:
    """The PDU's LP as most projects would write it: an LpVariable per column, lpSum per row, in loops."""
    import pulp

    start = time.perf_counter()
    prob = pulp.LpProblem("pdu", pulp.LpMinimize)
    names = model.column_names()
    x = []
    for j in range(model.n_cols):
        lo, hi = float(model.lower[j]), float(model.upper[j])
        x.append(
            pulp.LpVariable(
                f"c{j}", lowBound=lo if math.isfinite(lo) else None, upBound=hi if math.isfinite(hi) else None
            )
        )
    prob += pulp.lpSum(float(model.cost[j]) * x[j] for j in range(model.n_cols) if model.cost[j] != 0) + float(
        model.offset
    )
    for i in range(model.n_rows):
        a, b = int(model.start[i]), int(model.start[i + 1])
        lo, hi = float(model.row_lower[i]), float(model.row_upper[i])
        if a == b:
            continue
        expr = pulp.lpSum(float(model.value[k]) * x[int(model.index[k])] for k in range(a, b))
        if lo == hi:
            prob += expr == lo
        else:
            if math.isfinite(lo):
                prob += expr >= lo
            if math.isfinite(hi):
                prob += expr <= hi
    built = time.perf_counter()
    prob.solve(pulp.HiGHS(msg=False, timeLimit=time_limit, threads=1))
    done = time.perf_counter()
    assert pulp.LpStatus[prob.status] == "Optimal", pulp.LpStatus[prob.status]
    return {
        "build": built - start,
        "solve": done - built,
        "total": done - start,
        "highs_run": float(prob.solverModel.getRunTime()),
        "objective": float(pulp.value(prob.objective)),
        "columns": len(names),
    }


def region_references(workers: int, repeats: int) -> dict[str, Any]:
    from workload import pipeline
    from workload.allocate import lp
    from workload.allocate.model import build_model, pdu_arrays, pdu_inputs
    from workload.load import load_scenario

    scenario = load_scenario(REGION)
    scores = pipeline.score_cases(scenario)
    frame = pipeline.lp_cases(scenario, scores, "needs")
    policy, params = scenario.spec.policy, scenario.params
    # the first call starts the worker processes (cold); later calls find them running (warm), as a run
    # does, which starts them before scoring (pipeline.run_scenario)
    walls, floors, pdu_sums = [], [], []
    for _ in range(repeats + 1):
        start = time.perf_counter()
        alloc = lp.allocate_lp(frame, scenario.practitioners, scenario.partners, params, policy, workers=workers)
        walls.append(time.perf_counter() - start)
        floors.append(float(alloc.pdus["solver_seconds"].sum()))
        pdu_sums.append(float(alloc.pdus["seconds"].sum()))
    cold = walls.pop(0)
    floors.pop(0)
    pdu_sums.pop(0)
    inputs = pdu_inputs(frame, scenario.practitioners, scenario.partners, params, policy)
    full_run, pulp_runs, ours_obj, pulp_obj = [], [], [], []
    for pdu in sorted(inputs):
        model = build_model(pdu_arrays(inputs[pdu], params, policy))
        full = lp.solve_highs(model, 600.0, pricing=False)
        full_run.append(full.solver_seconds)
        ours_obj.append(full.objective)
        ref = pulp_idiomatic(model)
        pulp_runs.append(ref)
        pulp_obj.append(ref["objective"])
    pulp_total = sum(r["total"] for r in pulp_runs)
    wall = median(walls)
    floor_priced = median(floors)
    floor_full = float(sum(full_run))
    return {
        "scenario": "scenarios/region (needs-scored cell)",
        "pdus": len(inputs),
        "workers": workers,
        "lp_allocation_wall": wall,
        "lp_allocation_wall_cold": cold,
        "ratio_cold_wall_to_full_lp_floor_per_worker": cold / (floor_full / workers),
        "lp_allocation_pdu_seconds_sum": median(pdu_sums),
        "highs_floor_priced_sum": floor_priced,
        "highs_floor_full_lp_sum": floor_full,
        "ratio_wall_to_priced_floor_per_worker": wall / (floor_priced / workers),
        "ratio_wall_to_full_lp_floor_per_worker": wall / (floor_full / workers),
        "pulp_build_sum": sum(r["build"] for r in pulp_runs),
        "pulp_solve_sum": sum(r["solve"] for r in pulp_runs),
        "pulp_highs_run_sum": sum(r["highs_run"] for r in pulp_runs),
        "pulp_total": pulp_total,
        "speedup_vs_pulp_wall": pulp_total / wall,
        "speedup_vs_pulp_cpu": pulp_total / median(pdu_sums),
        "objective_max_rel_diff_pulp_vs_direct": max(abs(p - o) / max(abs(o), 1.0) for p, o in zip(pulp_obj, ours_obj)),
    }


# ----------------------------------------------------------------------------------------------------------
# report


def machine() -> dict[str, Any]:
    import highspy
    import pulp

    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), cpu)
    except OSError:
        pass
    try:
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError):
        mem = float("nan")
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "memory_gib": round(mem, 1),
        "highspy": getattr(highspy, "__version__", "?"),
        "pulp": pulp.__version__,
        "load_average_at_start": [round(x, 2) for x in load],
    }


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else [float("nan")] * 3


def markdown(data: dict[str, Any]) -> str:
    lines = ["# Pipeline benchmark", ""]
    m = data["machine"]
    lines += [
        (
            f"Written by `{data['command']}` on {m['cpus']} CPU(s) ({m['cpu']}, {m['memory_gib']} GiB), Python {m['python']}, "
            f"{data['workers']} worker(s), medians of {data['repeats']} run(s). Load average when it started: "
            f"{', '.join(str(x) for x in m['load_average_at_start'])}; when it ended: "
            f"{', '.join(str(x) for x in data.get('load_average_at_end', []))} (the machine may be shared; read wall "
            "times with it, and prefer CPU times and ratios)."
        ),
        "",
    ]
    scenarios = data["scenarios"]
    names = list(scenarios)
    lines += ["## Stages (seconds)", "", "| stage | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for stage in STAGES + ("total", "main process CPU"):
        row = [f"{scenarios[n]['stages'].get(stage, float('nan')):.2f}" for n in names]
        lines.append(f"| {stage} | " + " | ".join(row) + " |")
    for key, label in (
        ("lp_wmt_seconds_sum", "LP, WMT cell: sum of PDU seconds"),
        ("lp_needs_seconds_sum", "LP, needs cell: sum of PDU seconds"),
        ("lp_wmt_solver_seconds_sum", "LP, WMT cell: sum of HiGHS run times"),
        ("lp_needs_solver_seconds_sum", "LP, needs cell: sum of HiGHS run times"),
    ):
        lines.append(
            f"| {label} | " + " | ".join(f"{scenarios[n]['stages'].get(key, float('nan')):.2f}" for n in names) + " |"
        )
    lines += [
        "",
        "## `workload run` as a process",
        "",
        "| scenario | cases | practitioners | PDUs | wall (s) | CPU (s, all processes) | peak memory (MiB, process tree) | largest process (MiB) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for n in names:
        s = scenarios[n]
        e = s["end_to_end"]
        lines.append(
            f"| {n} | {s['cases']:,} | {s['practitioners']:,} | {s['pdus']} | {e['wall_seconds']:.1f} | {e['cpu_seconds']:.1f} | {e['peak_memory_mib']:,.0f} | {e['max_single_process_rss_mib']:,.0f} |"
        )
    ref = data.get("region_references")
    if ref:
        lines += [
            "",
            f"## LP reference points ({ref['scenario']}, {ref['pdus']} PDUs, {ref['workers']} workers)",
            "",
            "| measure | seconds |",
            "|---|---|",
            f"| LP allocation (build, solve, round; {ref['workers']} workers running), wall | {ref['lp_allocation_wall']:.2f} |",
            f"| the same, first call (starts the worker processes), wall | {ref['lp_allocation_wall_cold']:.2f} |",
            f"| of which: sum of PDU seconds (CPU-side) | {ref['lp_allocation_pdu_seconds_sum']:.2f} |",
            f"| HiGHS floor: sum of HiGHS run times inside the allocator's (priced) solves | {ref['highs_floor_priced_sum']:.2f} |",
            f"| HiGHS floor: sum of HiGHS run times, full LP handed over directly | {ref['highs_floor_full_lp_sum']:.2f} |",
            f"| idiomatic PuLP (LpVariable per column, lpSum rows) + HiGHS: build | {ref['pulp_build_sum']:.2f} |",
            f"| idiomatic PuLP: solve (of which HiGHS run {ref['pulp_highs_run_sum']:.2f}) | {ref['pulp_solve_sum']:.2f} |",
            f"| idiomatic PuLP: total, one PDU after another | {ref['pulp_total']:.2f} |",
            "",
            f"- LP wall / (priced HiGHS time / workers): {ref['ratio_wall_to_priced_floor_per_worker']:.2f}x (the allocator's own HiGHS time, smaller than the floor because it prices pairs in; the rest is building and rounding)",
            f"- LP wall / (full-LP HiGHS floor / workers): **{ref['ratio_wall_to_full_lp_floor_per_worker']:.2f}x** (target <= 1.3x; first call, starting the workers: {ref['ratio_cold_wall_to_full_lp_floor_per_worker']:.2f}x)",
            f"- idiomatic PuLP total / LP wall: **{ref['speedup_vs_pulp_wall']:.1f}x** faster (target >= 4x); per CPU second (PuLP total / sum of PDU seconds): {ref['speedup_vs_pulp_cpu']:.1f}x",
            f"- largest relative objective difference, PuLP vs direct full LP: {ref['objective_max_rel_diff_pulp_vs_direct']:.1e}",
        ]
    sc = data.get("scaling")
    if sc:
        lines += [
            "",
            "## Scaling (`workload run`, end to end, trade-off section off as it is nationally)",
            "",
            "| cases | practitioners | PDUs | wall (s) | CPU (s) | peak memory (MiB) |",
            "|---|---|---|---|---|---|",
        ]
        for r in sc["runs"]:
            lines.append(
                f"| {r['cases']:,} | {r['practitioners']:,} | {r['pdus']} | {r['wall_seconds']:.1f} | {r['cpu_seconds']:.1f} | {r['peak_memory_mib']:,.0f} |"
            )
        lines += [
            "",
            f"Fitted exponent b in time ~ cases^b: **{sc['exponent']:.2f}** on wall time (target <= 1), {sc['exponent_cpu']:.2f} on CPU time.",
        ]
    t = data.get("targets")
    if t:
        lines += ["", "## Targets", "", "| target | measured | met |", "|---|---|---|"]
        for row in t:
            lines.append(f"| {row['target']} | {row['measured']} | {'yes' if row['met'] else 'no'} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--national",
        action="store_true",
        help="include the national scenario (250,000 cases, 11,000 practitioners, 100 PDUs)",
    )
    parser.add_argument(
        "--sizes", default="", help="comma-separated case counts for the scaling runs, e.g. 25000,100000,250000"
    )
    parser.add_argument("--seed", type=int, default=7, help="synth seed of the national and scaling scenarios")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--no-references", action="store_true", help="skip the PuLP and HiGHS-floor reference points")
    parser.add_argument("--child", nargs=3, metavar=("SCENARIO", "OUT", "WORKERS"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child[0], args.child[1], int(args.child[2]))
        return 0

    SCRATCH.mkdir(parents=True, exist_ok=True)
    data: dict[str, Any] = {
        "command": "python benchmarks/bench_pipeline.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "machine": machine(),
        "workers": args.workers,
        "repeats": args.repeats,
        "scenarios": {},
    }
    todo = [("region", REGION, 12_000, 520, 10)]
    if args.national:
        todo.append(("national", synth(*NATIONAL, seed=args.seed), *NATIONAL))
    for name, path, cases, practitioners, pdus in todo:
        print(f"{name}: staged run", flush=True)
        stages = staged_run(path, args.workers, args.repeats)
        print(f"{name}: workload run", flush=True)
        e2e = end_to_end(path, args.workers, args.repeats)
        data["scenarios"][name] = {
            "path": str(path.relative_to(ROOT)),
            "cases": cases,
            "practitioners": practitioners,
            "pdus": pdus,
            "stages": stages,
            "end_to_end": e2e,
        }
        print(f"{name}: {e2e['wall_seconds']:.1f} s, {e2e['peak_memory_mib']:.0f} MiB", flush=True)
    if not args.no_references:
        print("region: reference points", flush=True)
        data["region_references"] = region_references(args.workers, args.repeats)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    if sizes:
        runs = []
        for n in sizes:
            practitioners, pdus = (
                max(1, round(n * NATIONAL[1] / NATIONAL[0])),
                max(1, round(n * NATIONAL[2] / NATIONAL[0])),
            )
            if (n, practitioners, pdus) == NATIONAL and "national" in data["scenarios"]:
                e2e = data["scenarios"]["national"]["end_to_end"]
            else:
                # the trade-off section off, as "auto" leaves it for the national scenario: the same work at
                # every size (it would add four more needs-scored solves below 30,000 cases only)
                print(f"scaling: {n} cases", flush=True)
                path = synth(n, practitioners, pdus, seed=args.seed)
                e2e = end_to_end(path, args.workers, args.repeats, ("--set", "output.tradeoff=false"))
            runs.append(
                {
                    "cases": n,
                    "practitioners": practitioners,
                    "pdus": pdus,
                    "wall_seconds": e2e["wall_seconds"],
                    "cpu_seconds": e2e["cpu_seconds"],
                    "peak_memory_mib": e2e["peak_memory_mib"],
                }
            )
        fit = lambda key: (
            float(np.polyfit(np.log([r["cases"] for r in runs]), np.log([r[key] for r in runs]), 1)[0])
            if len(runs) > 1
            else float("nan")
        )
        data["scaling"] = {"runs": runs, "exponent": fit("wall_seconds"), "exponent_cpu": fit("cpu_seconds")}

    targets = []
    if "national" in data["scenarios"]:
        e = data["scenarios"]["national"]["end_to_end"]
        targets.append(
            {
                "target": "national `workload run` < 30 s (2 cores)",
                "measured": f"{e['wall_seconds']:.1f} s (CPU {e['cpu_seconds']:.1f} s over all processes)",
                "met": e["wall_seconds"] < 30,
            }
        )
        targets.append(
            {
                "target": "national peak memory < 4 GiB",
                "measured": f"{e['peak_memory_mib'] / 1024:.2f} GiB",
                "met": e["peak_memory_mib"] < 4096,
            }
        )
    ref = data.get("region_references")
    if ref:
        # the floor is HiGHS's own solve time of the LP every wrapper hands over (the full LP, as the idiomatic
        # PuLP reference does); the allocator's priced solves beat it, and their HiGHS time is reported beside it.
        # Judged with the workers running, as in a run (which starts them before scoring); a first call in a
        # process also pays for starting them (about half a second), reported beside it
        ratio, cold = ref["ratio_wall_to_full_lp_floor_per_worker"], ref["ratio_cold_wall_to_full_lp_floor_per_worker"]
        targets.append(
            {
                "target": "LP wall <= 1.3 x HiGHS floor (full LP) / workers, workers running",
                "measured": f"{ratio:.2f}x (first call in a process, starting the workers: {cold:.2f}x)",
                "met": ratio <= 1.3,
            }
        )
        targets.append(
            {
                "target": ">= 4x faster than idiomatic PuLP + HiGHS",
                "measured": f"{ref['speedup_vs_pulp_wall']:.1f}x",
                "met": ref["speedup_vs_pulp_wall"] >= 4,
            }
        )
    if data.get("scaling") and math.isfinite(data["scaling"]["exponent"]):
        b = data["scaling"]["exponent"]
        targets.append(
            {"target": "time grows no worse than linearly (exponent <= 1)", "measured": f"{b:.2f}", "met": b <= 1.0}
        )
    data["targets"] = targets
    data["load_average_at_end"] = load_average()

    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "pipeline.json").write_text(json.dumps(data, indent=2, default=float) + "\n")
    text = markdown(data)
    (RESULTS / "pipeline.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
