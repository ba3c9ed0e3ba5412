import os
import platform

from countyos.core import runtime


def test_malloc_arenas_are_limited_here_and_for_child_processes(monkeypatch):
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    applied = runtime.limit_malloc_arenas()
    assert os.environ["MALLOC_ARENA_MAX"] == "2"  # inherited by worker processes
    if platform.libc_ver()[0] == "glibc":
        assert applied


def test_an_operators_own_setting_wins(monkeypatch):
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    runtime.limit_malloc_arenas()
    assert os.environ["MALLOC_ARENA_MAX"] == "4"


def test_startup_objects_are_frozen_out_of_later_collections():
    import gc

    try:
        frozen = runtime.freeze_startup_objects()
        assert frozen > 1000 and gc.get_freeze_count() == frozen
        assert gc.collect() >= 0  # collections go on for everything made later
    finally:
        gc.unfreeze()
