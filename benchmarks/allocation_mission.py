"""Does the allocator, with its default policy, serve the mission when a PDU's hours are short? (quality, not time)

A plain script, not a test: ``python benchmarks/allocation_mission.py [--quick] [--out PATH] [--workers N]``.
It draws single-PDU synthetic scenarios with :mod:`workload.synth` on a grid of

- capacity ratio (practitioners' capacity hours a year over the cases' assessed need, the needs model's
  full-mode required hours): 0.5, 0.7, 0.85, 1.0, 1.2;
- women's share of the caseload: 0.1, 0.3, 0.5;
- seeds 1-4 (1 and 4 with ``--quick``), each with its own PDU size: 400, 533, 667, 800 cases,

runs the whole pipeline on each with the default policy (:func:`workload.run`) and measures six checks on
the result (:func:`mission_checks`):

1. **held**: no case held today (a current practitioner in the scenario) is moved: the reform's practitioner
   (``allocations.practitioner_id``) is the current one;
2. **new**: every new case (no current practitioner) that has an eligible practitioner is placed;
3. **low risk, complex**: the group's coverage under the reform is at least the caseload's average minus 5
   points, and at least what needs scoring with today's allocation gives it;
4. **women, abuse, early**: women with a domestic-abuse or sexual-violence history in the first
   ``needs.relationship.front_load_months`` (6) months of their order or licence are not below the
   caseload's average by more than 5 points;
5. **A/B**: protect level A and B cases get at least the coverage today's WMT allocation gives them;
6. **all**: overall coverage is at least that of needs scoring with today's allocation.

The mission asks for them on PDUs where capacity is short (ratio below 1); the table shows every scenario and
the summary counts the short ones and all.

**Coverage, like with like.** Every cell is measured against the same yardstick, each case's *assessed need*
(``assessed_need_hours``, the needs model's full-mode hours), whatever the cell's scoring: a cell's coverage
of a group is the hours that meet need (practitioner plus partner hours, up to each case's own assessed need)
over the group's assessed need, pooled: ``sum min(given, need) / sum need`` = 1 - unmet / need, the
project's unmet-need measure (``outcomes.case_outcomes``; the run's per-case ``coverage_<cell>`` columns
times assessed need). So the WMT baseline's hours are counted against assessed need, not against the WMT's
own tier hours, and hours the WMT gives an A or B case beyond its assessed need do not count towards another
case's need. (The uncapped figure, all hours given over assessed need, is in the JSON for the A/B cells.)

Each check has a *margin*: how far inside (>= 0, pass) or outside (< 0, fail) its bound the result is, in
percentage points for coverage checks and in cases (minus the count) for the two counting checks; a check
on an empty group has no margin and no verdict. Writes ``benchmarks/results/allocation_mission.md`` (the
table) and ``allocation_mission.json`` (every number), each atomically.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import workload
from workload import outcomes
from workload.allocate.lp import capacity_hours
from workload.load import Scenario
from workload.pipeline import RunResult, score_cases
from workload.synth import SynthScenario, synth_scenario, write_scenario
from workload.tier import PROTECT_LEVELS, protect_rank

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
RATIOS = (0.5, 0.7, 0.85, 1.0, 1.2)
WOMEN_SHARES = (0.1, 0.3, 0.5)
SEEDS = (1, 2, 3, 4)
QUICK_SEEDS = (1, 4)
SIZE_RANGE = (400, 800)
UNALLOCATED_SHARE = 0.1
"""Share of new cases (no current practitioner) in every scenario: twice synth's default 5%, so that a PDU of
400-800 cases has 40-80 new cases for the second check to count."""

POINTS_BELOW_AVERAGE = 5.0
"""How far (percentage points) a group's coverage may fall below the caseload's average (checks 3 and 4)."""

CHECKS: dict[str, str] = {
    "held_kept": "no case held today is moved",
    "new_placed": "every new case with an eligible practitioner is placed",
    "low_risk_complex": "low-risk-complex coverage >= average - 5 pts and >= needs scoring with today's allocation",
    "women_abuse_early": "women with DA/SV histories in their first months >= average - 5 pts",
    "ab_vs_wmt_today": "A and B coverage >= today's WMT allocation's",
    "all_vs_needs_today": "overall coverage >= needs scoring with today's allocation",
}
"""The six checks, by key, in order."""


# ----------------------------------------------------------------------------------------------------------
# the checks


def _coverage(result: RunResult, cell: str, mask: pd.Series | None = None) -> float | None:
    """Pooled coverage of assessed need in one cell: hours meeting need (each case's up to its own need) over need.

    None for an empty group; 1 when the group has cases but no assessed need.
    """
    need = result.cases["assessed_need_hours"].astype(float)
    met = result.cases[f"coverage_{cell}"].astype(float) * need
    if mask is not None:
        need, met = need[mask], met[mask]
    if len(need) == 0:
        return None
    total = float(need.sum())
    return float(met.sum()) / total if total > 0 else 1.0


def _given_over_need(result: RunResult, cell: str, mask: pd.Series) -> float | None:
    """All hours a cell gives a group (uncapped: hours beyond a case's need count) over the group's assessed need.

    Only for ``wmt_today`` (today's holders, each rationing their capacity over the WMT's hours, as the
    pipeline does) and ``needs_lp`` (the allocations table).
    """
    need = result.cases["assessed_need_hours"].astype(float)
    if cell == "needs_lp":
        alloc = result.tables["allocations"]
        given = alloc["afforded_hours"].astype(float).fillna(0.0) + alloc["partner_hours"].astype(float).fillna(0.0)
    elif cell == "wmt_today":
        holder = result.cases["baseline_practitioner_id"]
        given = outcomes.today_hours(
            result.cases["wmt_hours"].astype(float),
            holder,
            result.practitioners["capacity_hours"].astype(float),
            need,
            result.scenario.params,
        )
    else:
        raise ValueError(f"no uncapped hours for cell {cell!r}")
    total = float(need[mask].sum())
    if not mask.any() or total <= 0:
        return None
    return float(given.reindex(need.index).fillna(0.0)[mask].sum()) / total


def eligible_somewhere(result: RunResult) -> pd.Series:
    """Per case: does its PDU have a practitioner the allocator may give it?

    The allocator's eligibility rule as the scenario's parameters state it: capacity above 0, a grade that may
    hold the case's protect level (``wmt.baseline_allocation.highest_protect_level``) and, under a hard
    women's specialist pool, the ``women`` specialism for a woman's case.
    """
    scenario = result.scenario
    cases, staff = scenario.cases, scenario.practitioners
    highest_letter = staff["grade"].map(scenario.params.table("wmt.baseline_allocation.highest_protect_level"))
    highest = highest_letter.map({letter: i for i, letter in enumerate(PROTECT_LEVELS)})
    capacity = result.practitioners["capacity_hours"].reindex(staff.index).astype(float)
    able = staff.assign(highest=highest, able=capacity > 0)
    able = able[able["able"] & able["highest"].notna()]
    level = protect_rank(cases["tier"])
    hard = scenario.spec.policy.women_specialist_pool == "hard"
    female = cases["sex"].astype(str) == "female"
    out = pd.Series(False, index=cases.index)
    for pdu, group in able.groupby("pdu"):
        in_pdu = cases["pdu"] == pdu
        best = float(group["highest"].min())
        ok = in_pdu & (level >= best)
        if hard:
            specialist = group["specialisms"].map(lambda s: "women" in [str(getattr(x, "value", x)) for x in s])
            women_best = float(group.loc[specialist, "highest"].min()) if specialist.any() else math.inf
            ok &= ~female | (level >= women_best)
        out |= ok
    return out.rename("eligible")


def _points(value: float | None) -> float | None:
    return None if value is None else 100.0 * value


def _verdict(margin: float | None) -> dict[str, Any]:
    """A check's margin (rounded, so float noise cannot flip it) and its verdict: pass when the margin is >= 0."""
    if margin is None:
        return {"margin": None, "pass": None}
    rounded = round(float(margin), 6) + 0.0  # + 0.0: no -0.0
    return {"margin": rounded, "pass": bool(rounded >= 0)}


def mission_groups(result: RunResult) -> dict[str, pd.Series]:
    """The case groups the checks look at, as boolean Series over the run's cases."""
    cases = result.scenario.cases
    front = float(result.scenario.params["needs.relationship.front_load_months"])
    held = cases["current_practitioner_id"].notna()
    abuse = (cases["domestic_abuse_victim"].astype(int) == 1) | (cases["sexual_violence_victim"].astype(int) == 1)
    return {
        "held": held,
        "new": ~held,
        "low_risk_complex": result.cases["low_risk_complex"].astype(str) == "yes",
        "women_abuse_early": (cases["sex"].astype(str) == "female")
        & abuse
        & (cases["months_on_order"].astype(float) < front),
        "ab": outcomes.protect_level(cases).isin(["A", "B"]),
    }


def mission_checks(result: RunResult) -> dict[str, Any]:
    """The six mission checks on one run, with the figures they rest on.

    Returns a dict with ``figures`` (counts, capacity ratio, coverages as fractions) and ``checks``: for each
    key of :data:`CHECKS`, ``{"margin": float | None, "pass": bool | None}`` with ``pass == (margin >= 0)``
    (None when the group is empty). Coverage margins are in percentage points; the counting checks' margins
    are minus the number of cases that break them.
    """
    groups = mission_groups(result)
    cases = result.scenario.cases
    alloc = result.tables["allocations"]
    reform_holder = alloc["practitioner_id"].reindex(cases.index)
    current = cases["current_practitioner_id"]

    held = groups["held"]
    moved = held & (reform_holder.isna() | (reform_holder.astype(object) != current.astype(object)))
    eligible = eligible_somewhere(result)
    new_unplaced = groups["new"] & eligible & reform_holder.isna()

    cov: dict[str, float | None] = {
        "all_needs_lp": _coverage(result, "needs_lp"),
        "all_needs_today": _coverage(result, "needs_today"),
        "all_wmt_today": _coverage(result, "wmt_today"),
        "all_wmt_lp": _coverage(result, "wmt_lp"),
    }
    for name in ("low_risk_complex", "women_abuse_early", "ab"):
        for cell in outcomes.CELLS:
            cov[f"{name}_{cell}"] = _coverage(result, cell, groups[name])
    average = cov["all_needs_lp"]
    capacity = float(result.practitioners["capacity_hours"].astype(float).sum())
    need = float(result.cases["assessed_need_hours"].astype(float).sum())

    def below_average(group: float | None) -> float | None:
        if group is None or average is None:
            return None
        return 100.0 * (group - average) + POINTS_BELOW_AVERAGE

    def gain(reform: float | None, other: float | None) -> float | None:
        return None if reform is None or other is None else 100.0 * (reform - other)

    lrc_average = below_average(cov["low_risk_complex_needs_lp"])
    lrc_today = gain(cov["low_risk_complex_needs_lp"], cov["low_risk_complex_needs_today"])
    lrc = None if lrc_average is None or lrc_today is None else min(lrc_average, lrc_today)
    checks = {
        "held_kept": _verdict(-float(moved.sum())),
        "new_placed": _verdict(-float(new_unplaced.sum())),
        "low_risk_complex": _verdict(lrc),
        "women_abuse_early": _verdict(below_average(cov["women_abuse_early_needs_lp"])),
        "ab_vs_wmt_today": _verdict(gain(cov["ab_needs_lp"], cov["ab_wmt_today"])),
        "all_vs_needs_today": _verdict(gain(cov["all_needs_lp"], cov["all_needs_today"])),
    }
    figures: dict[str, Any] = {
        "cases": len(cases),
        "practitioners": len(result.scenario.practitioners),
        "women": int((cases["sex"].astype(str) == "female").sum()),
        "held": int(held.sum()),
        "new": int(groups["new"].sum()),
        "new_eligible": int((groups["new"] & eligible).sum()),
        "held_moved": int(moved.sum()),
        "moved_flag": int(alloc["moved"].astype(int).sum()),
        "new_unplaced": int(new_unplaced.sum()),
        "low_risk_complex_cases": int(groups["low_risk_complex"].sum()),
        "women_abuse_early_cases": int(groups["women_abuse_early"].sum()),
        "ab_cases": int(groups["ab"].sum()),
        "capacity_hours": capacity,
        "assessed_need_hours": need,
        "capacity_ratio": capacity / need if need > 0 else math.inf,
        "coverage": cov,
        "low_risk_complex_margin_vs_average": lrc_average,
        "low_risk_complex_margin_vs_needs_today": lrc_today,
        "ab_given_over_need_wmt_today": _given_over_need(result, "wmt_today", groups["ab"]),
        "ab_given_over_need_needs_lp": _given_over_need(result, "needs_lp", groups["ab"]),
    }
    return {"figures": figures, "checks": checks}


# ----------------------------------------------------------------------------------------------------------
# the scenarios


def pdu_size(seed: int) -> int:
    """Cases in the PDU of a seed: seeds 1, 2, 3, 4 (then again 5-8 ...) give 400, 533, 667, 800 cases."""
    low, high = SIZE_RANGE
    return round(low + (high - low) * ((seed - 1) % 4) / 3)


def _synth(n_cases: int, n_practitioners: int, women_share: float, seed: int) -> SynthScenario:
    return synth_scenario(
        n_cases=n_cases,
        n_practitioners=max(2, n_practitioners),
        n_pdus=1,
        women_share=women_share,
        seed=seed,
        unallocated_share=UNALLOCATED_SHARE,
    )


def _load(synth: SynthScenario, folder: Path, name: str) -> Scenario:
    write_scenario(folder, synth, name=name, force=True)
    return workload.load_scenario(folder)


def draw_pdu(
    ratio: float, women_share: float, seed: int, n_cases: int, folder: Path
) -> tuple[Scenario, dict[str, Any]]:
    """One synthetic PDU whose practitioners' capacity hours are ``ratio`` x its cases' assessed need.

    The cases depend on the seed, size and women's share only (synth draws them before the staff), so they
    are drawn and scored once; the number of practitioners is then the one whose capacity comes nearest the
    target, and every practitioner's contracted and reduction hours are scaled by one factor (a few per cent)
    to hit it. Current holders are drawn by synth among those practitioners (available hours x grade weight).
    """
    first = _synth(n_cases, 2, women_share, seed)
    scenario = _load(first, folder, f"mission {ratio} {women_share} {seed}")
    need = float(score_cases(scenario)["assessed_need_hours"].sum())
    target = ratio * need

    def capacity(synth: SynthScenario) -> float:
        return float(capacity_hours(synth.practitioners, scenario.params).sum())

    n = max(2, round(target / 1400.0))  # about 1,400 case hours a year per practitioner: a first guess
    tried: dict[int, SynthScenario] = {}
    for _ in range(8):
        tried[n] = _synth(n_cases, n, women_share, seed)
        per_head = capacity(tried[n]) / n
        step = max(2, round(target / per_head)) if per_head > 0 else n + 1
        if step in tried:
            break
        n = step
    n = min(tried, key=lambda k: abs(capacity(tried[k]) - target))
    synth = tried[n]
    factor = target / capacity(synth)
    staff = synth.practitioners.copy()
    contracted = staff["contracted_hours_per_week"].astype(float) * factor
    reduction = staff["reduction_hours_per_week"].astype(float) * factor
    staff["contracted_hours_per_week"] = contracted.round(4).clip(upper=60.0)
    staff["reduction_hours_per_week"] = reduction.round(4).clip(upper=60.0)
    synth = replace(synth, practitioners=staff)
    same = first.cases.drop(columns="current_practitioner_id").equals(
        synth.cases.drop(columns="current_practitioner_id")
    )
    if not same:
        raise RuntimeError("synth drew different cases for a different number of practitioners")
    scenario = _load(synth, folder, f"mission {ratio} {women_share} {seed}")
    drawn = {"practitioners": n, "hours_factor": factor, "target_capacity_hours": target, "assessed_need": need}
    return scenario, drawn


# ----------------------------------------------------------------------------------------------------------
# the table


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100.0 * value:.1f}"


def _check_cell(check: dict[str, Any], count: bool = False) -> str:
    if check["pass"] is None:
        return "n/a"
    margin = float(check["margin"])
    word = "ok" if check["pass"] else "FAIL"
    if count:
        return word if check["pass"] else f"{word} {-margin:.0f}"
    return f"{word} {margin:+.1f}"


def markdown(rows: list[dict[str, Any]], meta: dict[str, Any]) -> str:
    """The results as a markdown page: the table, a legend and the summary."""
    head = (
        "| cap | women | seed | cases | new | moved | unpl | all today | all LP | LRC today | LRC LP | W<6m LP (n) "
        "| AB WMT | AB LP | 1 held | 2 new | 3 LRC | 4 W<6m | 5 A/B | 6 all |"
    )
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for row in rows:
        f, c, cov = row["figures"], row["checks"], row["figures"]["coverage"]
        lines.append(
            f"| {f['capacity_ratio']:.2f} | {row['women_share']:.0%} | {row['seed']} | {f['cases']} | {f['new']} "
            f"| {f['held_moved']} | {f['new_unplaced']} | {_pct(cov['all_needs_today'])} | {_pct(cov['all_needs_lp'])} "
            f"| {_pct(cov['low_risk_complex_needs_today'])} | {_pct(cov['low_risk_complex_needs_lp'])} "
            f"| {_pct(cov['women_abuse_early_needs_lp'])} ({f['women_abuse_early_cases']}) "
            f"| {_pct(cov['ab_wmt_today'])} | {_pct(cov['ab_needs_lp'])} "
            f"| {_check_cell(c['held_kept'], count=True)} | {_check_cell(c['new_placed'], count=True)} "
            f"| {_check_cell(c['low_risk_complex'])} | {_check_cell(c['women_abuse_early'])} "
            f"| {_check_cell(c['ab_vs_wmt_today'])} | {_check_cell(c['all_vs_needs_today'])} |"
        )
    summary = meta["summary"]
    short = summary["short"]
    every = summary["all"]
    passes = "; ".join(
        f"{i}. {key}: {short[key]['pass']}/{short[key]['checked']} short, "
        f"{every[key]['pass']}/{every[key]['checked']} all"
        for i, key in enumerate(CHECKS, start=1)
    )
    legend = "\n".join(f"{i}. **{key}**: {text}" for i, (key, text) in enumerate(CHECKS.items(), start=1))
    command = "benchmarks/allocation_mission.py" + (" --quick" if meta["quick"] else "")
    grid = (
        f"- Grid: capacity ratio {', '.join(str(r) for r in meta['ratios'])} x women's share "
        f"{', '.join(f'{w:.0%}' for w in meta['women_shares'])} x seeds {', '.join(str(s) for s in meta['seeds'])} "
        f"({len(rows)} single-PDU scenarios of {SIZE_RANGE[0]}-{SIZE_RANGE[1]} cases, "
        f"{UNALLOCATED_SHARE:.0%} new); pipeline workers {meta['workers']}"
    )
    headline = (
        "**Summary** (passes / scenarios checked; short = the grid's capacity ratio below 1, "
        f"{summary['short_scenarios']} scenarios): {passes}."
    )
    columns = (
        "Columns: **cap** realised capacity ratio (capacity hours / assessed need); **new** cases with no current "
        "practitioner; **moved** held cases the reform gives another practitioner (or none); **unpl** new cases "
        "with an eligible practitioner the reform leaves unplaced; coverages in % of assessed need met (hours "
        "up to each case's own assessed need, practitioner plus partner hours, pooled; every cell against the "
        "needs model's full-mode hours, so the WMT cell is measured like the others): **all** the caseload, "
        "**LRC** the low-risk-complex group, **W<6m** women with a domestic-abuse or sexual-violence history in "
        "the first 6 months on order (n cases), **AB** protect level A and B; **today** = needs scoring with "
        "today's allocation, **LP** = the reform (needs scoring, LP allocation), **WMT** = WMT scoring with "
        "today's allocation (the baseline). Checks: ok/FAIL with the margin in points (counts: cases breaking "
        "the check); n/a for an empty group."
    )
    page = [
        "# Allocation and the mission: the default policy on short PDUs",
        "",
        f"Generated by `{command}` (quality, not time; the method is in the script's docstring).",
        "",
        f"- Date: {meta['date']}; commit {meta['commit']}",
        f"- Machine: {meta['machine']}, {meta['cores']} cores, load average at start {meta['load_average']}",
        grid,
        f"- Total time: {meta['total_seconds']:.1f} s (drawing, writing and loading scenarios included)",
        "",
        headline,
        "",
        *lines,
        "",
        columns,
        "",
        legend,
        "",
    ]
    return "\n".join(page)


def _summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    def count(subset: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
        out = {}
        for key in CHECKS:
            verdicts = [r["checks"][key]["pass"] for r in subset if r["checks"][key]["pass"] is not None]
            out[key] = {"pass": sum(bool(v) for v in verdicts), "checked": len(verdicts)}
        return out

    short = [r for r in rows if r["ratio"] < 1.0]  # the grid's ratio: the realised one is within 0.01% of it
    return {"short_scenarios": len(short), "short": count(short), "all": count(rows)}


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)  # as any other results file (mkstemp makes it 0600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True
        )
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if not math.isfinite(float(value)) else float(value)
    return value


def run_grid(
    ratios: tuple[float, ...], women_shares: tuple[float, ...], seeds: tuple[int, ...], workers: int, scratch: Path
) -> list[dict[str, Any]]:
    """Every scenario of the grid: drawn, run with the default policy, checked."""
    rows = []
    for seed in seeds:
        n_cases = pdu_size(seed)
        for women in women_shares:
            for ratio in ratios:
                start = time.perf_counter()
                scenario, drawn = draw_pdu(ratio, women, seed, n_cases, scratch / f"s{seed}-w{women}-r{ratio}")
                result = workload.run(scenario, workers=workers)
                checks = mission_checks(result)
                seconds = time.perf_counter() - start
                rows.append(
                    {"ratio": ratio, "women_share": women, "seed": seed, "drawn": drawn, "seconds": seconds, **checks}
                )
                failed = [k for k, v in checks["checks"].items() if v["pass"] is False]
                print(
                    f"ratio {ratio:<4} women {women:.0%} seed {seed}: {checks['figures']['cases']} cases, "
                    f"{drawn['practitioners']} practitioners, {seconds:.1f} s; "
                    + ("all checks pass" if not failed else "fails " + ", ".join(failed)),
                    flush=True,
                )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--quick", action="store_true", help=f"seeds {QUICK_SEEDS} only (else {SEEDS})")
    parser.add_argument("--out", type=Path, default=RESULTS / "allocation_mission.md", help="the markdown table")
    parser.add_argument("--workers", type=int, default=1, help="the pipeline's worker processes (default 1)")
    args = parser.parse_args(argv)

    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    commit = _commit()
    seeds = QUICK_SEEDS if args.quick else SEEDS
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="allocation-mission-") as scratch:
        rows = run_grid(RATIOS, WOMEN_SHARES, seeds, args.workers, Path(scratch))
    total = time.perf_counter() - start
    meta = {
        "quick": bool(args.quick),
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "commit": commit,
        "machine": f"{platform.system()} {platform.machine()}, Python {platform.python_version()}",
        "cores": os.cpu_count(),
        "load_average": load,
        "ratios": list(RATIOS),
        "women_shares": list(WOMEN_SHARES),
        "seeds": list(seeds),
        "workers": args.workers,
        "total_seconds": total,
        "summary": _summary(rows),
    }
    out: Path = args.out
    _atomic_write(out, markdown(rows, meta))
    _atomic_write(out.with_suffix(".json"), json.dumps(_jsonable({"meta": meta, "rows": rows}), indent=1) + "\n")
    print(f"{len(rows)} scenarios in {total:.1f} s; wrote {out} and {out.with_suffix('.json')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
