"""Atomic file writes: a reader (the app after a crash, the session manager at login, an editor)
sees the old file or the new one, never half of one."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path


def _fsync_dir(directory: Path) -> None:
    # Make the rename itself durable (POSIX); Windows cannot open directories, and does not need to.
    if os.name != "posix":
        return
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_atomic(path: str | os.PathLike, data: bytes | str, *, mode: int | None = None) -> None:
    """Write to a temporary file in the same directory, fsync, set `mode`, rename over `path`."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=f".{p.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, p)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_dir(p.parent)


def write_new(path: str | os.PathLike, data: bytes | str, *, mode: int | None = None) -> None:
    """Like write_atomic, but never replaces a file: FileExistsError when `path` exists, even if it
    appears while we write (the complete temporary file is hard-linked into place, which fails
    rather than overwrites). Where hard links are not supported, an exclusive create instead."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    if p.exists():
        raise FileExistsError(str(p))
    fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=f".{p.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        try:
            os.link(tmp, p)
        except FileExistsError:
            raise
        except OSError:         # no hard links here (some network and FUSE file systems)
            with open(p, "xb") as f:
                f.write(payload)
                f.flush()
                os.fsync(f.fileno())
            if mode is not None:
                os.chmod(p, mode)
    finally:
        try:
            os.unlink(tmp)
        except OSError:
            pass
    _fsync_dir(p.parent)
