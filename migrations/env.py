"""Alembic environment: the metadata of every domain, the URL from CountyOS settings."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from countyos import domains
from countyos.core.db import Base
from countyos.core.settings import get_settings

domains.load_models()
target_metadata = Base.metadata
config = context.config


def _url() -> str:
    return config.attributes.get("countyos_url") or get_settings().database_url


def include_object(obj, name, type_, reflected, compare_to):
    # PostGIS owns these tables; they are not ours to migrate.
    if type_ == "table" and name in {"spatial_ref_sys", "topology", "layer"}:
        return False
    # The tables that data loads create (``data_t{resource}_v{number}``) belong to their loads, not to
    # the schema's history.
    if type_ == "table" and reflected and name.startswith("data_t") and name[6:7].isdigit():
        return False
    # Objects declared for one dialect only (``.ddl_if(dialect=...)``, e.g. GiST indexes) are
    # compared only on that dialect.
    if type_ == "index":
        model = compare_to if reflected else obj
        ddl_if = getattr(model, "_ddl_if", None) if model is not None else None
        if ddl_if is not None and ddl_if.dialect and ddl_if.dialect != context.get_context().dialect.name:
            return False
    return True


def run_migrations_offline() -> None:
    context.configure(
        url=_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connectable = config.attributes.get("connection")
    if connectable is None:
        engine = create_engine(_url(), poolclass=pool.NullPool)
        with engine.connect() as connection:
            _run(connection)
        engine.dispose()
    else:
        _run(connectable)


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        include_object=include_object,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
