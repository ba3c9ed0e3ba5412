"""The tables that hold a resource's loaded data: one per successful load, ``data_t{resource}_v{number}``.

Their columns are the resource's 信息项 (``InfoItem.name``, already safe SQL names) plus ``_id``, the row's
number in the file. They live in their own ``MetaData`` (never in the schema's migrations: the loads
create and drop them). A geometry is kept as its GeoJSON text, so that SQLite and PostgreSQL hold the
same thing; date-times are kept as written (the county's local time).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import BigInteger, Boolean, Column, Date, DateTime, Float, Index, Integer, MetaData, Table, Text

from countyos.data.codes import FieldType
from countyos.data.models import InfoItem

ROW_ID = "_id"
MAX_INDEXED = 8  # columns indexed after a load: the keys first, then the first columns (filters and sorts)

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


def table_for(name: str, items: Sequence[InfoItem]) -> Table:
    """The SQLAlchemy table of a load (a fresh MetaData each time: the shape belongs to the load)."""
    meta = MetaData()
    cols = [Column(ROW_ID, Integer, primary_key=True, autoincrement=False)]
    cols += [Column(i.name, SQL_TYPES[i.type], nullable=True) for i in items]
    return Table(name, meta, *cols)


def indexes_for(table: Table, items: Sequence[InfoItem]) -> list[Index]:
    """Indexes made after the rows are in (cheaper than keeping them up to date row by row)."""
    chosen = [i for i in items if i.is_key and i.type != FieldType.GEOMETRY]
    chosen += [i for i in items if not i.is_key and i.type != FieldType.GEOMETRY]
    return [Index(f"ix_{table.name}_{n}", table.c[i.name]) for n, i in enumerate(chosen[:MAX_INDEXED], start=1)]
