"""Background runs: a request records a queued run and returns; a worker executes it.

Workers are processes (``spawn``: no inherited threads, locks or open database handles),
each used for one run and then replaced, so a segmentation's memory goes back to the system.
The status lives in the catalog, not here: a restart loses nothing, and a run whose process
died is marked failed by ``service.list_runs`` (called at start-up). Tests may use a thread.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Literal

from segwise.config import Settings

log = logging.getLogger("segwise.api")

WorkerMode = Literal["process", "thread"]
Finished = Callable[[str, float], None]
"""Called with a run's final status and its seconds of work, when it ends."""


def execute_queued(run_id: str, settings: Settings) -> tuple[str, float]:
    """Execute one queued run (in a worker); its status and error go to the catalog.

    Returns the final status and the seconds it took; never raises, so nothing but plain
    values crosses the process boundary.
    """
    import warnings

    from segwise import service

    warnings.simplefilter("ignore")  # library chatter; the run records what matters
    started = time.perf_counter()
    try:
        service.execute_run(run_id, settings=settings)
        status = "done"
    except Exception:
        log.exception("run %s failed", run_id)
        status = "failed"
    return status, time.perf_counter() - started


class RunWorker:
    """A pool that executes queued runs, ``workers`` at a time."""

    def __init__(
        self,
        settings: Settings,
        *,
        mode: WorkerMode = "process",
        workers: int = 1,
        finished: Finished | None = None,
        started: Callable[[], None] | None = None,
    ) -> None:
        self.settings = settings
        self.mode = mode
        self.workers = workers
        self.finished = finished
        self.started = started
        self._lock = threading.Lock()
        self._executor: Executor | None = None

    def submit(self, run_id: str) -> Future[tuple[str, float]]:
        """Queue a recorded run; a pool broken by a dead worker is replaced first."""
        with self._lock:
            try:
                future = self._pool().submit(execute_queued, run_id, self.settings)
            except BrokenProcessPool:
                self._executor = None
                future = self._pool().submit(execute_queued, run_id, self.settings)
        if self.started is not None:
            self.started()
        future.add_done_callback(self._done)
        return future

    def shutdown(self) -> None:
        """Stop: queued runs are dropped and running ones stopped; both are reported failed
        at the next start (their process is gone)."""
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is None:
            return
        processes = list((getattr(executor, "_processes", None) or {}).values())
        executor.shutdown(wait=False, cancel_futures=True)
        # no public way to stop a running task (a segmentation can take minutes); reaped
        # here, so the next start sees their runs' processes gone, not as zombies
        for process in processes:
            process.terminate()
        for process in processes:
            process.join(timeout=10)

    def _pool(self) -> Executor:
        if self._executor is None:
            if self.mode == "thread":
                self._executor = ThreadPoolExecutor(self.workers, thread_name_prefix="segwise-run")
            else:
                self._executor = ProcessPoolExecutor(
                    self.workers,
                    mp_context=multiprocessing.get_context("spawn"),
                    max_tasks_per_child=1,
                )
        return self._executor

    def _done(self, future: Future[tuple[str, float]]) -> None:
        if future.cancelled():
            return
        error = future.exception()
        if error is not None:  # the worker process died (killed, out of memory)
            log.error("a run worker died: %s", error)
            status, seconds = "failed", 0.0
            self._mark_stale()
        else:
            status, seconds = future.result()
        if self.finished is not None:
            self.finished(status, seconds)

    def _mark_stale(self) -> None:
        from segwise import service

        try:
            service.list_runs(settings=self.settings)  # marks runs of dead processes failed
        except Exception:
            log.exception("could not mark interrupted runs as failed")
