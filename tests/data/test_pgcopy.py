"""Arrow columns written as PostgreSQL's binary COPY stream read back as the values they were."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest
from sqlalchemy import text

from countyos.data.service import pgcopy
from tests.conftest import IS_POSTGRES

pytestmark = pytest.mark.skipif(not IS_POSTGRES, reason="PostgreSQL's own COPY format")

VALUES = {
    "i4": (pa.int32(), [1, None, -(2**31), 2**31 - 1]),
    "i8": (pa.int64(), [5, None, -(2**63), 2**63 - 1]),
    "f8": (pa.float64(), [0.1, None, -1e308, 5e-324]),
    "t": (pa.string(), ["遂昌县", None, "", 'a "quoted"\tline\nbreak \\ end']),
    "d": (pa.date32(), [dt.date(2024, 5, 1), None, dt.date(1, 1, 1), dt.date(1999, 12, 31)]),
    "ts": (
        pa.timestamp("us"),
        [dt.datetime(2024, 5, 1, 8, 30, 1, 5), None, dt.datetime(1960, 1, 1), dt.datetime(2000, 1, 1)],
    ),
    "b": (pa.bool_(), [True, None, False, True]),
}
SQL_TYPES = {"i4": "int4", "i8": "int8", "f8": "float8", "t": "text", "d": "date", "ts": "timestamp", "b": "bool"}


def test_every_type_and_null_round_trips_through_copy(db) -> None:
    columns = [pa.array(values, type=kind) for kind, values in VALUES.values()]
    with db.unit_of_work() as s:
        conn = s.connection()
        conn.exec_driver_sql(
            "CREATE TEMPORARY TABLE pgcopy_check (" + ", ".join(f"{c} {t}" for c, t in SQL_TYPES.items()) + ")"
        )
        raw = conn.connection.dbapi_connection
        with raw.cursor() as cur, cur.copy("COPY pgcopy_check FROM STDIN (FORMAT binary)") as copy:
            copy.write(pgcopy.SIGNATURE)
            copy.write(pgcopy.rows([c.slice(0, 2) for c in columns]))  # two blocks, the second a slice
            copy.write(pgcopy.rows([c.slice(2) for c in columns]))
            copy.write(pgcopy.TRAILER)
        got = [tuple(r) for r in conn.execute(text("SELECT * FROM pgcopy_check"))]
    assert got == list(zip(*(values for _, values in VALUES.values()), strict=True))


def test_a_type_without_a_form_is_refused() -> None:
    with pytest.raises(TypeError):
        pgcopy.rows([pa.array([dt.datetime(2024, 5, 1)], type=pa.timestamp("us", tz="UTC"))])
