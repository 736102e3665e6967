"""Where tasks run: a local process pool or a Dask cluster behind one ``concurrent.futures`` interface, and
the progress bar."""

from __future__ import annotations

import concurrent.futures as cf
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

from workload.sweep.problems import SweepError, SweepProblem
from workload.workers import restore_environ as _restore_environ
from workload.workers import spawn_pool


def _worker_malloc_trim() -> str | None:
    """The worker's MALLOC_TRIM_THRESHOLD_ (None when unset), for the Dask check."""
    return os.environ.get("MALLOC_TRIM_THRESHOLD_")


@contextmanager
def open_executor(workers: int | None = None, scheduler: str | None = None) -> Iterator[tuple[cf.Executor, list[str]]]:
    """A ``concurrent.futures`` executor and notes about it.

    ``scheduler`` None: a local process pool of ``workers`` spawned processes (default: the machine's cores),
    each with one BLAS / OpenMP thread (:data:`workload.workers.WORKER_THREAD_VARIABLES`).
    ``"local"``: a Dask LocalCluster of ``workers`` one-thread worker processes, started without Dask's
    ``MALLOC_TRIM_THRESHOLD_=65536`` (which slows these tasks; docs/sweep.md). Any other value: the address
    of a running Dask scheduler (``tcp://host:port``); its workers' environment is checked and a note given
    when they trim memory that eagerly.
    """
    notes: list[str] = []
    if scheduler is None:
        # fresh (spawned) workers with one BLAS / OpenMP thread each, as Dask's nanny starts its workers
        pool = spawn_pool(workers or os.cpu_count() or 1)
        try:
            yield pool, notes
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        return
    try:
        import dask
        from distributed import Client, LocalCluster
    except ImportError:
        raise SweepError(
            [
                SweepProblem(
                    "--scheduler",
                    "needs Dask distributed: pip install 'workload[dask]'",
                    code="sweep.option",
                    joiner=" ",
                )
            ]
        ) from None
    cluster = None
    if scheduler == "local":
        # Dask's nanny starts workers with MALLOC_TRIM_THRESHOLD_=65536: None removes it from the config, so
        # glibc keeps its own adaptive threshold. The nanny spawns workers with this process's environment,
        # and writes its pre-spawn variables into it (so an earlier LocalCluster in the same Python session
        # leaves MALLOC_TRIM_THRESHOLD_ behind, and Dask lets the environment win): take it out while the
        # workers start, then put the environment back exactly as it was.
        saved = dict(os.environ)
        os.environ.pop("MALLOC_TRIM_THRESHOLD_", None)
        try:
            with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}):
                cluster = LocalCluster(
                    n_workers=workers or os.cpu_count() or 1,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                    silence_logs=40,
                )
                client = Client(cluster)
        finally:
            _restore_environ(saved)
    else:
        try:
            client = Client(scheduler, timeout="20s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise SweepError(
                [
                    SweepProblem(
                        "--scheduler",
                        f"{scheduler}: cannot reach a Dask scheduler there ({exc})",
                        code="sweep.option",
                        joiner=" ",
                    )
                ]
            ) from None
    try:
        settings = client.run(_worker_malloc_trim)
        if not settings:
            notes.append(f"the Dask scheduler at {scheduler} has no workers yet; tasks wait until workers join")
        eager = sorted(a for a, v in settings.items() if v is not None and v.isdigit() and int(v) < 16 * 1024 * 1024)
        if eager:
            notes.append(
                f"{len(eager)} of {len(settings)} Dask workers run with MALLOC_TRIM_THRESHOLD_="
                f"{settings[eager[0]]} (the Dask nanny's default), which slows these tasks (docs/sweep.md); start "
                "them with DASK_DISTRIBUTED__NANNY__PRE_SPAWN_ENVIRON__MALLOC_TRIM_THRESHOLD_=None or "
                "MALLOC_TRIM_THRESHOLD_ unset in their dask config"
            )
        yield client.get_executor(), notes
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


class Progress:
    """A one-line progress bar on a terminal: variants and tasks done out of total, and the time left.

    Quiet (writes nothing) when the stream is not a terminal, so logs and pipes stay clean.
    """

    def __init__(
        self,
        total_tasks: int,
        total_variants: int,
        stream: TextIO | None = None,
        enabled: bool | None = None,
        already_tasks: int = 0,
        already_variants: int = 0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.stream = stream if stream is not None else sys.stderr
        isatty = getattr(self.stream, "isatty", lambda: False)
        self.enabled = bool(isatty()) if enabled is None else enabled
        self.total_tasks, self.total_variants = total_tasks, total_variants
        self.already = already_tasks
        self.tasks, self.variants = already_tasks, already_variants
        self.clock = clock
        self.start = clock()
        self.last_draw = -1.0

    def line(self, width: int = 24) -> str:
        """The bar's text, e.g. ``sweep 12/40 variants [######------]  300/1000 tasks  2m05s left``."""
        share = self.tasks / self.total_tasks if self.total_tasks else 1.0
        filled = round(share * width)
        done_now = self.tasks - self.already
        elapsed = self.clock() - self.start
        if done_now > 0 and self.tasks < self.total_tasks:
            left = elapsed / done_now * (self.total_tasks - self.tasks)
            eta = f"{int(left // 60)}m{int(left % 60):02d}s left"
        elif self.tasks >= self.total_tasks:
            eta = f"done in {int(elapsed // 60)}m{int(elapsed % 60):02d}s"
        else:
            eta = "estimating time left"
        return (
            f"sweep {self.variants}/{self.total_variants} variants [{'#' * filled}{'-' * (width - filled)}] "
            f"{self.tasks}/{self.total_tasks} tasks  {eta}"
        )

    def update(self, tasks: int, variants: int) -> None:
        """Record progress and redraw (at most ten times a second, and always at the end)."""
        self.tasks, self.variants = tasks, variants
        if not self.enabled:
            return
        now = self.clock()
        if now - self.last_draw < 0.1 and tasks < self.total_tasks:
            return
        self.last_draw = now
        self.stream.write("\r" + self.line() + "\x1b[K")
        self.stream.flush()

    def close(self) -> None:
        """End the bar's line."""
        if self.enabled:
            self.stream.write("\r" + self.line() + "\x1b[K\n")
            self.stream.flush()
