"""Running a simulation: the settings resolved, the replications on a process pool or Dask, resumable.

Each replication is one task (every policy on its events, so common random numbers hold within it). A finished
replication's weekly rows are written at once, atomically, to a parts folder beside ``--out``
(``.<out name>.parts/rep-00007.csv``) with the fingerprint of the inputs; running the same command again
skips the replications already there, and the parts folder goes once the run folder is written.
"""

from __future__ import annotations

import concurrent.futures as cf
import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from workload import __version__, disclosure
from workload.load import Scenario, resolved_scenario
from workload.simulate.events import default_arrivals
from workload.simulate.measures import MEASURES
from workload.simulate.step import Settings, run_replication
from workload.sweep.executors import open_executor
from workload.sweep.folder import csv_text, write_atomic

FINGERPRINT_FILE = "fingerprint.txt"


@dataclass
class Simulation:
    """A finished simulation: every replication's weekly rows, tidy, and what produced them."""

    scenario: Scenario
    settings: Settings
    weekly: pd.DataFrame
    fingerprint: str
    seconds: float
    resumed: int = 0
    """Replications read back from an earlier, stopped run."""
    notes: list[str] = field(default_factory=list)


def resolve_settings(
    scenario: Scenario,
    weeks: int | None = None,
    replications: int | None = None,
    seed: int | None = None,
    policies: list[str] | None = None,
    lp_continuity: str | None = None,
    workers: int | None = None,
    lp_replan_weeks: int | None = None,
    scheduler: str | None = None,
) -> Settings:
    """The scenario's ``[simulate]`` table with the command line's options over it (None keeps the file's)."""
    table = scenario.spec.simulate
    expected = tuple(float(v) for v in table.expected_arrivals) if table.expected_arrivals else None
    per_week = table.arrivals_per_week if table.arrivals_per_week is not None else default_arrivals(scenario)
    return Settings(
        weeks=weeks or table.weeks,
        replications=replications or table.replications,
        seed=seed if seed is not None else (table.seed if table.seed is not None else scenario.spec.seed),
        policies=tuple(dict.fromkeys(policies or table.policies)),
        lp_continuity=lp_continuity or table.lp_continuity,
        arrivals_per_week=float(per_week),
        expected_arrivals=expected,
        workers=workers or table.workers,
        scheduler=scheduler,
        lp_replan_weeks=lp_replan_weeks or table.lp_replan_weeks,
    )


def fingerprint(scenario: Scenario, settings: Settings) -> str:
    """What a replication's rows depend on: the resolved scenario (tables and parameters by content), the
    settings but the number of replications and where they run, and the package version."""
    tables = [
        pd.util.hash_pandas_object(frame.astype(str), index=True).to_numpy().tobytes()
        for frame in (scenario.cases, scenario.practitioners, scenario.partners)
    ]
    resolved = json.dumps(resolved_scenario(scenario), sort_keys=True, default=str)
    kept = {k: v for k, v in settings.__dict__.items() if k not in {"replications", "workers", "scheduler", "policies"}}
    digest = hashlib.sha256()
    for part in (
        *tables,
        resolved.encode(),
        json.dumps(kept, sort_keys=True, default=str).encode(),
        __version__.encode(),
    ):
        digest.update(hashlib.sha256(part).digest())
    return digest.hexdigest()[:16]


def parts_folder(out: Path) -> Path:
    """Where finished replications wait for the run folder: ``.<out name>.parts`` beside ``out``."""
    return out.parent / f".{out.name}.parts"


def part_path(parts: Path, replication: int) -> Path:
    return parts / f"rep-{replication:05d}.csv"


def _policies_key(settings: Settings) -> str:
    return ",".join(settings.policies)


def prepare_parts(parts: Path, print_id: str) -> tuple[set[int], list[str]]:
    """The replications already finished for this fingerprint (and policies); parts of other inputs are
    removed, as they can never be used."""
    notes: list[str] = []
    done: set[int] = set()
    marker = parts / FINGERPRINT_FILE
    if parts.is_dir():
        found = marker.read_text(encoding="utf-8").strip() if marker.is_file() else ""
        if found != print_id:
            shutil.rmtree(parts)
            notes.append(f"{parts} held replications of other inputs; they were removed")
        else:
            for path in parts.glob("rep-*.csv"):
                try:
                    done.add(int(path.stem.split("-")[1]))
                except ValueError:
                    continue
    parts.mkdir(parents=True, exist_ok=True)
    write_atomic(marker, print_id + "\n")
    return done, notes


def _task(scenario: Scenario, settings: Settings, replication: int, parts: str) -> int:
    """A worker's task: one replication, its rows written to the parts folder (atomically)."""
    frame = run_replication(scenario, settings, replication)
    write_atomic(part_path(Path(parts), replication), csv_text(frame, index=False, float_format="%.10g"))
    return replication


def simulate(
    scenario: Scenario, settings: Settings, out: Path, progress: Callable[[int, int], None] | None = None
) -> Simulation:
    """Run every replication not already finished, on ``settings.workers`` processes (or Dask at
    ``settings.scheduler``), and read them all back, sorted (replication, policy, week)."""
    clock = time.perf_counter()
    print_id = f"{fingerprint(scenario, settings)}:{_policies_key(settings)}"
    parts = parts_folder(Path(out))
    done, notes = prepare_parts(parts, print_id)
    if disclosure.is_small(len(scenario.cases), scenario.spec.output.suppression_threshold):
        notes.insert(0, disclosure.whole_scenario_warning(scenario.spec.output.suppression_threshold))
    wanted = list(range(settings.replications))
    todo = [r for r in wanted if r not in done]
    resumed = len(wanted) - len(todo)
    if resumed:
        notes.append(f"resumed: {resumed} replication(s) read from {parts}")
    if todo:
        workers = min(settings.workers or os.cpu_count() or 1, len(todo))
        if workers == 1 and settings.scheduler is None:
            for r in todo:  # one worker: in this process, no pool to start
                _task(scenario, settings, r, str(parts))
                if progress:
                    progress(resumed + todo.index(r) + 1, len(wanted))
        else:
            with open_executor(workers, settings.scheduler) as (executor, executor_notes):
                notes += executor_notes
                futures = [executor.submit(_task, scenario, settings, r, str(parts)) for r in todo]
                for finished, future in enumerate(cf.as_completed(futures), start=1):
                    future.result()
                    if progress:
                        progress(resumed + finished, len(wanted))
    frames = [pd.read_csv(part_path(parts, r)) for r in wanted]
    weekly = pd.concat(frames, ignore_index=True)
    weekly = weekly[["replication", "policy", "week", *MEASURES]]
    order = {p: i for i, p in enumerate(settings.policies)}
    weekly = weekly.sort_values(
        ["replication", "policy", "week"], key=lambda c: c.map(order) if c.name == "policy" else c
    )
    weekly = weekly.reset_index(drop=True)
    return Simulation(
        scenario, settings, weekly, print_id.split(":")[0], round(time.perf_counter() - clock, 3), resumed, notes
    )


def remove_parts(out: Path) -> None:
    """Remove the parts folder once the run folder holds everything."""
    shutil.rmtree(parts_folder(Path(out)), ignore_errors=True)
