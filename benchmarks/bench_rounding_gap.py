"""Measure the rounding's gap to the exact MIP on small PDUs, by how far need exceeds capacity.

A plain script, not a test: ``python benchmarks/bench_rounding_gap.py``. For need at 90-150% of capacity and
two PDU shapes (60 cases x 3 practitioners, 80 x 4; two partners; ``Policy()`` defaults; seeds 0-9), it solves
the LP, rounds it (with and without the local search) and solves the exact MIP, and writes the mean and
largest gap, (rounded - MIP optimum) / MIP optimum, to ``benchmarks/results/rounding_gap.md`` (the table in
docs/model.md, "Rounding").

``--continuity rebalance|free`` measures the same under that rule (``rounding_gap_<rule>.md``).
``--region`` instead measures the gap to the LP bound, (rounded - LP bound) / LP bound, of every PDU of
``scenarios/region`` (both cells, WMT- and needs-scored) under each continuity rule (keep, rebalance, free),
as ``workload run`` allocates them, and writes ``rounding_gap_region.md`` and ``.json`` with the load average.
``--region-mip`` then takes every PDU that run left more than 1% above its LP bound and solves its exact MIP
(binary responsibility and referral, every row) with HiGHS for ``--mip-seconds`` (60): the MIP's proven bound
says how far above the LP bound *any* one-practitioner allocation must be, so where it is more than 1% above,
no rounding can reach 1% of the LP bound. Writes ``rounding_gap_region_mip.md`` and ``.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

import numpy as np

from workload.allocate.lp import round_allocation, solve_highs
from workload.allocate.model import build_model, pdu_arrays, pdu_inputs
from workload.params import load_parameters
from workload.scenario import Policy
from workload.testing import random_allocation_inputs

RESULTS = Path(__file__).resolve().parent / "results"
LOADS = (0.9, 1.0, 1.1, 1.2, 1.3, 1.5)
SHAPES = ((60, 3), (80, 4))
SEEDS = range(10)


def gaps(
    load: float, cases_per_pdu: int, practitioners_per_pdu: int, continuity: str = "keep"
) -> tuple[list[float], list[float]]:
    params, policy = load_parameters(), Policy(continuity=continuity)
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


def main(continuity: str = "keep") -> None:
    policy_text = "`Policy()` defaults" if continuity == "keep" else f"`Policy(continuity={continuity!r})`"
    lines = [
        "# Rounding gap against the exact MIP" + ("" if continuity == "keep" else f", continuity {continuity}"),
        "",
        (
            f"Written by `python benchmarks/bench_rounding_gap.py{'' if continuity == 'keep' else ' --continuity ' + continuity}`: "
            "random PDUs (`workload.testing.random_allocation_inputs`, "
            f"2 partners, {policy_text}, seeds 0-9), gap = (rounded - MIP optimum) / MIP optimum (the MIP solved to "
            "HiGHS's default gap of 0.01%, 120 s limit). Load average when it started: "
            f"{', '.join(f'{x:.2f}' for x in os.getloadavg())}."
        ),
        "",
        "| need / capacity | 60 cases x 3 practitioners: mean / max | 80 x 4: mean / max | without the local search"
        + ("" if continuity == "keep" else " and the neighbourhood step")
        + " (60 x 3; 80 x 4), mean |",
        "|---|---|---|---|",
    ]
    for load in LOADS:
        cells = [gaps(load, c, p, continuity) for c, p in SHAPES]
        (a, a0), (b, b0) = cells
        lines.append(
            f"| {load:.0%} | {statistics.mean(a):.2f}% / {max(a):.2f}% | {statistics.mean(b):.2f}% / {max(b):.2f}% | "
            f"{statistics.mean(a0):.2f}%; {statistics.mean(b0):.2f}% |"
        )
        print(lines[-1], flush=True)
    RESULTS.mkdir(exist_ok=True)
    name = "rounding_gap.md" if continuity == "keep" else f"rounding_gap_{continuity}.md"
    (RESULTS / name).write_text("\n".join(lines) + "\n")


def region(workers: int = 2) -> None:
    """Bound, rounded objective and gap of every region PDU, by continuity rule and cell."""
    from workload import pipeline
    from workload.allocate import lp
    from workload.load import load_scenario

    load_before = os.getloadavg()
    scenario = load_scenario(Path(__file__).resolve().parent.parent / "scenarios" / "region")
    scores = pipeline.score_cases(scenario)
    rows = []
    for continuity in ("keep", "rebalance", "free"):
        for scoring in ("wmt", "needs"):
            policy = scenario.spec.policy.model_copy(update={"continuity": continuity})
            if scoring == "wmt":
                policy = policy.model_copy(update={"use_partners": False})
            frame = pipeline.lp_cases(scenario, scores, scoring)
            start = time.perf_counter()
            alloc = lp.allocate_lp(frame, scenario.practitioners, scenario.partners, scenario.params, policy, workers)
            wall = time.perf_counter() - start
            for pdu, row in alloc.pdus.iterrows():
                rows.append(
                    {
                        "continuity": continuity,
                        "cell": scoring,
                        "pdu": str(pdu),
                        "cases": int(row["cases"]),
                        "status": str(row["status"]),
                        "bound": float(row["bound"]),
                        "objective": float(row["objective"]),
                        "gap_pct": float(row["gap"]) * 100,
                        "seconds": float(row["seconds"]),
                    }
                )
            print(continuity, scoring, f"{wall:.1f}s", f"largest gap {max(r['gap_pct'] for r in rows[-10:]):.3f}%")
    lines = [
        "# Rounding gap against the LP bound, region PDUs",
        "",
        (
            "Written by `python benchmarks/bench_rounding_gap.py --region`: every PDU of scenarios/region, both cells, "
            "under each continuity rule; gap = (rounded objective - LP bound) / LP bound (the LP bound is a lower "
            f"bound on the exact optimum, so the gap to the optimum is at most this). Load average when it started: "
            f"{', '.join(f'{x:.2f}' for x in load_before)}."
        ),
        "",
        "| continuity | cell | PDUs | largest gap | mean gap | PDUs above 1% |",
        "|---|---|---|---|---|---|",
    ]
    for continuity in ("keep", "rebalance", "free"):
        for scoring in ("wmt", "needs"):
            g = [r["gap_pct"] for r in rows if r["continuity"] == continuity and r["cell"] == scoring]
            above = sum(x > 1.0 for x in g)
            lines.append(
                f"| {continuity} | {scoring} | {len(g)} | {max(g):.3f}% | {statistics.mean(g):.3f}% | {above} |"
            )
    lines += ["", "| continuity | cell | PDU | cases | LP bound | rounded | gap |", "|---|---|---|---|---|---|---|"]
    lines += [
        f"| {r['continuity']} | {r['cell']} | {r['pdu']} | {r['cases']:,} | {r['bound']:,.1f} | {r['objective']:,.1f} | "
        f"{r['gap_pct']:.3f}% |"
        for r in rows
    ]
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "rounding_gap_region.md").write_text("\n".join(lines) + "\n")
    (RESULTS / "rounding_gap_region.json").write_text(json.dumps({"load_average": load_before, "pdus": rows}, indent=1))


def _exact_mip(job: tuple[str, str, str, float]) -> dict[str, float | str]:
    """HiGHS on the exact MIP of one region PDU (continuity rule, cell, PDU) for at most ``seconds``."""

    from workload import pipeline
    from workload.allocate.solvers import highs_lp, new_highs
    from workload.load import load_scenario

    continuity, scoring, pdu, seconds = job
    scenario = load_scenario(Path(__file__).resolve().parent.parent / "scenarios" / "region")
    policy = scenario.spec.policy.model_copy(update={"continuity": continuity})
    if scoring == "wmt":
        policy = policy.model_copy(update={"use_partners": False})
    frame = pipeline.lp_cases(scenario, pipeline.score_cases(scenario), scoring)
    inp = pdu_inputs(frame, scenario.practitioners, scenario.partners, scenario.params, policy)[pdu]
    exact = build_model(pdu_arrays(inp, scenario.params, policy), integral=True)
    h = new_highs(seconds, 1)
    h.passModel(highs_lp(exact, exact.cost, exact.lower, exact.upper))
    cols = np.flatnonzero(exact.integrality).astype(np.int32)
    h.changeColsIntegrality(len(cols), cols, np.ones(len(cols), dtype=np.uint8))
    h.run()
    info = h.getInfo()
    found = info.primal_solution_status == 2
    return {
        "mip_bound": float(info.mip_dual_bound),
        "mip_best": float(info.objective_function_value) if found else float("nan"),
        "mip_status": h.modelStatusToString(h.getModelStatus()),
        "mip_seconds": float(h.getRunTime()),
    }


def region_mip(seconds: float, workers: int) -> None:
    """The exact MIP's proven bound and best allocation on every region PDU more than 1% above its LP bound."""
    from concurrent.futures import ProcessPoolExecutor

    load_before = os.getloadavg()
    rows = [r for r in json.loads((RESULTS / "rounding_gap_region.json").read_text())["pdus"] if r["gap_pct"] > 1.0]
    jobs = [(r["continuity"], r["cell"], r["pdu"], seconds) for r in rows]
    with ProcessPoolExecutor(workers) as pool:
        for row, mip in zip(rows, pool.map(_exact_mip, jobs)):
            row.update(mip)
            row["floor_pct"] = (row["mip_bound"] - row["bound"]) / row["bound"] * 100
            row["to_mip_best_pct"] = (row["objective"] - row["mip_best"]) / row["mip_best"] * 100
            print(row["continuity"], row["cell"], row["pdu"], f"floor {row['floor_pct']:.2f}%", flush=True)
    impossible = [r for r in rows if r["floor_pct"] > 1.0]
    lines = [
        "# Region PDUs above 1% of the LP bound: the exact MIP's proven bound",
        "",
        (
            "Written by `python benchmarks/bench_rounding_gap.py --region-mip` from `rounding_gap_region.json`: every "
            f"region PDU whose rounded allocation is more than 1% above its LP bound, its exact MIP solved by HiGHS "
            f"(one thread, {seconds:.0f} s each, no starting allocation). *MIP bound above LP bound* is how far above the LP "
            "bound every one-practitioner allocation is proven to be: where it is more than 1%, no allocation can be "
            "within 1% of the LP bound. *Ours to MIP best* compares the rounded allocation with the best HiGHS found "
            "(negative: ours is better). Load average when it started: "
            f"{', '.join(f'{x:.2f}' for x in load_before)}."
        ),
        "",
        f"{len(impossible)} of {len(rows)} such PDU cells have an exact optimum proven more than 1% above the LP bound.",
        "",
        "| continuity | cell | PDU | LP bound | rounded (gap) | MIP bound (above LP bound) | MIP best | ours to MIP best | MIP status |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r['continuity']} | {r['cell']} | {r['pdu']} | {r['bound']:,.1f} | {r['objective']:,.1f} ({r['gap_pct']:.2f}%) | "
        f"{r['mip_bound']:,.1f} ({r['floor_pct']:.2f}%) | {r['mip_best']:,.1f} | {r['to_mip_best_pct']:+.2f}% | "
        f"{r['mip_status']} |"
        for r in rows
    ]
    (RESULTS / "rounding_gap_region_mip.md").write_text("\n".join(lines) + "\n")
    (RESULTS / "rounding_gap_region_mip.json").write_text(
        json.dumps({"load_average": load_before, "seconds": seconds, "pdus": rows}, indent=1)
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--region", action="store_true", help="gap to the LP bound of every region PDU, by rule")
    parser.add_argument("--region-mip", action="store_true", help="the exact MIP's bound on region PDUs above 1%%")
    parser.add_argument("--mip-seconds", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--continuity", choices=("keep", "rebalance", "free"), default="keep", help="small PDUs: the continuity rule"
    )
    args = parser.parse_args()
    if args.region:
        region(args.workers)
    elif args.region_mip:
        region_mip(args.mip_seconds, args.workers)
    else:
        main(args.continuity)
