"""Writing files so that they survive a crash: synced data, atomic renames, synced folders.

Every file the autograder writes into a cohort goes through here.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def fsync_folder(folder: Path) -> None:
    """Make a folder's entries (new names, renames) durable."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def fsync_file(path: Path) -> None:
    """Make an existing file's contents durable."""
    with open(path, "rb") as stream:
        os.fsync(stream.fileno())


def write_synced(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Create or overwrite ``path`` with ``data`` and sync it (not atomic: for files in a staging folder)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(descriptor, "wb") as stream:
        stream.write(data)
        stream.flush()
        os.fsync(stream.fileno())
    os.chmod(path, mode)


def atomic_write(target: Path, data: bytes, mode: int = 0o644) -> None:
    """Replace ``target`` by ``data`` all at once: a synced temporary file renamed over it, then the folder synced.

    ``mode`` 0o600 for a file that holds a secret: it is never readable by others, not even briefly.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)  # created 0600
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    fsync_folder(target.parent)
