"""Time the needs model: score_needs over 250,000 random valid cases (about the national caseload).

A plain script, not a test: ``python benchmarks/bench_scoring.py [--cases N] [--repeats R] [--seed S]``.
It builds a case table shaped like the loader's with numpy, scores it ``repeats`` times in each mode after
one warm-up call, and writes the timings to ``benchmarks/results/scoring.json`` and ``scoring.md``. The
target (issue 4) is under a second for 250,000 cases.

The cases are random, not a real caseload: each OASys need is 0/1/2 with probabilities 0.5/0.3/0.2, each
research flag is yes with probability 0.2, tiers and case types are uniform. The component shares it
reports describe that random mix only.
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

import numpy as np
import pandas as pd

from workload.params import Parameters, load_parameters
from workload.scenario import OASYS_NEEDS, RESEARCH_FLAGS, CaseType, Rosh, Sex, Tier
from workload.scoring.needs import COMPONENTS, score_needs

RESULTS = Path(__file__).resolve().parent / "results"
TARGET_SECONDS = 1.0


def random_cases(n: int, seed: int) -> pd.DataFrame:
    """``n`` random valid cases, indexed by ``case_id``, with the columns and dtypes the loader gives."""
    rng = np.random.default_rng(seed)

    def pick(values: list[str]) -> np.ndarray:
        return np.asarray(values, dtype=object)[rng.integers(0, len(values), n)]

    data: dict[str, object] = {
        "pdu": pick([f"PDU{i:02d}" for i in range(1, 41)]),
        "sex": pick([s.value for s in Sex]),
        "ethnicity": pick(["White", "Black", "Asian", "Mixed", "Other"]),
        "case_type": pick([c.value for c in CaseType]),
        "tier": pick([t.value for t in Tier]),
        "rosh": pick([r.value for r in Rosh]),
        "mappa_level": rng.integers(0, 4, n),
        "months_on_order": rng.uniform(0, 36, n).round(1),
    }
    for need in OASYS_NEEDS:
        data[need] = rng.choice(3, size=n, p=[0.5, 0.3, 0.2])
    for flag in RESEARCH_FLAGS:
        data[flag] = (rng.random(n) < 0.2).astype(np.int64)
    data["breach_recall_12m"] = (rng.random(n) < 0.1).astype(np.int64)
    data["current_practitioner_id"] = pick([f"P{i:04d}" for i in range(2000)])
    frame = pd.DataFrame(data, index=pd.Index([f"C{i:07d}" for i in range(n)], name="case_id"))
    text = ["pdu", "sex", "ethnicity", "case_type", "tier", "rosh", "current_practitioner_id"]
    return frame.astype({c: "str" for c in text})


def baseline_total_hours(cases: pd.DataFrame, params: Parameters) -> float:
    """The 2021 timings' total over ``cases`` (what today's model budgets), for budget-neutral mode."""
    total = 0.0
    for case_type in (c.value for c in CaseType):
        rows = cases["case_type"] == case_type
        total += float(cases.loc[rows, "tier"].map(params.table(f"wmt.annual_hours.{case_type}")).sum())
    return total


def time_calls(fn, repeats: int) -> list[float]:
    fn()  # warm-up: imports, caches
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=250_000)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--seed", type=int, default=20240331)
    args = parser.parse_args(argv)

    params = load_parameters()
    cases = random_cases(args.cases, args.seed)
    baseline = baseline_total_hours(cases, params)
    runs = {
        "full": time_calls(lambda: score_needs(cases, params), args.repeats),
        "budget-neutral": time_calls(
            lambda: score_needs(cases, params, mode="budget-neutral", baseline_total_hours=baseline), args.repeats
        ),
    }
    scores = score_needs(cases, params)
    total = float(scores["required_hours"].sum())
    result = {
        "benchmark": "score_needs",
        "cases": args.cases,
        "repeats": args.repeats,
        "seed": args.seed,
        "target_seconds": TARGET_SECONDS,
        "seconds": {
            mode: {
                "median": statistics.median(times),
                "min": min(times),
                "max": max(times),
                "all": [round(t, 6) for t in times],
            }
            for mode, times in runs.items()
        },
        "random_caseload": {
            "note": "uniform random tiers and case types; needs 0/1/2 at 0.5/0.3/0.2; flags yes at 0.2",
            "required_hours_total": total,
            "wmt_baseline_hours_total": baseline,
            "component_share_of_total": {c: float(scores[c].sum()) / total for c in COMPONENTS},
        },
        "machine": {
            "python": sys.version.split()[0],
            "numpy": np.__version__,
            "pandas": pd.__version__,
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
        },
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "scoring.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    (RESULTS / "scoring.md").write_text(markdown(result), encoding="utf-8")
    print(markdown(result))
    return 0


def markdown(result: dict) -> str:
    lines = [
        "# Benchmark: needs scoring",
        "",
        (
            f"`score_needs` on {result['cases']:,} random valid cases, {result['repeats']} timed calls after one "
            f"warm-up (seed {result['seed']}); target under {result['target_seconds']:g} s."
        ),
        "",
        "| mode | median s | min s | max s | under target |",
        "|---|---|---|---|---|",
    ]
    for mode, t in result["seconds"].items():
        ok = "yes" if t["median"] < result["target_seconds"] else "no"
        lines.append(f"| {mode} | {t['median']:.3f} | {t['min']:.3f} | {t['max']:.3f} | {ok} |")
    m = result["machine"]
    lines += [
        "",
        f"Python {m['python']}, numpy {m['numpy']}, pandas {m['pandas']}, {m['platform']}, {m['cpus']} CPUs.",
        "",
        "Component shares of the random caseload's required hours (random data, not a real caseload):",
        "",
        "| component | share |",
        "|---|---|",
    ]
    for component, share in result["random_caseload"]["component_share_of_total"].items():
        lines.append(f"| {component} | {share:.1%} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
