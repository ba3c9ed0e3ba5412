"""The tables that hold a resource's loaded data: one per successful load, ``data_t{resource}_v{number}``.

Their columns are the resource's 信息项 (``InfoItem.name``, already safe SQL names) plus ``_id``, the row's
number in the file. They live in their own ``MetaData`` (never in the schema's migrations: the loads
create and drop them). A geometry is kept as its GeoJSON text, so that SQLite and PostgreSQL hold the
same thing; date-times are kept as written (the county's local time).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import BigInteger, Boolean, Column, Date, DateTime, Float, Index, Integer, MetaData, Table, Text

from countyos.data.codes import FieldType
from countyos.data.models import InfoItem

ROW_ID = "_id"
MAX_INDEXED = 8  # indexes made after a load at most (see indexes_for)
CATEGORY_VALUES = 1_000  # a column of at most this many values, each in ten rows or more, is a category
CATEGORY_TYPES = frozenset({FieldType.TEXT, FieldType.INTEGER, FieldType.BOOLEAN})

SQL_TYPES: dict[FieldType, Any] = {
    FieldType.INTEGER: BigInteger,
    FieldType.NUMBER: Float,
    FieldType.TEXT: Text,
    FieldType.DATE: Date,
    FieldType.DATETIME: DateTime,
    FieldType.BOOLEAN: Boolean,
    FieldType.GEOMETRY: Text,
}


def table_name(resource_id: int, number: int) -> str:
    return f"data_t{resource_id}_v{number}"


def table_for(name: str, items: Sequence[InfoItem], *, primary_key: bool = True) -> Table:
    """The SQLAlchemy table of a load (a fresh MetaData each time: the shape belongs to the load);
    PRIMARY_KEY false: ``_id`` only NOT NULL (a loader adds the key once the rows are in)."""
    meta = MetaData()
    cols = [Column(ROW_ID, Integer, primary_key=primary_key, nullable=False, autoincrement=False)]
    cols += [Column(i.name, SQL_TYPES[i.type], nullable=True) for i in items]
    return Table(name, meta, *cols)


def indexes_for(table: Table, items: Sequence[InfoItem], *, categories: Collection[str] = ()) -> list[Index]:
    """The indexes worth their making, made after the rows are in (cheaper than keeping them up to date
    row by row) — each costs about half a second a million rows, on every load:

    - each key (是否主键): a row is looked up by it;
    - the first date or date-time: the order a register is read in (newest first), and its ranges;
    - each category (CATEGORIES: columns the load found few values in, such as 乡镇, 行业, 状态): rows
      are filtered by it and listed in the date's order, so (category, date) — which also serves the
      filter alone and its count. A filter on it alone would leave a tenth of the rows or more to sort.

    Not indexed: free text (a search for words in it reads every row anyway), numbers of many values
    (amounts, coordinates), geometries; a filter on them reads the table."""
    date = next((i for i in items if i.type in (FieldType.DATE, FieldType.DATETIME)), None)
    wanted: list[tuple[InfoItem, ...]] = [(i,) for i in items if i.is_key and i.type != FieldType.GEOMETRY]
    if date is not None and not date.is_key:
        wanted.append((date,))
    for i in items:
        if i.name in categories and not i.is_key:
            wanted.append((i, date) if date is not None else (i,))
    return indexes_of(table, [[i.name for i in columns] for columns in wanted[:MAX_INDEXED]])


def indexes_of(table: Table, plan: Sequence[Sequence[str]]) -> list[Index]:
    """The indexes of PLAN (each a list of column names), named ``ix_<table>_<n>``."""
    return [Index(f"ix_{table.name}_{n}", *(table.c[name] for name in names)) for n, names in enumerate(plan, start=1)]
