"""Running a sweep: plan, folder, tasks on an executor, then the published tables and the report."""

from __future__ import annotations

import concurrent.futures as cf
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import pandas as pd

from workload.load import load_scenario
from workload.sweep.executors import Progress, open_executor
from workload.sweep.folder import csv_text, prepare_folder, write_atomic
from workload.sweep.plan import SweepPlan, Task, plan_sweep
from workload.sweep.problems import SweepError, SweepProblem, SweepTaskError
from workload.sweep.results import rank_policies, tidy_results
from workload.sweep.spec import objective_problems, read_sweep_file
from workload.sweep.task import finished_tasks, read_task_files, run_task, write_task_file


@dataclass
class SweepResult:
    """What a sweep wrote and did: the folder, the published table, the ranking and what ran this time."""

    out: Path
    plan: SweepPlan
    results: pd.DataFrame
    ranking: pd.DataFrame
    ran: int
    skipped: int
    seconds: float
    notes: list[str] = field(default_factory=list)


def _submit_all(executor: cf.Executor, tasks: Sequence[Task]) -> dict[cf.Future[list[tuple[str, float]]], Task]:
    return {executor.submit(run_task, task): task for task in tasks}


def run_sweep(
    scenario: str | Path,
    sweep_file: str | Path,
    out: str | Path,
    *,
    draws: int | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    force: bool = False,
    objective: tuple[str | None, str | None] = (None, None),
    progress_stream: TextIO | None = None,
    progress: bool | None = None,
    on_task_done: Callable[[Task], None] | None = None,
    on_note: Callable[[str], None] | None = None,
) -> SweepResult:
    """Run (or resume) a sweep and write its folder: tasks/, variants.csv, results.csv, ranking.csv, sweep.html.

    Parameters
    ----------
    scenario, sweep_file
        The scenario (scenario.toml or its folder) and the sweep file (TOML, docs/sweep.md).
    out
        The sweep folder. If it holds this same sweep, finished tasks are skipped; if it holds another, it is
        refused unless ``force`` (which deletes it and starts again).
    draws
        Monte Carlo draws per grid point (needs a ``[draws]`` table).
    workers, scheduler
        Executor: ``scheduler`` None for a local process pool of ``workers``, ``"local"`` for a Dask
        LocalCluster, else a Dask scheduler address.
    objective
        (metric, direction) overriding the sweep file's ``[objective]`` for the ranking; a metric other than
        the file's needs its direction.
    progress_stream, progress
        Where the progress bar goes (default stderr) and whether to show it (default: when it is a terminal).
    on_task_done
        Called in this process after each task's file is written (tests use it to stop a sweep half way).
    on_note
        Called with each note (about the plan or the executor) as soon as it is known, before tasks run.

    Raises
    ------
    ScenarioError, SweepError
        Bad scenario, sweep file, options or ``out`` folder (nothing is run).
    SweepTaskError
        Some tasks failed; the finished ones are kept for the next attempt.
    """
    started = time.perf_counter()
    loaded = load_scenario(scenario)
    spec = read_sweep_file(sweep_file, loaded)
    metric = objective[0] or spec.objective[0]
    direction = objective[1] or (spec.objective[1] if metric == spec.objective[0] else None)
    if direction is None:
        raise SweepError(
            [
                SweepProblem(
                    "--objective",
                    f"{metric} differs from the sweep file's objective ({spec.objective[0]}); "
                    "say whether higher or lower is better with --direction max or --direction min",
                    code="sweep.option",
                    joiner=" ",
                )
            ]
        )
    if problems := objective_problems("--objective", metric, direction):
        raise SweepError(problems)
    if workers is not None and workers < 1:
        raise SweepError(
            [SweepProblem("--workers", f"must be 1 or more (found {workers})", code="sweep.option", joiner=" ")]
        )
    plan = plan_sweep(loaded, spec, draws)
    out = Path(out)
    prepare_folder(out, plan, force=force)

    tasks = plan.tasks
    _, todo, redo = finished_tasks(out, tasks)
    per_variant = {v.id: len(plan.pdus) for v in plan.variants}
    for t in tasks:
        per_variant[t.variant] -= 1
    for t in todo:
        per_variant[t.variant] += 1
    bar = Progress(
        len(tasks),
        len(plan.variants),
        stream=progress_stream,
        enabled=progress,
        already_tasks=len(tasks) - len(todo),
        already_variants=sum(1 for n in per_variant.values() if n == 0),
    )
    notes = list(plan.notes)
    if redo:
        notes.append(
            f"{len(redo)} task file(s) in {out / 'tasks'} were not whole (empty, cut short, changed since "
            "they were written, or not a regular file) and are run again"
        )
    for note in notes:
        if on_note is not None:
            on_note(note)
    failures: list[tuple[str, str, str]] = []
    if todo:
        bar.update(bar.tasks, bar.variants)
        with open_executor(workers=min(workers or os.cpu_count() or 1, len(todo)), scheduler=scheduler) as (
            executor,
            executor_notes,
        ):
            notes += executor_notes
            for note in executor_notes:
                if on_note is not None:
                    on_note(note)
            futures = _submit_all(executor, todo)
            try:
                for future in cf.as_completed(futures):
                    task = futures[future]
                    try:
                        rows = future.result()
                    except Exception as exc:  # noqa: BLE001  (one failed task does not stop the others)
                        failures.append((task.variant, task.pdu, f"{type(exc).__name__}: {exc}"))
                        continue
                    write_task_file(out, task, rows)
                    per_variant[task.variant] -= 1
                    bar.update(bar.tasks + 1, bar.variants + (per_variant[task.variant] == 0))
                    if on_task_done is not None:
                        on_task_done(task)
            except BaseException:
                for future in futures:
                    future.cancel()
                raise
            finally:
                bar.close()
    if failures:
        raise SweepTaskError(sorted(failures))

    raw = read_task_files(out, tasks)
    results = tidy_results(raw, plan.scenario.spec.output.suppression_threshold)
    variants = plan.variants_table()
    ranking = rank_policies(results, variants, list(plan.spec.grid), metric, direction)
    write_atomic(out / "ranking.csv", csv_text(ranking, index=False))
    from workload.sweep.report import sweep_report_html

    html = sweep_report_html(
        plan, results, variants, ranking, metric, direction, plan.notes
    )  # not the executor's: same bytes anywhere
    write_atomic(out / "sweep.html", html)
    write_atomic(out / "results.csv", csv_text(results, index=False))
    seconds = time.perf_counter() - started
    return SweepResult(
        out=out,
        plan=plan,
        results=results,
        ranking=ranking,
        ran=len(todo),
        skipped=len(tasks) - len(todo),
        seconds=seconds,
        notes=notes,
    )
