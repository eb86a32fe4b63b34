"""Write files all or nothing: a temp file beside the target, renamed into place at the end."""

from __future__ import annotations

import errno
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from segwise.errors import InputError


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temp path in ``path``'s folder; on success it replaces ``path``, else vanishes.

    The file is flushed to disk before the rename, and gets the usual mode (umask applied),
    so a crash or an error never leaves a half-written file under the real name.
    """
    path = Path(path)
    if not path.parent.is_dir():
        raise InputError(f"folder '{path.parent}' does not exist", hint="create it first")
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp{path.suffix}")
    try:
        yield tmp
        if not tmp.exists():  # the writer wrote nothing: an empty file, still atomic
            tmp.touch()
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except Exception as exc:
        if disk_full(exc):
            raise InputError(
                f"cannot write '{path.name}': the disk is full",
                file=path.parent,
                hint="free some space there, or write the file to another disk",
            ) from None
        raise
    finally:
        tmp.unlink(missing_ok=True)


def disk_full(exc: BaseException) -> bool:
    """A write failed for want of disk: Python's own (ENOSPC), or DuckDB's (an IOException
    saying so; matched by name, so that this module does not import DuckDB)."""
    if isinstance(exc, OSError):
        return exc.errno == errno.ENOSPC
    return type(exc).__name__ == "IOException" and "No space left on device" in str(exc)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
