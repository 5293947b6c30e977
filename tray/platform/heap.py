"""glibc heap tuning, measured by bench/soak.py (no-op elsewhere).

Every poll thread reads bodies of up to 20 MB (the size cap). glibc raises its mmap threshold to
the largest block freed (up to 32 MB), so after one answer near the cap every later large body is
carved from that thread's own arena, and arenas hardly ever shrink: RSS grew ~6 MB per oversize
answer (590 MB after 20,000 polls with random faults). A fixed threshold keeps big blocks in mmap,
returned to the OS on free; a periodic malloc_trim hands back freed small-block pages (without it
RSS crept ~0.4 MB per 1,000 polls).
"""
from __future__ import annotations

import ctypes
import ctypes.util
import sys
from typing import Any

M_MMAP_THRESHOLD = -3        # glibc mallopt() parameter
_libc: Any = None
_pinned: bool | None = None


def _glibc() -> Any:
    global _libc
    if _libc is None:
        _libc = False
        if sys.platform.startswith("linux"):
            try:
                lib = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
                if hasattr(lib, "mallopt") and hasattr(lib, "malloc_trim"):
                    _libc = lib
            except OSError:
                pass   # not glibc (musl...): nothing to tune
    return _libc


def pin_mmap_threshold(size: int = 128 * 1024) -> bool:
    """Keep blocks from `size` up in mmap (returned on free). Once per process."""
    global _pinned
    if _pinned is None:
        lib = _glibc()
        _pinned = bool(lib and lib.mallopt(M_MMAP_THRESHOLD, size))
    return _pinned


def trim() -> None:
    """Hand freed heap memory back to the OS."""
    lib = _glibc()
    if lib:
        lib.malloc_trim(0)
