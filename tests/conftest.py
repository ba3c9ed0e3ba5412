"""Test fixtures: one schema per run (migrated with Alembic); each test in a rolled-back transaction
on a committed baseline (``tests/harness.py``).

The backend is chosen by ``COUNTYOS_TEST_DATABASE_URL`` (default: a SQLite file in a temporary
folder); the test command runs the suite once on SQLite and once on PostgreSQL + PostGIS.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

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
from sqlalchemy import Engine, create_engine, make_url, text  # noqa: E402
from sqlalchemy.pool import NullPool  # noqa: E402

from countyos.app import create_app  # noqa: E402
from countyos.core import migrate  # noqa: E402
from countyos.core.db import Database  # noqa: E402
from countyos.core.settings import Settings, get_settings, reset_settings  # noqa: E402
from tests.harness import BOOTSTRAPPED, Baseline, Harness, bootstrap, empty_all_tables  # noqa: E402, F401

DATABASE_URL = os.environ["COUNTYOS_TEST_DATABASE_URL"]
IS_POSTGRES = DATABASE_URL.startswith("postgresql")


# The test command runs the suite on SQLite and on PostgreSQL side by side; tests marked
# ``backend_neutral`` then run in one of them only: COUNTYOS_TEST_NEUTRAL_IN names it (scripts/test.sh
# gives them to the PostgreSQL run: the SQLite run has the browser tests after it).
_NEUTRAL_IN = os.environ.get("COUNTYOS_TEST_NEUTRAL_IN")
_BACKEND = "postgresql" if IS_POSTGRES else "sqlite"
NEUTRAL_ELSEWHERE = _NEUTRAL_IN is not None and _BACKEND != _NEUTRAL_IN


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skip_pg = pytest.mark.skip(reason="needs PostgreSQL (run with COUNTYOS_TEST_DATABASE_URL=postgresql+psycopg://…)")
    skip_neutral = pytest.mark.skip(reason=f"does not depend on the database: runs in the {_NEUTRAL_IN} run")
    for item in items:
        if "postgres_only" in item.keywords and not IS_POSTGRES:
            item.add_marker(skip_pg)
        if "backend_neutral" in item.keywords and NEUTRAL_ELSEWHERE:
            item.add_marker(skip_neutral)


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


@pytest.fixture(scope="session")
def harness(migrated_db: Database) -> Iterator[Harness]:
    h = Harness(migrated_db)
    _HARNESS.append(h)
    yield h
    _HARNESS.remove(h)


def _baseline_of(request: pytest.FixtureRequest) -> Baseline:
    """The baseline a test asked for through a ``*_baseline`` fixture (the most derived one), else
    the bootstrapped catalog."""
    found = [
        value
        for name in request.fixturenames
        if name.endswith("_baseline") and isinstance(value := request.getfixturevalue(name), Baseline)
    ]
    if not found:
        return BOOTSTRAPPED
    found.sort(key=lambda b: len(b.chain()))
    chosen = found[-1]
    if any(b not in chosen.chain() for b in found):
        pytest.fail(f"the fixtures ask for unrelated baselines: {sorted(b.name for b in found)}")
    return chosen


@pytest.fixture
def db(request: pytest.FixtureRequest, harness: Harness, settings: Settings) -> Iterator[Database]:
    """A migrated, bootstrapped database (plus the shared world the test's fixtures ask for) whose
    changes vanish after the test: it runs inside one rolled-back transaction. Tests marked
    ``committed`` get the real database (another connection or process sees their commits)."""
    baseline = _baseline_of(request)
    mode = harness.committed if request.node.get_closest_marker("committed") else harness.isolated
    with mode(baseline) as database:
        yield database


@pytest.fixture
def app(db: Database, settings: Settings) -> Iterator[Any]:
    application = create_app(settings, db)
    yield application
    # A TestClient made without ``with`` runs no shutdown: write what the side writer keeps while the
    # test's database is still there, or its thread retries against a closed connection until exit.
    writer = getattr(application.state, "side_writer", None)
    if writer is not None:
        writer.close(timeout=30.0)


@pytest.fixture
def client(app) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://testserver") as c:
        yield c


_HARNESS: list[Harness] = []


def _admin_engine() -> Engine:
    """An engine on the test database for CREATE/DROP DATABASE (allowed during isolated tests)."""
    engine = create_engine(DATABASE_URL, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    for harness in _HARNESS:
        harness.own(engine)
    return engine


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
        admin = _admin_engine()
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
            admin = _admin_engine()
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


# --- shared worlds: committed once per run, each test in a rolled-back transaction on top ----------
# (here, so that a folder importing another folder's ``world`` fixture finds what it depends on)


@pytest.fixture(scope="session")
def security_world_baseline() -> Baseline:
    """The county of the security suites (``tests/security/world.py``)."""
    from tests.security.world import BASELINE

    return BASELINE


@pytest.fixture(scope="session")
def cases_world_baseline() -> Baseline:
    """The small county of the cases tests (``tests/cases/conftest.py``)."""
    from tests.cases.conftest import BASELINE

    return BASELINE


@pytest.fixture(scope="session")
def sta_world_baseline() -> Baseline:
    """Two Things with their Datastreams and Observations (``tests/sensing/sta_world.py``)."""
    from tests.sensing.sta_world import BASELINE

    return BASELINE


@pytest.fixture(scope="session")
def ioc_history_baseline() -> Baseline:
    """The cases county with a generated history (``tests/ioc/conftest.py``)."""
    from tests.ioc.conftest import BASELINE

    return BASELINE
