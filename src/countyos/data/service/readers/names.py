"""Safe SQL names for a file's headers."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

# --- names -------------------------------------------------------------------------------------------

# SQLite keywords, PostgreSQL reserved words and system columns, and a few SQL type names.
_SQL_WORDS = """
    abort action add after all alter always analyse analyze and any array as asc asymmetric attach
    authorization autoincrement before begin between binary both by cascade case cast check collate
    collation column commit concurrently conflict constraint create cross current current_catalog
    current_date current_role current_schema current_time current_timestamp current_user database
    default deferrable deferred delete desc detach distinct do drop each else end escape except exclude
    exclusive exists explain fail false fetch filter first following for foreign freeze from full
    generated glob grant group groups having if ignore ilike immediate in index indexed initially inner
    insert instead intersect into is isnull join key last lateral leading left like limit localtime
    localtimestamp match materialized natural no not nothing notnull null nulls of offset on only or
    order others outer over overlaps partition placing plan pragma preceding primary query raise range
    recursive references regexp reindex release rename replace restrict returning right rollback row
    rows savepoint select session_user set similar some symmetric system_user table tablesample temp
    temporary then ties to trailing transaction trigger true unbounded union unique update user using
    vacuum values variadic verbose view virtual when where window with without
    oid rowid ctid xmin xmax cmin cmax tableoid date time timestamp interval
"""
SQL_WORDS = frozenset(_SQL_WORDS.split())
_NOT_NAME = re.compile(r"[^a-z0-9]+")


def _ascii_name(label: str) -> str | None:
    if not label.isascii():
        return None
    name = _NOT_NAME.sub("_", label.lower()).strip("_")
    if not name:
        return None
    if name[0].isdigit():
        name = "c_" + name
    name = name[:63].rstrip("_")
    return name + "_" if name in SQL_WORDS else name


def safe_names(labels: Sequence[str], *, reserved: Iterable[str] = ()) -> list[str]:
    """A unique SQL identifier for each header (see the module's docstring); RESERVED are taken."""
    taken = set(reserved)
    names = []
    for position, label in enumerate(labels, start=1):
        base = _ascii_name(label) or f"c{position}"
        name, n = base, 1
        while name in taken:
            n += 1
            name = f"{base[: 63 - len(str(n)) - 1]}_{n}"
        taken.add(name)
        names.append(name)
    return names
