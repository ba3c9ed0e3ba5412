"""Alembic, driven from code: ``countyos db upgrade`` and the tests use the same entry points."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

_PKG = Path(__file__).resolve().parent.parent


def migrations_dir() -> Path:
    inside = _PKG / "migrations"  # installed wheel
    if inside.is_dir():
        return inside
    return _PKG.parent.parent / "migrations"  # source checkout


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["countyos_url"] = url
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)


def current(url: str) -> str | None:
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import create_engine

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()
