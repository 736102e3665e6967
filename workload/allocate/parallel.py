"""Parallel PDU solves: the pool of worker processes, and how many workers fit in memory."""

from __future__ import annotations

import itertools
import os
import pickle
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from workload.allocate import candidates
from workload.allocate.arrays import PduInput
from workload.allocate.pdu import PduResult, solve_pdu
from workload.allocate.solvers import load_highs_quietly
from workload.params import Parameters
from workload.scenario import Policy
from workload.workers import spawn_is_safe, spawn_pool


def worker_count(workers: int | None, n_tasks: int) -> int:
    """How many worker processes solve ``n_tasks`` PDUs: as asked (default: the machine's cores), at most one per
    PDU; one (solved in this process) when workers cannot be spawned safely from here (:func:`spawn_is_safe`: a
    script calling a run at its top level, without a main guard)."""
    if not spawn_is_safe():
        return 1
    return max(1, min(int(workers or os.cpu_count() or 1), n_tasks))


PAIR_BYTES = 240.0
"""Solver setting, not a model number: memory a PDU's solve takes per possible (case, practitioner) pair, in
bytes (the pair arrays, the model's columns and rows, the pricing and the local search). Measured: a
10,000 x 440 PDU peaked 0.98 GB above its process's start (233 bytes a pair). At this rate a national PDU
(about 2,500 x 110) needs about 70 MB."""

WORKER_BYTES = 200e6
"""Solver setting: a worker process's own memory (interpreter, numpy, pandas, HiGHS), in bytes."""

MEMORY_SHARE = 0.7
"""Solver setting: the share of the memory free when the LP starts that its solves may plan to use."""


def available_memory() -> float | None:
    """Bytes of memory free for new work (Linux's MemAvailable; else all physical memory; None if unknown)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return None


def pdu_memory(inp: PduInput, policy: Policy | None = None) -> float:
    """Bytes a PDU's solve is expected to take (:data:`PAIR_BYTES` per possible pair, plus a worker).

    With ``policy``, a PDU with more possible pairs than :data:`~workload.allocate.candidates.CANDIDATE_THRESHOLD`
    that would hold candidate pairs (:func:`~workload.allocate.candidates.uses_candidates`) is counted at the
    larger of the threshold (its eligible pairs may be fewer, and all held) and four times its candidates a case
    (those priced in from outside come on top), plus a byte per possible pair (the eligibility matrix)."""
    C, P = len(inp.cases), len(inp.practitioners)
    pairs = float(C * P)
    if policy is not None and candidates.uses_candidates(C * P, policy):
        held = max(candidates.CANDIDATE_THRESHOLD, 4 * C * (candidates.CANDIDATE_PAIRS + 1))
        return PAIR_BYTES * min(pairs, held) + pairs + WORKER_BYTES
    return PAIR_BYTES * pairs + WORKER_BYTES


def fit_workers_to_memory(
    all_inputs: list[dict[str, PduInput]],
    n_workers: int,
    memory: float | None,
    policies: list[Policy] | None = None,
) -> tuple[int, list[str]]:
    """Fewer workers when the largest PDUs, solved at once, would not fit in memory; warnings that say so.

    Workers take PDUs largest first, so the ``n`` largest are solved together at the start: ``n`` is cut
    until their expected memory (:func:`pdu_memory`) fits in :data:`MEMORY_SHARE` of ``memory``. A PDU too
    big to fit even alone is named, with its size: PDUs hold a few thousand cases, and one of tens of
    thousands usually means the pdu column holds regions. ``policies[j]`` is job j's policy (for
    :func:`pdu_memory`), when known.
    """
    if memory is None:
        return n_workers, []
    budget = MEMORY_SHARE * memory
    sizes = sorted(
        (
            (pdu_memory(inp, policies[j] if policies else None), pdu, inp)
            for j, inputs in enumerate(all_inputs)
            for pdu, inp in inputs.items()
        ),
        key=lambda item: (-item[0], item[1]),
    )
    warnings: list[str] = []
    fitted = n_workers
    while fitted > 1 and sum(size for size, _, _ in sizes[:fitted]) > budget:
        fitted -= 1
    if fitted < n_workers:
        largest = sorted({pdu for _, pdu, _ in sizes[:n_workers]})
        warnings.append(
            f"PDUs {', '.join(largest)} are large: solving {n_workers} of them at once would take about "
            f"{sum(size for size, _, _ in sizes[:n_workers]) / 2**30:.1f} GiB against {memory / 2**30:.1f} GiB free, "
            f"so PDUs were solved {fitted} at a time."
        )
    too_big: dict[str, tuple[float, PduInput]] = {}
    for size, pdu, inp in sizes:
        if size > budget and pdu not in too_big:
            too_big[pdu] = (size, inp)
    for pdu, (size, inp) in sorted(too_big.items()):
        C, P = len(inp.cases), len(inp.practitioners)
        warnings.append(
            f"PDU {pdu} has {C:,} cases and {P:,} practitioners ({C * P / 1e6:,.0f} million possible pairs): its solve "
            f"needs about {size / 2**30:.1f} GiB, more than the {memory / 2**30:.1f} GiB free, and may fail or swap. "
            "PDUs hold a few thousand cases each; if the pdu column holds regions, give each case its PDU."
        )
    return fitted, warnings


_POOLS: dict[int, ProcessPoolExecutor] = {}
if hasattr(os, "register_at_fork"):  # a forked child cannot use its parent's pool
    os.register_at_fork(after_in_child=_POOLS.clear)
_WORKER_SETTINGS: dict[int, list[tuple[Parameters, Policy]]] = {}
_SETTINGS_TOKENS = itertools.count()


def _init_worker() -> None:
    """Pool initializer: load the solver once, so a worker's first PDU is not charged for it."""
    load_highs_quietly()


def worker_pool(n_workers: int) -> ProcessPoolExecutor:
    """This process's pool of ``n_workers`` fresh ("spawn") worker processes, started on first use and kept.

    Spawned, with one BLAS thread each (:func:`workload.workers.spawn_pool`). Starting a worker
    costs about half a second (a new interpreter importing numpy, pandas and HiGHS); keeping the pool means
    that is paid once per process, not once per call (a sweep, a comparison or a benchmark calls the
    allocator many times), and :func:`start_workers` lets a caller start them while it does other work.
    """
    pool = _POOLS.get(n_workers)
    if pool is not None and getattr(pool, "_broken", False):  # a worker died while the pool sat idle
        _discard_pool(n_workers)
        pool = None
    if pool is None:
        for other in list(_POOLS):  # one pool at a time: idle workers of another size only hold memory
            _discard_pool(other)
        pool = spawn_pool(n_workers, initializer=_init_worker)
        _POOLS[n_workers] = pool
    return pool


def running_pool() -> ProcessPoolExecutor | None:
    """The pool this process has running (the one a run started for its LPs), or None when there is none."""
    for pool in _POOLS.values():
        if not getattr(pool, "_broken", False):
            return pool
    return None


def start_workers(n_workers: int) -> None:
    """Start the pool's workers now, without waiting for them (a run does so before scoring)."""
    if n_workers > 1:
        worker_pool(n_workers)


def _discard_pool(n_workers: int) -> None:
    pool = _POOLS.pop(n_workers, None)
    if pool is not None:
        pool.shutdown(wait=False, cancel_futures=True)


def _solve_task(token: int, settings: bytes, job: int, inp: PduInput) -> PduResult:
    """One PDU in a worker; the call's parameters and policies arrive pickled once per call (``token``)."""
    if token not in _WORKER_SETTINGS:
        _WORKER_SETTINGS.clear()
        _WORKER_SETTINGS[token] = pickle.loads(settings)
    params, policy = _WORKER_SETTINGS[token][job]
    return solve_pdu(inp, params, policy)


class _OwnWorkFailed(Exception):
    """The caller's own work (``meanwhile``) failed beside the solves: its error, kept apart from the pool's."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


def _solve_in_parallel(
    all_inputs: list[dict[str, PduInput]],
    settings: list[tuple[Parameters, Policy]],
    n_workers: int,
    meanwhile: Callable[[], None] | None = None,
) -> dict[tuple[int, str], PduResult]:
    """Solve every job's PDUs on the pool of ``n_workers`` processes (:func:`worker_pool`), largest first.

    Each PDU's solve is deterministic, so the order in which they finish does not matter; answers are
    keyed by (job, pdu). ``meanwhile``, if given, is called once every PDU is submitted, before any answer is
    waited for: this process's own work then runs beside the solves.
    """
    tasks = [(j, pdu) for j, inputs in enumerate(all_inputs) for pdu in inputs]

    def size(task: tuple[int, str]) -> tuple[int, int, str]:
        inp = all_inputs[task[0]][task[1]]
        return (-len(inp.cases) * max(len(inp.practitioners), 1), task[0], task[1])

    token, blob = next(_SETTINGS_TOKENS), pickle.dumps(settings)
    pool = worker_pool(n_workers)
    try:
        futures = {
            task: pool.submit(_solve_task, token, blob, task[0], all_inputs[task[0]][task[1]])
            for task in sorted(tasks, key=size)
        }
    except BaseException:
        _discard_pool(n_workers)
        raise
    if meanwhile is not None:
        try:
            meanwhile()
        except BaseException as exc:  # this process's own work failed: no answer is wanted any more
            _discard_pool(n_workers)
            if isinstance(exc, Exception):
                raise _OwnWorkFailed(exc) from exc
            raise
    try:
        return {task: future.result() for task, future in futures.items()}
    except BaseException:
        # a broken pool (a worker killed), or an interrupt: the next call starts a fresh one
        _discard_pool(n_workers)
        raise


def solve_pdus(
    all_inputs: list[dict[str, PduInput]],
    settings: list[tuple[Parameters, Policy]],
    workers: int | None,
    meanwhile: Callable[[], None] | None = None,
) -> tuple[dict[tuple[int, str], PduResult], list[str]]:
    """Solve every job's PDUs: on the pool when more than one worker fits, else one after another here.

    ``settings[j]`` is job j's (params, policy). ``workers`` defaults to the first job's ``policy.workers``,
    else the machine's cores; it is cut to the PDUs there are and to what fits in memory
    (:func:`fit_workers_to_memory`). Returns the answers keyed by (job, pdu) and the run's warnings (fewer
    workers for memory; parallel solves that failed, the PDUs then solved here). ``meanwhile``, if given, is
    called exactly once: while the workers solve, or (solving here) before the solves.
    """
    tasks = [(j, pdu) for j, inputs in enumerate(all_inputs) for pdu in inputs]
    n_workers = worker_count(workers or settings[0][1].workers, len(tasks))
    n_workers, run_warnings = fit_workers_to_memory(
        all_inputs, n_workers, available_memory(), [policy for _, policy in settings]
    )
    if n_workers == 1:  # solving here: idle workers a run started would only hold memory
        for size in list(_POOLS):
            _discard_pool(size)
    pending = [meanwhile] if meanwhile is not None else []

    def own_work() -> None:  # ``meanwhile``, run once whichever way the PDUs are solved
        while pending:
            pending.pop()()

    done: dict[tuple[int, str], PduResult] | None = None
    if n_workers > 1:
        try:
            done = _solve_in_parallel(all_inputs, settings, n_workers, own_work)
        except _OwnWorkFailed as failed:
            raise failed.error from None
        except (BrokenProcessPool, RuntimeError, OSError) as exc:
            run_warnings.append(
                f"parallel PDU solves failed ({type(exc).__name__}); PDUs were solved one after another. In a "
                'script, call allocate_lp under `if __name__ == "__main__":` so worker processes can start.'
            )
    if done is None:
        own_work()
        done = {(j, pdu): solve_pdu(all_inputs[j][pdu], *settings[j]) for j, pdu in tasks}
    return done, run_warnings
