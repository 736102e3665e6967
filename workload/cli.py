"""The `workload` command: validate, run, allocate, plan, synth, compare, sweep, simulate, schema, docs.

Exit codes: 0 success; 2 bad input (every problem listed, no traceback, nothing written); 1 an internal
error (reported in one paragraph).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from workload import __version__
from workload.output import OutputError, is_output_os_error, output_problem
from workload.sweep.cli import positive_int

EXIT_BAD_INPUT = 2


def _print_problems(problems: Sequence[object]) -> None:
    from workload.errors import render

    print(render(problems), file=sys.stderr)  # type: ignore[arg-type]


def _load(args: argparse.Namespace) -> Any:
    """The scenario with the ``--set`` options applied (raises ScenarioError or ReformError, both InputErrors)."""
    from workload.load import load_scenario
    from workload.reform import Reform

    reform = Reform.from_options(args.set or [])
    return load_scenario(args.scenario, reform=reform or None)


def default_run_folder(scenario_path: Path) -> Path:
    """``runs/<scenario folder>`` for a scenario.toml, ``runs/<scenario folder>-<file stem>`` for a scenario file
    of another name, so two scenario files in one folder do not write the same run folder."""
    folder = scenario_path.parent.name
    return Path("runs") / (folder if scenario_path.name == "scenario.toml" else f"{folder}-{scenario_path.stem}")


def cmd_validate(args: argparse.Namespace) -> int:
    from workload.errors import InputError

    try:
        scenario = _load(args)
    except InputError as exc:
        _print_problems(exc.problems)
        return EXIT_BAD_INPUT
    n_cases, n_staff = len(scenario.cases), len(scenario.practitioners)
    print(
        f"{scenario.path}: valid. {n_cases:,} cases, {n_staff:,} practitioners, "
        f"{len(scenario.partners):,} partners in {len(scenario.pdus)} PDUs."
    )
    for warning in scenario.warnings:  # implausible but possible data: the run goes ahead and says so
        print(f"warning: {warning}", file=sys.stderr)
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from workload.errors import InputError
    from workload.output import check_output
    from workload.pipeline import run_scenario, write_run

    try:
        scenario = _load(args)
    except InputError as exc:
        _print_problems(exc.problems)
        return EXIT_BAD_INPUT
    if args.out is not None and not args.out.strip():
        _print_problems(["--out is blank; give the run folder to write, or leave --out out for runs/<scenario folder>"])
        return EXIT_BAD_INPUT
    out = Path(args.out) if args.out else default_run_folder(scenario.path)
    # every check on the output location is made before the computing starts (OutputError: exit 2)
    check_output(out, force=args.force, kind="run", protected=[scenario.folder])
    show = getattr(args, "progress", False) or sys.stderr.isatty()
    result = run_scenario(scenario, workers=args.workers, progress=_print_stage if show else None)
    write_run(result, out, force=args.force)
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    report = out / "report.html"
    where = report if report.exists() else out / "summary.json"
    pdus = f"{len(scenario.pdus):,} PDU" + ("" if len(scenario.pdus) == 1 else "s")
    print(f"Run written to {out}/ ({len(scenario.cases):,} cases, {pdus}). Open {where}")
    return 0


def _print_stage(stage: str, seconds: float) -> None:
    """``workload run``'s progress: one line per finished stage, on stderr."""
    print(f"  {stage}: done in {seconds:.1f} s", file=sys.stderr, flush=True)


def cmd_allocate(args: argparse.Namespace) -> int:
    from workload.allocation_day import plan_allocation_day, read_new_cases, write_allocation_day
    from workload.errors import InputError
    from workload.output import check_output

    try:
        scenario = _load(args)
        if args.new:
            scenario = read_new_cases(scenario, args.new)
    except InputError as exc:
        _print_problems(exc.problems)
        return EXIT_BAD_INPUT
    if args.out is not None and not args.out.strip():
        _print_problems(
            ["--out is blank; give the folder to write, or leave --out out for allocations/<scenario folder>"]
        )
        return EXIT_BAD_INPUT
    out = Path(args.out) if args.out else Path("allocations") / scenario.folder.name
    check_output(out, force=args.force, kind="allocation", protected=[scenario.folder])
    day = plan_allocation_day(scenario, workers=args.workers, shortlist_length=args.shortlist)
    write_allocation_day(day, out, force=args.force, protected=(scenario.folder,))
    for warning in day.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    placed = int(day.assignment["practitioner_id"].notna().sum()) if len(day.assignment) else 0
    print(
        f"Allocation written to {out}/ ({len(day.assignment):,} new cases, {placed:,} placed). "
        f"Open {out / 'allocation.html'}"
    )
    return 0


def parse_budgets(single: Sequence[str] | None, listed: str | None) -> tuple[list[float], list[str]]:
    """``--budget`` (repeatable) and ``--budgets a,b,c`` as sorted distinct GBP amounts, and any problems."""
    texts = list(single or []) + ([t for t in listed.split(",")] if listed is not None else [])
    problems, budgets = [], []
    for text in texts:
        try:
            value = float(text.strip().replace("_", ""))
        except ValueError:
            problems.append(f"budget {text.strip()!r} is not a number; give GBP a year, e.g. --budgets 0,250000,500000")
            continue
        if not math.isfinite(value) or value < 0:
            problems.append(f"budget {text.strip()!r} must be a finite amount of 0 or more (GBP a year)")
            continue
        budgets.append(value)
    if not texts:
        problems.append("give at least one budget: --budget N (repeatable) or --budgets a,b,c (GBP a year)")
    return sorted(set(budgets)), problems


def cmd_plan(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from workload.errors import InputError
    from workload.load import load_scenario
    from workload.output import check_output
    from workload.plan import Planner, prices_reform
    from workload.plan_output import plan_warnings, spend_curve, write_plan
    from workload.reform import Reform

    budgets, problems = parse_budgets(args.budget, args.budgets)
    if args.out is not None and not args.out.strip():
        problems.append("--out is blank; give the folder to write, or leave --out out for plans/<scenario folder>")
    if problems:
        _print_problems(problems)
        return EXIT_BAD_INPUT
    try:
        reform = Reform.from_options(args.set or [])
        if args.prices:
            prices = prices_reform(args.prices)
            # a --set wins over the prices file; a problem names the file, or both when both are given
            reform = replace(prices + reform, label=f"{prices.label} or --set") if reform else prices
        scenario = load_scenario(args.scenario, reform=reform or None)
    except InputError as exc:
        _print_problems(exc.problems)
        return EXIT_BAD_INPUT
    out = Path(args.out) if args.out else Path("plans") / scenario.folder.name
    check_output(out, force=args.force, kind="plan", protected=[scenario.folder])
    if 0.0 not in budgets:
        budgets = [0.0, *budgets]  # today's staffing is the curve's first point
    planner = Planner(scenario, args.objective)
    curve = spend_curve(planner, [planner.solve(b) for b in budgets])
    write_plan(planner, curve, out, args.objective, force=args.force)
    for warning in plan_warnings(planner):
        print(f"warning: {warning}", file=sys.stderr)
    best = curve[curve["lowest_cost"] == 1].iloc[0]
    print(
        f"Plan written to {out}/ ({len(budgets)} budgets). Lowest whole-life cost GBP {best['whole_life_cost']:,.0f} "
        f"at a spend of GBP {best['spend']:,.0f} ({best['fte_added']:.1f} FTE added). Open {out / 'plan.html'}"
    )
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    from workload.scenario import json_schema

    print(json.dumps(json_schema(), indent=2))
    return 0


def is_checkout(folder: Path) -> bool:
    """Whether ``folder`` is a checkout of this project: its pyproject.toml names the ``workload`` package."""
    import tomllib

    try:
        project = tomllib.loads((folder / "pyproject.toml").read_text(encoding="utf-8")).get("project", {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False
    return project.get("name") == "workload" and (folder / "workload" / "__init__.py").is_file()


def docs_root(given: str | None) -> Path | None:
    """The checkout whose docs/ ``workload docs`` regenerates: ``--root`` if given, else the checkout this
    package was imported from, else the working folder; None when that is not a checkout of this project."""
    import workload

    if given is not None:
        candidates = [Path(given)]
    else:
        candidates = [Path(workload.__file__).resolve().parent.parent, Path.cwd()]
    return next((c for c in candidates if is_checkout(c)), None)


def cmd_docs(args: argparse.Namespace) -> int:
    from workload.docs import stale_pages, write_docs

    found = docs_root(args.root)
    if found is None:
        where = args.root if args.root is not None else "the working folder"
        print(
            f"workload docs regenerates the project's own docs/, but {where} is not a checkout of the workload "
            "project (no pyproject.toml naming it); run it from the repository root or pass --root. Nothing was written.",
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT
    root = found
    if args.check:
        stale = stale_pages(root)
        for rel in stale:
            print(f"{rel} is stale: run `workload docs`", file=sys.stderr)
        return 1 if stale else 0
    for path in write_docs(root):
        print(f"wrote {path}")
    return 0


SYNTH_LIMITS = {"cases": 5_000_000, "practitioners": 250_000, "pdus": 10_000, "partners": 10_000}
"""Largest sizes ``workload synth`` draws: twenty times the national caseload, and more staff, PDUs and
partner agencies than England and Wales have; beyond them a request is a typo, refused before any memory is
taken."""


def cmd_synth(args: argparse.Namespace) -> int:
    from workload.output import check_output
    from workload.scenario import CONTROL_CHARACTERS
    from workload.synth import SynthError, synth_scenario, write_scenario

    problems = []
    if args.cases < 1:
        problems.append(f"--cases must be at least 1 (found {args.cases})")
    if args.pdus < 1:
        problems.append(f"--pdus must be at least 1 (found {args.pdus})")
    if args.practitioners < 2 * max(args.pdus, 1):
        problems.append(
            f"--practitioners must be at least 2 per PDU, {2 * args.pdus} here (found {args.practitioners})"
        )
    for option in ("cases", "practitioners", "pdus"):
        if getattr(args, option) > SYNTH_LIMITS[option]:
            problems.append(f"--{option} must be at most {SYNTH_LIMITS[option]:,} (found {getattr(args, option):,})")
    if args.women_share is not None and not 0 <= args.women_share <= 1:
        problems.append(f"--women-share must be between 0 and 1 (found {args.women_share})")
    if args.seed < 0:
        problems.append(f"--seed must be 0 or more (found {args.seed})")
    if args.name is not None and (not args.name.strip() or CONTROL_CHARACTERS.search(args.name)):
        problems.append(
            "--name must be one line of plain text, not blank (no tabs, line breaks or other control characters)"
        )
    partners: int | str = args.partners
    if isinstance(partners, str) and partners != "auto":
        try:
            partners = int(partners)
        except ValueError:
            problems.append(f"--partners must be 'auto' or a whole number (found {args.partners!r})")
        else:
            if not 0 <= partners <= SYNTH_LIMITS["partners"]:
                problems.append(
                    f"--partners must be 'auto' or a whole number from 0 to {SYNTH_LIMITS['partners']:,} (found {partners})"
                )
    if problems:
        _print_problems(problems)
        return EXIT_BAD_INPUT
    out = Path(args.out)
    check_output(out, force=args.force, kind="synth")
    try:
        synth = synth_scenario(
            n_cases=args.cases,
            n_practitioners=args.practitioners,
            n_pdus=args.pdus,
            women_share=args.women_share,
            seed=args.seed,
            partners=partners,
        )
    except SynthError as exc:
        _print_problems([f"--{(p.key or '').replace('n_', '').replace('_', '-')} {p.message}" for p in exc.problems])
        return EXIT_BAD_INPUT
    name = args.name or f"synthetic {args.cases} cases, seed {args.seed}"
    path = write_scenario(
        out, synth, name=name, description=f"Generated by `workload synth` (seed {args.seed}).", force=args.force
    )
    print(f"Scenario written to {path}")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from workload.compare import RunFolderError, compare_runs, format_table, write_comparison
    from workload.output import check_output

    runs = [Path(args.run_a), Path(args.run_b)]
    if args.out is not None and not args.out.strip():
        _print_problems(["--out is blank; give the folder to write the comparison to, or leave --out out"])
        return EXIT_BAD_INPUT
    if args.out:
        check_output(Path(args.out), force=args.force, kind="compare", protected=runs)
    try:
        table = compare_runs(*runs)
    except RunFolderError as exc:
        _print_problems(exc.problems)
        return EXIT_BAD_INPUT
    if args.out:  # written before anything is printed: a failure to write leaves no half-finished answer
        write_comparison(table, Path(args.out), runs[0].name, runs[1].name, force=args.force, protected=runs)
    print(format_table(table, runs[0].name, runs[1].name))
    if args.out:
        print(f"Comparison written to {args.out}/compare.html")
    return 0


def _add_set_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        help="change a setting for this command, checked like the scenario file's own (repeatable): "
        "policy.<field>=VALUE, output.<field>=VALUE or a parameter path, e.g. needs.hours_per_severity.drugs=14; "
        "VALUE as TOML reads it (0.5, true, rebalance)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="workload",
        description="Needs-based, gender-sensitive workload allocation for probation, compared with the WMT.",
    )
    parser.add_argument("--version", action="version", version=f"workload {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("validate", help="check a scenario and list every problem")
    p.add_argument("scenario", help="scenario.toml or the folder holding it")
    _add_set_option(p)
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("run", help="score, allocate and compare; write a run folder")
    p.add_argument("scenario", help="scenario.toml or the folder holding it")
    _add_set_option(p)
    p.add_argument(
        "--out",
        help="run folder to write (default runs/<scenario folder name>, or runs/<folder>-<file stem> for a scenario "
        "file not named scenario.toml)",
    )
    p.add_argument("--force", action="store_true", help="replace an existing run folder")
    p.add_argument(
        "--workers",
        type=positive_int,
        help="parallel PDU solves, at least 1 (default: the scenario's policy, else all cores)",
    )
    p.add_argument(
        "--progress",
        action="store_true",
        help="print a line per stage on stderr even when stderr is not a terminal (it is printed on a terminal)",
    )
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("allocate", help="allocation day: a shortlist for each new case and the batch placed jointly")
    p.add_argument("scenario", help="scenario.toml or the folder holding it")
    p.add_argument(
        "--new", help="a table of this week's new cases (case format); default: cases with no current practitioner"
    )
    p.add_argument("--out", help="folder to write (default allocations/<scenario folder name>)")
    p.add_argument("--force", action="store_true", help="replace an existing allocation folder")
    p.add_argument("--shortlist", type=positive_int, default=5, help="practitioners listed per new case (default 5)")
    _add_set_option(p)
    p.add_argument("--workers", type=positive_int, default=1, help="parallel PDU solves (default 1)")
    p.set_defaults(func=cmd_allocate)

    p = sub.add_parser("plan", help="the investment question: which posts and partner hours to buy at each budget")
    p.add_argument("scenario", help="scenario.toml or the folder holding it")
    p.add_argument("--budget", action="append", metavar="GBP", help="a budget, GBP a year (repeatable)")
    p.add_argument("--budgets", metavar="A,B,C", help="budgets, GBP a year, comma-separated")
    p.add_argument(
        "--objective",
        choices=["whole_life_cost", "need"],
        default="whole_life_cost",
        help="minimise the whole-life cost (default) or maximise need met",
    )
    p.add_argument(
        "--prices",
        metavar="FILE",
        help="a TOML file of price overrides, as [parameters] takes them (costs.staff_cost_per_hour.<grade>, "
        "plan.recruitment_cost_per_fte.<grade>, ...); --set wins over it",
    )
    _add_set_option(p)
    p.add_argument("--out", help="folder to write (default plans/<scenario folder name>)")
    p.add_argument("--force", action="store_true", help="replace an existing plan folder")
    p.set_defaults(func=cmd_plan)

    p = sub.add_parser("synth", help="generate a synthetic scenario folder from a seed")
    p.add_argument("--cases", type=int, default=12_000)
    p.add_argument("--practitioners", type=int, default=520)
    p.add_argument("--pdus", type=int, default=10)
    p.add_argument(
        "--women-share", type=float, help="share of cases who are women, 0-1 (default: synth.population.women_share)"
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--partners", default="auto", help="'auto' (women's centres where women are) or a number")
    p.add_argument("--name", help="scenario name shown on reports")
    p.add_argument("--out", required=True, help="folder to write")
    p.add_argument("--force", action="store_true", help="replace an existing folder")
    p.set_defaults(func=cmd_synth)

    p = sub.add_parser("compare", help="show the differences between two run folders")
    p.add_argument("run_a", help="first run folder (A)")
    p.add_argument("run_b", help="second run folder (B)")
    p.add_argument("--out", help="also write compare.csv and compare.html to this folder")
    p.add_argument("--force", action="store_true", help="replace an existing --out folder")
    p.set_defaults(func=cmd_compare)

    from workload.sweep import add_sweep_parser

    add_sweep_parser(sub)

    from workload.simulate.cli import add_simulate_parser

    add_simulate_parser(sub)

    p = sub.add_parser("schema", help="print the JSON Schema of the scenario format")
    p.set_defaults(func=cmd_schema)

    p = sub.add_parser("docs", help="regenerate docs/scenario-format.md and docs/parameters.md")
    p.add_argument("--root", help="repository root (default: the checkout this package runs from, else here)")
    p.add_argument("--check", action="store_true", help="exit 1 if the committed pages are stale")
    p.set_defaults(func=cmd_docs)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print("interrupted; nothing was written", file=sys.stderr)
        return 130
    except OutputError as exc:
        _print_problems([f"workload {args.command}: {exc}"])  # errors are rendered one way
        return EXIT_BAD_INPUT
    except OSError as exc:
        if not is_output_os_error(exc):
            return _internal_error(args, exc)
        _print_problems([f"workload {args.command}: {output_problem(exc)}"])
        return EXIT_BAD_INPUT
    except Exception as exc:  # noqa: BLE001 - the last line of defence: one paragraph, no traceback
        return _internal_error(args, exc)


def _internal_error(args: argparse.Namespace, exc: BaseException) -> int:
    print(
        f"workload {args.command}: internal error ({type(exc).__name__}: {exc}). Nothing was written. "
        "Please report this with the scenario that caused it.",
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())
