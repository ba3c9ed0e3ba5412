"""Test harness: one schema per run (migrated with Alembic), emptied after every test.

The backend is chosen by ``COUNTYOS_TEST_DATABASE_URL`` (default: a SQLite file in a temporary
folder); the test command runs the suite once on SQLite and once on PostgreSQL + PostGIS.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

_TMP = Path(tempfile.mkdtemp(prefix="countyos-test-"))
os.environ["COUNTYOS_ENV"] = "test"
os.environ["COUNTYOS_SECRET_KEY"] = "test-secret-key-with-enough-length-0123456789"
os.environ["COUNTYOS_DATA_DIR"] = str(_TMP / "data")
os.environ["COUNTYOS_RUN_JOBS"] = "false"
os.environ.setdefault("COUNTYOS_TEST_DATABASE_URL", f"sqlite:///{_TMP / 'test.db'}")
os.environ["COUNTYOS_DATABASE_URL"] = os.environ["COUNTYOS_TEST_DATABASE_URL"]
os.environ.pop("COUNTYOS_CONFIG", None)

from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import create_engine, make_url, text  # noqa: E402
from sqlalchemy.pool import NullPool  # noqa: E402

from countyos import domains  # noqa: E402
from countyos.app import create_app  # noqa: E402
from countyos.core import hotcache, migrate  # noqa: E402
from countyos.core.db import Base, Database  # noqa: E402
from countyos.core.settings import Settings, get_settings, reset_settings  # noqa: E402
from countyos.org import flows  # noqa: E402

DATABASE_URL = os.environ["COUNTYOS_TEST_DATABASE_URL"]
IS_POSTGRES = DATABASE_URL.startswith("postgresql")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skip_pg = pytest.mark.skip(reason="needs PostgreSQL (run with COUNTYOS_TEST_DATABASE_URL=postgresql+psycopg://…)")
    for item in items:
        if "postgres_only" in item.keywords and not IS_POSTGRES:
            item.add_marker(skip_pg)


def bootstrap(db: Database) -> None:
    with db.unit_of_work() as s:
        flows.bootstrap(
            s, permissions=domains.all_permissions(), role_specs=domains.all_roles(), grants=domains.all_grants()
        )


def empty_all_tables(db: Database) -> None:
    hotcache.clear_all()  # the raw statements below bypass the sessions that keep the caches current
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    if IS_POSTGRES:
        with db.engine.begin() as conn:
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        return
    raw = db.engine.raw_connection()  # autocommit mode: PRAGMA foreign_keys only works outside a transaction
    try:
        cur = raw.cursor()
        cur.execute("PRAGMA foreign_keys=OFF")
        cur.execute("BEGIN IMMEDIATE")
        for t in tables:
            cur.execute(f'DELETE FROM "{t}"')
        cur.execute("COMMIT")
        cur.execute("PRAGMA foreign_keys=ON")
    finally:
        raw.close()


def reset_postgres(url: str) -> None:
    """Remove what earlier runs left in the test database, keeping PostGIS.

    The test command connects as an ordinary role (like a county's application role) that cannot
    create PostGIS itself, so it drops only the objects it owns; a superuser gets a new schema.
    """
    engine_db = Database(url)
    with engine_db.engine.begin() as conn:
        if conn.execute(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")).scalar():
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
        else:
            conn.execute(text("DROP OWNED BY CURRENT_USER"))
    engine_db.dispose()


@pytest.fixture(scope="session")
def migrated_db() -> Iterator[Database]:
    reset_settings()
    if IS_POSTGRES:
        reset_postgres(DATABASE_URL)
    migrate.upgrade(DATABASE_URL)
    db = Database(DATABASE_URL)
    yield db
    db.dispose()


@pytest.fixture
def settings() -> Iterator[Settings]:
    reset_settings()
    yield get_settings()
    reset_settings()


@pytest.fixture
def db(migrated_db: Database, settings: Settings) -> Iterator[Database]:
    bootstrap(migrated_db)
    yield migrated_db
    empty_all_tables(migrated_db)


@pytest.fixture
def app(db: Database, settings: Settings):
    return create_app(settings, db)


@pytest.fixture
def client(app) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://testserver") as c:
        yield c


class _NewDatabases:
    """Makes new, empty databases on the backend under test (PostGIS installed on PostgreSQL).

    PostgreSQL ones are cloned from the template named by ``COUNTYOS_TEST_PG_TEMPLATE`` (the test
    command makes one with PostGIS), or created empty with PostGIS when the test role is a
    superuser, and dropped by :meth:`drop_all`.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.made: list[str] = []

    def make(self) -> str:
        n = len(self.made) + 1
        if not IS_POSTGRES:
            self.made.append(str(self.folder / f"db{n}.db"))
            return f"sqlite:///{self.made[-1]}"
        name = f"countyos_t_{uuid.uuid4().hex[:12]}"
        template = os.environ.get("COUNTYOS_TEST_PG_TEMPLATE")
        admin = create_engine(DATABASE_URL, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
        self.made.append(name)
        url = make_url(DATABASE_URL).set(database=name).render_as_string(hide_password=False)
        if not template:
            ext = create_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
            with ext.connect() as conn:
                conn.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
            ext.dispose()
        admin.dispose()
        return url

    def drop_all(self) -> None:
        if IS_POSTGRES and self.made:
            admin = create_engine(DATABASE_URL, isolation_level="AUTOCOMMIT", poolclass=NullPool)
            with admin.connect() as conn:
                for name in self.made:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
        self.made.clear()


@pytest.fixture
def new_database(tmp_path: Path) -> Iterator[Callable[[], str]]:
    """Each call returns the URL of another new, empty database; all are dropped after the test."""
    databases = _NewDatabases(tmp_path)
    yield databases.make
    databases.drop_all()


@pytest.fixture(scope="module")
def new_module_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[], str]]:
    """Like ``new_database``, for module-scoped fixtures (dropped after the module)."""
    databases = _NewDatabases(tmp_path_factory.mktemp("databases"))
    yield databases.make
    databases.drop_all()
