"""Process settings for a long-running server.

glibc gives each thread that allocates its own malloc arena, up to 8 per CPU. The web server runs
synchronous routes on a pool of 40 threads, so a busy server ends up with many arenas that each keep
the memory a large answer once needed: resident memory climbs for hours although the Python heap
stays the same size (``bench/soak.py`` measured 8–17 MB a minute with the default, about 3 with two
arenas). Two arenas bound it at a cost that does not show in the latency figures.

Python's cyclic garbage collector walks every tracked object on a full collection — at startup that
is already several hundred thousand (modules, ORM mappers, templates, catalogs), so each full
collection paused a busy server for tens of milliseconds. ``freeze_startup_objects`` moves what is
alive once the application has started out of the collector's view (``gc.freeze``); a full collection
then walks only what requests made. Open311 POST at 16 in flight: p99 161 → 80 ms (bench/open311_post.py).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import os

M_ARENA_MAX = -8  # mallopt parameter (malloc.h)


def limit_malloc_arenas(arenas: int = 2) -> bool:
    """Limit glibc's malloc arenas in this process and in the processes it starts (``MALLOC_ARENA_MAX``).

    An operator's own ``MALLOC_ARENA_MAX`` wins. Returns True when the limit was applied here (glibc
    only; elsewhere nothing happens)."""
    wanted = int(os.environ.setdefault("MALLOC_ARENA_MAX", str(arenas)))
    name = ctypes.util.find_library("c")
    if not name:
        return False
    try:
        libc = ctypes.CDLL(name)
        return bool(libc.mallopt(M_ARENA_MAX, wanted))
    except (OSError, AttributeError):  # not glibc (musl, macOS)
        return False


def freeze_startup_objects() -> int:
    """Collect once, then keep the objects alive now out of later collections; how many were frozen."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
