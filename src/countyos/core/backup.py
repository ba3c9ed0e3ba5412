"""Backup and restore of the whole database.

SQLite uses the online backup API (consistent while the server keeps writing). PostgreSQL uses
``pg_dump --format=custom`` and ``pg_restore``. Attachments are files under ``data_dir`` and are
copied by the operator's file backup.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from countyos.core import hotcache
from countyos.core.errors import ConfigError, Conflict


def sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise ConfigError("An in-memory SQLite database cannot be backed up")
    return Path(database)


def _pg_env(url: str) -> tuple[list[str], dict[str, str]]:
    u = make_url(url)
    env = dict(os.environ)
    if u.password:
        env["PGPASSWORD"] = str(u.password)
    args = ["-h", u.host or "127.0.0.1", "-p", str(u.port or 5432), "-U", u.username or "postgres"]
    return args, env


def backup(url: str, target: Path) -> Path:
    target = target.resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    if url.startswith("sqlite"):
        src = sqlite3.connect(sqlite_path(url))
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
        finally:
            dst.close()
            src.close()
        return target
    args, env = _pg_env(url)
    dbname = make_url(url).database or ""
    subprocess.run(
        ["pg_dump", "--format=custom", "--no-owner", "--file", str(target), *args, dbname], check=True, env=env
    )
    return target


def restore(url: str, source: Path, *, force: bool = False) -> None:
    if not source.is_file():
        raise ConfigError("The backup file %(path)s does not exist", path=str(source))
    if url.startswith("sqlite"):
        path = sqlite_path(url)
        if path.exists() and path.stat().st_size > 0 and not force:
            raise Conflict("The database %(path)s already exists; pass --force to replace it", path=str(path))
        check = sqlite3.connect(source)
        try:
            if check.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                raise ConfigError("The backup file fails SQLite's integrity check")
        except sqlite3.DatabaseError as exc:  # damaged beyond what the check can report, or not SQLite
            raise ConfigError("The backup file fails SQLite's integrity check") from exc
        finally:
            check.close()
        for suffix in ("-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        tmp = path.with_suffix(path.suffix + ".restoring")
        shutil.copyfile(source, tmp)
        os.replace(tmp, path)
        hotcache.clear_all()
        return
    args, env = _pg_env(url)
    dbname = make_url(url).database or ""
    if force:
        # Not pg_restore --clean: it cannot drop the constraints partitions inherit from their parent.
        _empty_postgres(url)
    with tempfile.TemporaryDirectory(prefix="countyos-restore-") as tmpdir:
        toc = Path(tmpdir) / "toc.list"
        toc.write_text(_restorable_toc(source, env))
        done = subprocess.run(
            ["pg_restore", "--no-owner", "--exit-on-error", "--use-list", str(toc), *args, "-d", dbname, str(source)],
            env=env,
        )
    hotcache.clear_all()
    if done.returncode != 0:
        raise ConfigError("pg_restore failed (exit %(code)s); its message is above", code=done.returncode)


# Objects that belong to an extension (PostGIS) are left alone: pg_depend marks them with deptype 'e'.
_NOT_EXTENSION = (
    "NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = '{catalog}'::regclass AND d.objid = {oid}"
    " AND d.deptype = 'e')"
)
_USER_SCHEMA = "n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%'"
_EXTENSION_SCHEMA = "n.oid IN (SELECT extnamespace FROM pg_extension)"
# Schemas dropped whole: not public, not holding an extension.
_OWN_SCHEMAS = f"""
    SELECT n.nspname FROM pg_namespace n
    WHERE {_USER_SCHEMA} AND n.nspname <> 'public' AND NOT {_EXTENSION_SCHEMA}
      AND {_NOT_EXTENSION.format(catalog="pg_namespace", oid="n.oid")}"""
# Schemas emptied object by object: public and those holding an extension.
_SHARED = f"{_USER_SCHEMA} AND (n.nspname = 'public' OR {_EXTENSION_SCHEMA})"
_OBJECTS = f"""
    SELECT CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'S' THEN 'SEQUENCE'
                          WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END, c.oid::regclass::text
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE {_SHARED} AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND NOT c.relispartition
      AND {_NOT_EXTENSION.format(catalog="pg_class", oid="c.oid")}
    UNION ALL
    SELECT CASE t.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END, t.oid::regtype::text
    FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
    WHERE {_SHARED} AND t.typtype IN ('e', 'd', 'r') AND {_NOT_EXTENSION.format(catalog="pg_type", oid="t.oid")}
    UNION ALL
    SELECT 'ROUTINE', p.oid::regprocedure::text
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE {_SHARED} AND p.prokind <> 'a' AND {_NOT_EXTENSION.format(catalog="pg_proc", oid="p.oid")}"""


def _empty_postgres(url: str) -> None:
    """Drop everything in the database except extensions, in one transaction, before a forced restore."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.begin() as conn:
            for (schema,) in conn.execute(text(_OWN_SCHEMAS)).all():
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            for kind, name in conn.execute(text(_OBJECTS)).all():
                conn.execute(text(f"DROP {kind} IF EXISTS {name} CASCADE"))
    finally:
        engine.dispose()


def _restorable_toc(source: Path, env: dict[str, str]) -> str:
    """The dump's table of contents without what belongs to extensions such as PostGIS.

    A county's application role is not a superuser: the superuser creates PostGIS in the database
    beforehand, and the role may neither comment on, drop nor write the tables of an extension it
    does not own. So the restore leaves out the extension's comment and its reference table
    (``spatial_ref_sys``, whose standard rows come with the extension).
    """
    listing = subprocess.run(
        ["pg_restore", "--list", str(source)], check=True, capture_output=True, text=True, env=env
    ).stdout
    skip = re.compile(r"^\d+; \d+ \d+ (COMMENT - EXTENSION |TABLE DATA \S+ spatial_ref_sys )")
    return "".join(line + "\n" for line in listing.splitlines() if not skip.match(line))
