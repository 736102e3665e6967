"""Sweeps: many variants of one scenario, each PDU of each variant run as an independent task.

A *sweep file* (TOML, docs/sweep.md) names a grid of policy and parameter values and, optionally, parameters
drawn from distributions. The *variants* are the grid's Cartesian product (first key varying slowest), each
repeated for ``--draws N`` Monte Carlo draws. A *task* is one (variant, PDU): the PDU's cases, practitioners
and the partners serving it, under the variant's settings, run through :func:`workload.pipeline.run_scenario`
on one worker. Tasks go through a ``concurrent.futures`` executor: a local process pool by default, or Dask
distributed's executor (``--scheduler tcp://host:port``, or ``--scheduler local`` for a LocalCluster) with
the same submit / as_completed code.

Results do not depend on scheduling: a task is a pure function of (scenario files, variant settings, PDU);
draws come from ``numpy.random.default_rng([base seed, crc32(key)])``, never from a worker's state; the
parent process writes every finished task to ``<out>/tasks/<variant>__<pdu>.csv`` (temp file then
``os.replace``) and combines them, sorted, into ``results.csv``. A sweep killed half way restarts where it
stopped: finished task files are kept and skipped. ``sweep.json`` holds a fingerprint of the scenario files
and the sweep plan, so a folder holding another sweep is refused rather than mixed.

PDUs are solved apart in ``workload run`` too, so the per-PDU tasks reproduce the whole run: the two things
shared between PDUs are apportioned exactly as the allocator does (:func:`workload.allocate.model.pdu_inputs`):
a partner serving several PDUs brings to each the share of its contract hours in proportion to the hours of
need it could deliver there, and a budget cap is split in proportion to needs-scored required hours. Two
policies are not separable this way and are documented as per-PDU in a sweep: budget-neutral scoring is
neutral within each PDU, and the WMT-scored LP cell gets the needs-scored budget share.

The package is split by concept, each module importing only the ones listed before it: ``problems`` (the
errors), ``metrics``, ``spec`` (the sweep file), ``plan`` (variants, tasks, fingerprints), ``folder``,
``task`` (one task and its file), ``results`` (tidy results, the disclosure rules, the ranking),
``executors`` (process pool or Dask, the progress bar), ``report`` (sweep.html), ``run`` (:func:`run_sweep`)
and ``cli``. Every name is imported here too.
"""

from __future__ import annotations

from workload.sweep.cli import add_sweep_parser, cmd_sweep
from workload.sweep.executors import Progress, open_executor
from workload.sweep.executors import _worker_malloc_trim as _worker_malloc_trim
from workload.sweep.folder import (
    SWEEP_FILES,
    csv_text,
    prepare_folder,
    sweep_folder_is_ours,
    sweep_manifest,
    write_atomic,
)
from workload.sweep.metrics import (
    ALL_PDUS,
    CELL_FIGURES,
    CONTRIBUTOR_METRICS,
    GROUP_DIMENSIONS,
    GROUPS,
    HEADLINE_METRICS,
    METRICS,
    SCALAR_METRICS,
    group_metric,
)
from workload.sweep.plan import (
    MAX_VARIANTS,
    SweepPlan,
    Task,
    Variant,
    apply_variant,
    draw_values,
    grid_points,
    plan_sweep,
    scenario_fingerprint,
)
from workload.sweep.problems import (
    SweepError,
    SweepFolderError,
    SweepProblem,
    SweepTaskError,
)
from workload.sweep.results import (
    rank_grid_points,
    rank_policies,
    small_cell_rule,
    tidy_results,
)
from workload.sweep.run import (
    SweepResult,
    run_sweep,
)
from workload.sweep.spec import (
    DEFAULT_OBJECTIVE,
    DISTRIBUTIONS,
    POLICY_FIELDS_REFUSED,
    SWEEP_KEYS,
    Draw,
    SweepSpec,
    objective_problems,
    read_sweep_file,
    split_key,
)
from workload.sweep.task import (
    MAX_TASK_FILE_BYTES,
    SHARE_POLICY_FIELDS,
    TASK_HEADER,
    TASK_METRICS,
    finished_tasks,
    pdu_scenario,
    pdu_shares,
    read_task_file,
    read_task_files,
    result_metrics,
    run_task,
    task_file_text,
    task_metrics_problem,
    write_task_file,
)
from workload.workers import restore_environ

# private names of the module before it was split, which tests and benchmarks import from here
_csv_text = csv_text
_write_atomic = write_atomic
_restore_environ = restore_environ

__all__ = [
    "ALL_PDUS",
    "CELL_FIGURES",
    "CONTRIBUTOR_METRICS",
    "DEFAULT_OBJECTIVE",
    "DISTRIBUTIONS",
    "GROUPS",
    "GROUP_DIMENSIONS",
    "HEADLINE_METRICS",
    "MAX_TASK_FILE_BYTES",
    "MAX_VARIANTS",
    "METRICS",
    "POLICY_FIELDS_REFUSED",
    "SCALAR_METRICS",
    "SHARE_POLICY_FIELDS",
    "SWEEP_FILES",
    "SWEEP_KEYS",
    "TASK_HEADER",
    "TASK_METRICS",
    "Draw",
    "Progress",
    "SweepError",
    "SweepFolderError",
    "SweepPlan",
    "SweepProblem",
    "SweepResult",
    "SweepSpec",
    "SweepTaskError",
    "Task",
    "Variant",
    "add_sweep_parser",
    "apply_variant",
    "cmd_sweep",
    "csv_text",
    "draw_values",
    "finished_tasks",
    "grid_points",
    "group_metric",
    "objective_problems",
    "open_executor",
    "pdu_scenario",
    "pdu_shares",
    "plan_sweep",
    "prepare_folder",
    "rank_grid_points",
    "rank_policies",
    "read_sweep_file",
    "read_task_file",
    "read_task_files",
    "result_metrics",
    "run_sweep",
    "run_task",
    "scenario_fingerprint",
    "small_cell_rule",
    "split_key",
    "sweep_folder_is_ours",
    "sweep_manifest",
    "task_file_text",
    "task_metrics_problem",
    "tidy_results",
    "write_atomic",
    "write_task_file",
]
