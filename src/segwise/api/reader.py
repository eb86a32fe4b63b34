"""Uploads are read in a worker process with a memory cap, never in the web server's own.

A file can need far more memory than its size (a compressed workbook, a wide table). The
reader process caps its writable memory at ``SEGWISE_UPLOAD_MEMORY_MB`` and gives DuckDB half
of it, so DuckDB spills to disk rather than fail; anything else that runs out becomes one
refusal naming the setting, and the server, its event loop and its other requests go on.
The process is started once (``spawn``: no inherited threads or handles) and replaced when
it dies or after ``TASKS`` files, so a big read's memory goes back to the system.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import resource
import threading
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool

from segwise.config import Settings
from segwise.errors import ConfigError, InputError

if TYPE_CHECKING:
    from segwise.service import Actor, DatasetInfo
    from segwise.service.datasets import KindChoice

log = logging.getLogger("segwise.api")

TASKS = 50
"""Files one reader process reads before it is replaced."""


class UploadMemoryError(InputError):
    """The reader ran out of memory under its cap (its process is replaced afterwards: what
    a failed read leaves allocated would shrink the next file's room)."""


def _too_big(settings: Settings) -> UploadMemoryError:
    return UploadMemoryError(
        f"reading this file needs more memory than the {settings.upload_memory_mb} MB an upload"
        " may use",
        hint="send a smaller file, or raise SEGWISE_UPLOAD_MEMORY_MB",
    )


def _cap_memory(megabytes: int) -> None:
    """Worker start-up: cap this process's writable memory (``RLIMIT_DATA``: heap and private
    mappings; unlike the address space it does not count libraries or untouched reserves),
    and give every DuckDB connection of the process half of it (unless a cap is set)."""
    limit = megabytes << 20
    resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))
    os.environ.setdefault("SEGWISE_MEMORY_LIMIT", _half(megabytes))


def _half(megabytes: int) -> str:
    """DuckDB's share of an upload's memory: half, and at least 64 MB."""
    return f"{max(megabytes // 2, 64)}MB"


def read_upload(
    path: Path, name: str | None, kind: KindChoice, settings: Settings, actor: Actor
) -> DatasetInfo:
    """Ingest one upload in the reader process (what it returns is pickled back).

    Only segwise's own errors cross back (their one-line message intact); running out of
    memory anywhere, DuckDB included, becomes the refusal that names the setting.
    """
    half = _half(settings.upload_memory_mb)
    capped = settings.model_copy(update={"memory_limit": settings.memory_limit or half})
    try:
        from segwise import service

        with service.acting_as(actor):  # the request's caller: checked and audited as such
            return service.ingest(path, name=name, kind=kind, settings=capped)
    except MemoryError:
        raise _too_big(settings) from None
    except ImportError as error:  # the libraries alone do not fit under the cap
        raise ConfigError(
            f"the upload reader cannot start within SEGWISE_UPLOAD_MEMORY_MB"
            f" ({settings.upload_memory_mb} MB): {error}; raise it"
        ) from None
    except InputError:
        raise
    except Exception as error:  # DuckDB's "Out of Memory" or a setting it cannot use
        if "memory" in f"{type(error).__name__} {error}".lower():
            raise _too_big(settings) from None
        raise


class UploadReader:
    """Reads uploads: in a memory-capped worker process, or a thread of this one (tests)."""

    def __init__(self, settings: Settings, *, isolated: bool = True) -> None:
        self.settings = settings
        self.isolated = isolated
        self._lock = threading.Lock()
        self._executor: Executor | None = None

    async def ingest(self, path: Path, *, name: str | None, kind: KindChoice) -> DatasetInfo:
        """Store the uploaded file as a dataset (see ``service.ingest``)."""
        from segwise import service

        if not self.isolated:
            return await run_in_threadpool(
                service.ingest, path, name=name, kind=kind, settings=self.settings
            )
        loop = asyncio.get_running_loop()
        try:
            actor = service.current_actor()
            return await loop.run_in_executor(
                self._pool(), read_upload, path, name, kind, self.settings, actor
            )
        except UploadMemoryError:
            self._replace()
            raise
        except BrokenProcessPool:  # killed, e.g. by the system's out-of-memory killer
            log.error("the upload reader process died; starting a new one")
            self._replace()
            raise _too_big(self.settings) from None

    def shutdown(self) -> None:
        """Stop the reader process (an upload being read is refused by the server's exit)."""
        self._replace()

    def _pool(self) -> Executor:
        with self._lock:
            if self._executor is None:
                self._executor = ProcessPoolExecutor(
                    1,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_cap_memory,
                    initargs=(self.settings.upload_memory_mb,),
                    max_tasks_per_child=TASKS,
                )
            return self._executor

    def _replace(self) -> None:
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)
