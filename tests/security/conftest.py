"""Fixtures of the security suites: a small real county (see ``world.py``), built once per run and
copied back into the emptied database for each test (building it takes seconds, copying it does not)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from sqlalchemy import text

from countyos.core.db import Base, Database
from tests.conftest import IS_POSTGRES, empty_all_tables
from tests.security.world import World, build

_SAVED: dict[str, Any] = {}


def _dump(db: Database) -> list[tuple[Any, list[dict[str, Any]]]]:
    with db.engine.connect() as conn:
        # In key order, so that rows referring to earlier rows of the same table (parents) load after them.
        return [
            (t, [dict(r._mapping) for r in conn.execute(t.select().order_by(*t.primary_key.columns))])
            for t in Base.metadata.sorted_tables
        ]


def _load(db: Database, tables: list[tuple[Any, list[dict[str, Any]]]]) -> None:
    empty_all_tables(db)
    with db.engine.begin() as conn:
        for t, rows in tables:
            if rows:
                conn.execute(t.insert(), rows)
        if IS_POSTGRES:  # explicit ids do not move the sequences
            for t, rows in tables:
                pk = list(t.primary_key.columns)
                if rows and len(pk) == 1 and pk[0].autoincrement is not False and pk[0].type.python_type is int:
                    conn.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('\"{t.name}\"', '{pk[0].name}'), "
                            f'(SELECT max("{pk[0].name}") FROM "{t.name}"))'
                        )
                    )


@pytest.fixture
def world(db: Database) -> World:
    if "world" not in _SAVED:
        w = build(db)
        _SAVED["tables"], _SAVED["world"] = _dump(db), copy.deepcopy(w)
        return w
    _load(db, _SAVED["tables"])
    return copy.deepcopy(_SAVED["world"])
