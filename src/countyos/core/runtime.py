"""Process settings for a long-running server.

glibc gives each thread that allocates its own malloc arena, up to 8 per CPU. The web server runs
synchronous routes on a pool of 40 threads, so a busy server ends up with many arenas that each keep
the memory a large answer once needed: resident memory climbs for hours although the Python heap
stays the same size (``bench/soak.py`` measured 8–17 MB a minute with the default, about 3 with two
arenas). Two arenas bound it at a cost that does not show in the latency figures.
"""

from __future__ import annotations

import ctypes
import ctypes.util
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
