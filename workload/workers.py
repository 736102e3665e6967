"""Worker processes: fresh ("spawn") interpreters with one BLAS / OpenMP thread each.

Both the LP allocator's pool (PDUs in parallel) and a sweep's pool (tasks in parallel) start their
workers here. The workers are the parallelism: numpy's own threads in each of them would only compete
for the same cores (measured on a sweep of scenarios/region with 2 workers: 26 s with one thread each,
31 s with numpy's default threads; docs/sweep.md). Spawned rather than forked, so no solver or BLAS
threads of the parent are copied.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Mapping
from concurrent.futures import ProcessPoolExecutor

WORKER_THREAD_VARIABLES: tuple[str, ...] = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
"""Set to 1 for pool workers (as Dask's nanny does for its workers): one thread each. A value the user set
is kept."""


def restore_environ(saved: Mapping[str, str]) -> None:
    """Put this process's environment back as it was (the Dask nanny writes its pre-spawn variables into it)."""
    for key in [k for k in os.environ if k not in saved]:
        del os.environ[key]
    for key, value in saved.items():
        if os.environ.get(key) != value:
            os.environ[key] = value


def spawn_pool(n_workers: int, initializer: Callable[[], object] | None = None) -> ProcessPoolExecutor:
    """A pool of ``n_workers`` spawned processes, all started now with one BLAS / OpenMP thread each.

    The variables are set only while the workers start (each submit with no idle worker starts one);
    this process's environment is put back.
    """
    saved = dict(os.environ)
    try:
        for name in WORKER_THREAD_VARIABLES:
            os.environ.setdefault(name, "1")
        pool = ProcessPoolExecutor(max_workers=n_workers, mp_context=multiprocessing.get_context("spawn"), initializer=initializer)
        for _ in range(n_workers):
            pool.submit(int)
    finally:
        restore_environ(saved)
    return pool
