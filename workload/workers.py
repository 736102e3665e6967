"""Worker processes: fresh ("spawn") interpreters with one BLAS / OpenMP thread each.

Both the LP allocator's pool (PDUs in parallel) and a sweep's pool (tasks in parallel) start their
workers here. The workers are the parallelism: numpy's own threads in each of them would only compete
for the same cores (measured on a sweep of scenarios/region with 2 workers: 26 s with one thread each,
31 s with numpy's default threads; docs/sweep.md). Spawned rather than forked, so no solver or BLAS
threads of the parent are copied.
"""

from __future__ import annotations

import ast
import multiprocessing
import os
import sys
import threading
import time
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


PARENT_CHECK_SECONDS = 1.0
"""How often a worker checks that the process that started it is still there."""


def spawn_is_safe() -> bool:
    """Whether worker processes may be spawned from here without running the caller's script again.

    A spawned worker imports the ``__main__`` script afresh; a script that calls :func:`workload.run` at its top
    level, not under ``if __name__ == "__main__":``, would run again in every worker and fail there with a
    traceback. So when this process is itself a spawned worker, or the call comes from a top-level statement of
    a ``__main__`` script that is not such an ``if``, workers are not spawned and the work is done here
    (quietly: the answer is the same). Notebooks, ``python -c``, the ``workload`` command and guarded scripts
    are safe.
    """
    if multiprocessing.parent_process() is not None:
        return False
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if main is None or not path or not str(path).endswith(".py"):
        return True
    frame = sys._getframe(1)
    while frame is not None and not (frame.f_code.co_name == "<module>" and frame.f_globals is vars(main)):
        frame = frame.f_back  # type: ignore[assignment]
    if frame is None:
        return True  # not called from the script's top level (a thread, a callback): nothing re-runs it
    try:
        with open(path, encoding="utf-8") as source:
            tree = ast.parse(source.read())
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
        return False
    line = frame.f_lineno
    for node in tree.body:
        if node.lineno <= line <= (node.end_lineno or node.lineno):
            return isinstance(node, ast.If) and "__name__" in ast.unparse(node.test)
    return False


def _watch_parent(parent: int) -> None:
    """End this worker when its parent is gone (killed, say): an idle worker would otherwise wait for work
    for ever, holding its memory. Checked every :data:`PARENT_CHECK_SECONDS` on a daemon thread."""

    def watch() -> None:
        while True:
            time.sleep(PARENT_CHECK_SECONDS)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="workload-parent-watch", daemon=True).start()


def _start_worker(parent: int, initializer: Callable[[], object] | None) -> None:
    _watch_parent(parent)
    if initializer is not None:
        initializer()


def spawn_pool(n_workers: int, initializer: Callable[[], object] | None = None) -> ProcessPoolExecutor:
    """A pool of ``n_workers`` spawned processes, all started now with one BLAS / OpenMP thread each.

    The variables are set only while the workers start (each submit with no idle worker starts one);
    this process's environment is put back. Each worker ends itself if this process goes away without
    shutting the pool down (:func:`_watch_parent`), so a killed run leaves no workers behind.
    """
    saved = dict(os.environ)
    try:
        for name in WORKER_THREAD_VARIABLES:
            os.environ.setdefault(name, "1")
        pool = ProcessPoolExecutor(
            max_workers=n_workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_worker,
            initargs=(os.getpid(), initializer),
        )
        for _ in range(n_workers):
            pool.submit(int)
    finally:
        restore_environ(saved)
    return pool
