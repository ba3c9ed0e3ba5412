"""Fixtures of the fault suite: a county in a database of its own (a file on SQLite, a database of
its own on PostgreSQL) that a separate server process can use, kill and restart."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from countyos import domains
from countyos.core import migrate
from countyos.core.db import Database
from countyos.org import flows
from tests.security.world import World, build


@dataclass
class County:
    url: str
    db: Database
    world: World
    data_dir: Path


@pytest.fixture
def county(new_database: Callable[[], str], settings) -> Iterator[County]:
    url = new_database()
    migrate.upgrade(url)
    db = Database(url)
    with db.unit_of_work() as s:
        flows.bootstrap(
            s, permissions=domains.all_permissions(), role_specs=domains.all_roles(), grants=domains.all_grants()
        )
    built = build(db)
    yield County(url, db, built, Path(tempfile.mkdtemp(prefix="countyos-fault-")))
    db.dispose()


from tests.security.conftest import world  # noqa: E402, F401  (the shared county, copied per test)
