"""``workload sweep``: its options and what it prints."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from workload.errors import render
from workload.load import ScenarioError
from workload.sweep.problems import SweepError, SweepTaskError
from workload.sweep.run import run_sweep


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1 (argparse turns the error into exit 2).

    Defined here and used by ``workload.cli`` too, so that this module does not import ``workload.cli``
    (the package's modules import each other one way only)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1 (found {text!r})") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1 (found {value})")
    return value


def add_sweep_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``workload sweep`` to the CLI's subparsers (it sets ``func`` to :func:`cmd_sweep`)."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "sweep",
        help="run many variants of a scenario (a grid and/or Monte Carlo draws); resumable",
        description="Run every (variant, PDU) of a sweep as an independent task on a process pool or a Dask "
        "cluster, then write results.csv (variant, pdu, metric, value), ranking.csv and sweep.html. "
        "Run the same command again to resume a sweep that was stopped.",
    )
    p.add_argument("scenario", help="scenario.toml or the folder holding it")
    p.add_argument(
        "--grid", required=True, metavar="SWEEP.toml", help="sweep file: [grid], [draws], [objective] (docs/sweep.md)"
    )
    p.add_argument(
        "--draws", type=positive_int, metavar="N", help="Monte Carlo draws per grid point, from the file's [draws]"
    )
    p.add_argument("--out", help="sweep folder (default sweeps/<scenario folder>-<sweep file name>)")
    p.add_argument("--workers", type=positive_int, help="worker processes, at least 1 (default: the machine's cores)")
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run on Dask: a scheduler address (tcp://host:port) or 'local' for a LocalCluster on this machine",
    )
    p.add_argument(
        "--objective", metavar="METRIC", help="rank grid points by this metric (default: the file's [objective])"
    )
    p.add_argument("--direction", choices=("max", "min"), help="whether the objective is better high or low")
    p.add_argument("--force", action="store_true", help="delete an --out folder holding another sweep and start again")
    p.add_argument("--no-progress", action="store_true", help="no progress bar even on a terminal")
    p.set_defaults(func=cmd_sweep)
    return p


def cmd_sweep(args: argparse.Namespace) -> int:
    """``workload sweep``: 0 done; 2 bad scenario, sweep file or options (nothing run); 1 some tasks failed;
    130 interrupted (finished tasks kept: the same command resumes)."""
    stream = sys.stderr
    scenario_path = Path(args.scenario)
    folder = scenario_path if scenario_path.is_dir() else scenario_path.parent
    out = Path(args.out) if args.out else Path("sweeps") / f"{folder.resolve().name}-{Path(args.grid).stem}"
    try:
        result = run_sweep(
            args.scenario,
            args.grid,
            out,
            draws=args.draws,
            workers=args.workers,
            scheduler=args.scheduler,
            force=args.force,
            objective=(args.objective, args.direction),
            progress=False if args.no_progress else None,
            on_note=lambda note: print(f"note: {note}", file=stream),
        )
    except ScenarioError as exc:
        print(render([str(problem) for problem in exc.problems]), file=stream)
        return 2
    except SweepError as exc:
        print(render(exc.problems), file=stream)
        return 2
    except SweepTaskError as exc:
        print(
            f"workload sweep: {exc} Finished tasks are kept in {out}/tasks; run the same command again to retry the rest.",
            file=stream,
        )
        return 1
    except KeyboardInterrupt:
        print(f"interrupted; finished tasks are kept in {out}/tasks: run the same command again to resume", file=stream)
        return 130
    from workload.sweep.results import ranking_text

    top = result.ranking.iloc[-1]
    what = "resumed: " if result.skipped else ""
    print(
        f"Sweep written to {out}/ ({what}{result.ran} task(s) run, {result.skipped} already done; "
        f"{len(result.plan.variants)} variants x {len(result.plan.pdus)} PDUs). Best by {top['objective']}, "
        f"ranked within each value of the assumptions: {ranking_text(result.ranking)}. Open {out / 'sweep.html'}"
    )
    return 0
