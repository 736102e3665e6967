"""``workload simulate``: its options, the checks on them, and what it prints."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from workload.errors import InputError, Problem, render
from workload.scenario import SIMULATE_POLICIES
from workload.sweep.cli import positive_int


def add_simulate_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``workload simulate`` to the CLI's subparsers (it sets ``func`` to :func:`cmd_simulate`)."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "simulate",
        help="a PDU week by week for a year: arrivals, endings, staff changes, each allocation policy; resumable",
        description="Simulate one PDU week by week (docs/simulate.md): cases arrive and end, practitioners leave, "
        "are replaced and are absent, and each policy allocates the week's new cases on the same events. "
        "Writes weekly.csv (and weekly.parquet with pyarrow), bands.csv, summary.json and simulate.html. Options "
        "override the scenario's [simulate] table. Run the same command again to resume a stopped simulation.",
    )
    p.add_argument("scenario", help="scenario.toml or the folder holding it")
    p.add_argument("--weeks", type=positive_int, help="weeks to simulate (default [simulate] weeks, 52)")
    p.add_argument("--replications", type=positive_int, help="replications (default [simulate] replications, 20)")
    p.add_argument("--seed", type=int, help="seed of the events (default [simulate] seed, else the scenario's)")
    p.add_argument(
        "--policies",
        help=f"comma-separated policies to compare, of {', '.join(SIMULATE_POLICIES)} (default: all)",
    )
    p.add_argument("--continuity", choices=("keep", "rebalance"), help="the lp policy's continuity rule")
    p.add_argument(
        "--replan-weeks",
        type=positive_int,
        metavar="N",
        help="the lp policy re-plans every caseload's hours every N weeks (default [simulate] lp_replan_weeks, 4)",
    )
    p.add_argument("--pdu", help="the PDU to simulate (needed when the scenario has more than one)")
    p.add_argument("--out", help="folder to write (default simulations/<scenario folder>)")
    p.add_argument("--workers", type=positive_int, help="worker processes, at least 1 (default: the machine's cores)")
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run on Dask: a scheduler address (tcp://host:port) or 'local' for a LocalCluster on this machine",
    )
    p.add_argument("--force", action="store_true", help="replace an existing simulation folder")
    p.add_argument("--set", action="append", metavar="PATH=VALUE", help="override a setting, as for `workload run`")
    p.set_defaults(func=cmd_simulate)
    return p


def _policies(text: str | None) -> list[str] | None:
    if text is None:
        return None
    names = [t.strip() for t in text.split(",") if t.strip()]
    bad = [n for n in names if n not in SIMULATE_POLICIES]
    if bad or not names:
        raise InputError(
            [
                Problem(
                    "--policies",
                    f"{', '.join(repr(b) for b in bad) or 'nothing'} is not a policy; expected a comma-separated "
                    f"list of {', '.join(SIMULATE_POLICIES)}",
                    code="simulate.option",
                )
            ]
        )
    return names


def _one_pdu(scenario: Any, pdu: str | None) -> Any:
    """The scenario cut to the PDU simulated (``--pdu``, or its only one)."""
    pdus = [str(p) for p in scenario.pdus]
    if pdu is None and len(pdus) == 1:
        return scenario
    if pdu is None or pdu not in pdus:
        found = "" if pdu is None else f"{pdu!r} is not one of its PDUs; "
        raise InputError(
            [
                Problem(
                    "--pdu",
                    f"{found}the scenario has {len(pdus)} PDUs ({', '.join(pdus[:10])}{', ...' if len(pdus) > 10 else ''}); "
                    "name the one to simulate with --pdu",
                    code="simulate.option",
                )
            ]
        )
    from dataclasses import replace

    from workload.sweep.task import pdu_scenario, pdu_shares

    cut = pdu_scenario(scenario, pdu, pdu_shares(scenario))
    # a sweep's PDU suppresses nothing because the sweep suppresses when it publishes; a simulation publishes
    # this PDU's figures itself, so it keeps the scenario's small-numbers threshold, and its warnings
    output = cut.spec.output.model_copy(update={"suppression_threshold": scenario.spec.output.suppression_threshold})
    return replace(cut, spec=cut.spec.model_copy(update={"output": output}), warnings=list(scenario.warnings))


MAX_WEEKS = 260
"""The longest simulation the command runs (five years), as ``[simulate] weeks`` allows."""

MAX_REPLICATIONS = 1000
"""The most replications the command runs, as ``[simulate] replications`` allows."""


def _bound_problems(args: argparse.Namespace) -> list[str]:
    """Options past what the ``[simulate]`` table allows (the table itself is checked by its model)."""
    problems = []
    if args.weeks is not None and args.weeks > MAX_WEEKS:
        problems.append(
            f"--weeks {args.weeks:,} is more than {MAX_WEEKS} (five years); simulate at most {MAX_WEEKS} weeks"
        )
    if args.replications is not None and args.replications > MAX_REPLICATIONS:
        problems.append(
            f"--replications {args.replications:,} is more than {MAX_REPLICATIONS:,}; run at most {MAX_REPLICATIONS:,}"
        )
    return problems


def _drop_empty_parts(parts: Path) -> None:
    """Remove a parts folder that holds no finished replication (only its fingerprint), after a failure."""
    import shutil

    if parts.is_dir() and not any(parts.glob("rep-*.csv")):
        shutil.rmtree(parts, ignore_errors=True)


def cmd_simulate(args: argparse.Namespace) -> int:
    """``workload simulate``: 0 done; 2 bad scenario or options (nothing run); 130 interrupted (finished
    replications kept: the same command resumes)."""
    from workload.load import load_scenario
    from workload.output import check_output
    from workload.reform import Reform
    from workload.simulate.run import parts_folder, resolve_settings, simulate
    from workload.simulate.write import write_simulation

    try:
        policies = _policies(args.policies)
        reform = Reform.from_options(args.set or [])
        scenario = _one_pdu(load_scenario(args.scenario, reform=reform or None), args.pdu)
    except InputError as exc:
        print(render(exc.problems), file=sys.stderr)
        return 2
    if args.out is not None and not args.out.strip():
        print(render(["--out is blank; give the folder to write, or leave --out out"]), file=sys.stderr)
        return 2
    out = Path(args.out) if args.out else Path("simulations") / scenario.folder.resolve().name
    check_output(out, force=args.force, kind="simulate", protected=[scenario.folder])
    settings = resolve_settings(
        scenario,
        weeks=args.weeks,
        replications=args.replications,
        seed=args.seed,
        policies=policies,
        lp_continuity=args.continuity,
        lp_replan_weeks=args.replan_weeks,
        workers=args.workers,
        scheduler=args.scheduler,
    )
    bounds = _bound_problems(args)
    if settings.seed < 0:
        bounds.append(f"--seed must be 0 or more (found {settings.seed})")
    if bounds:
        print(render(bounds), file=sys.stderr)
        return 2
    show = sys.stderr.isatty()

    def progress(done: int, total: int) -> None:
        if show:
            print(f"\r  replications {done}/{total}", end="", file=sys.stderr, flush=True)

    try:
        sim = simulate(scenario, settings, out, progress=progress)
    except KeyboardInterrupt:
        print(
            f"\ninterrupted; finished replications are kept in {parts_folder(out)}: run the same command again to resume",
            file=sys.stderr,
        )
        return 130
    except BaseException:
        _drop_empty_parts(parts_folder(out))  # nothing finished to resume: leave nothing behind
        raise
    if show:
        print(file=sys.stderr)
    write_simulation(sim, out, force=args.force)
    for note in sim.notes:
        print(f"note: {note}", file=sys.stderr)
    print(
        f"Simulation written to {out}/ ({settings.weeks} weeks x {settings.replications} replications x "
        f"{len(settings.policies)} policies, {sim.seconds:.1f} s). Open {out / 'simulate.html'}"
    )
    return 0
