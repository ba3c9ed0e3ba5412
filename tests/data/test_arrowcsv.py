"""The Arrow way through a CSV gives what the csv module's way gives: the same rows kept with the same
values, the same counts, the same quality report — for files in the common forms (read natively) and for
every other form (a batch, or the rest of the file, read the csv module's way)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from countyos.data.codes import FieldType
from countyos.data.models import InfoItem
from countyos.data.service import arrowcsv, loads, quality, readers

COUNTY = shapely.box(118.5, 28.0, 120.0, 29.0)
ITEMS = [
    ("name", "名称", FieldType.TEXT),
    ("code", "统一社会信用代码", FieldType.TEXT),
    ("amount", "金额", FieldType.NUMBER),
    ("count", "数量", FieldType.INTEGER),
    ("day", "日期", FieldType.DATE),
    ("at", "时间", FieldType.DATETIME),
    ("ok", "是否", FieldType.BOOLEAN),
    ("town", "乡镇", FieldType.TEXT),
    ("phone", "电话", FieldType.TEXT),
    ("lon", "经度", FieldType.NUMBER),
    ("lat", "纬度", FieldType.NUMBER),
    ("idno", "身份证号", FieldType.TEXT),
]
RULES = [
    {"kind": "not_null", "column": "name"},
    {"kind": "uscc", "column": "code"},
    {"kind": "unique", "column": "code"},
    {"kind": "range", "column": "amount", "params": {"min": 0, "max": 1000}},
    {"kind": "range", "column": "count", "params": {"max": 50}},
    {"kind": "date", "column": "day", "params": {"min": "2000-01-01", "max": "2030-12-31"}},
    {"kind": "code_list", "column": "town", "params": {"values": ["331123001", "331123002"]}},
    {"kind": "phone", "column": "phone"},
    {"kind": "in_county", "column": "lon,lat"},
    {"kind": "resident_id", "column": "idno"},
]
# cells in the forms files hold: most read natively, the others the csv module's way
TOKENS: dict[FieldType | str, list[str]] = {
    FieldType.TEXT: [
        "甲公司",
        "乙 公司",
        " 丙公司 ",
        "\u3000丁\u3000",
        "a,b",
        'say "hi"',
        "line\nbreak",
        "",
        "  ",
        "郎",
    ],
    "code": ["91331123MA2000001J", "91331123MA2000002M", "91331123MA2000003X", "9133112", "91331123ma2000001j", ""],
    FieldType.NUMBER: ["1", "2.5", "-3", "1e3", "1.", ".5", "+4", "007", " 8 ", "inf", "nan", "1_0", "x", "", "1e999"],
    FieldType.INTEGER: ["1", "-2", "+3", "007", "12345678901234567890", "4.0", " 5 ", "", "x", "٣"],
    FieldType.DATE: [
        "2024-05-01",
        "2024/5/1",
        "2024年5月1日",
        "20240501",
        "2024-02-30",
        "0000-01-01",
        "1999-12-31",
        "",
    ],
    FieldType.DATETIME: ["2024-05-01 08:30", "2024-05-01T08:30:00+08:00", "2024-05-01", "x", ""],
    FieldType.BOOLEAN: ["是", "否", "true", "0", "maybe", ""],
    "town": ["331123001", "331123002", "331123003", ""],
    "phone": ["13912345678", "0578-8123456", "12345", ""],
    "lon": ["119.1", "118.0", "119.5", ""],
    "lat": ["28.5", "29.5", ""],
    "idno": ["11010519491231002X", "110105194912310021", ""],
}
TOKEN_OF = {"code": "code", "town": "town", "phone": "phone", "lon": "lon", "lat": "lat", "idno": "idno"}


def _items() -> list[InfoItem]:
    return [InfoItem(position=n, name=name, label=label, type=kind) for n, (name, label, kind) in enumerate(ITEMS, 1)]


def _cell(value: str) -> str:
    if any(c in value for c in ',"\n') or value != value.strip():
        return '"' + value.replace('"', '""') + '"'
    return value


def _write(path: Path, rows: list[list[str]], *, extra: str = "") -> None:
    lines = [",".join(label for _, label, _ in ITEMS)] + [",".join(_cell(c) for c in row) for row in rows]
    path.write_text("\n".join(lines) + "\n" + extra, encoding="utf-8")


def _python_rows(out: Any, types: list[FieldType], *, dates_as_text: bool) -> list[tuple[Any, ...]]:
    """What the insert would be given, as (number, values…) rows, from either way's blocks."""
    rows: list[tuple[Any, ...]] = []
    for block in out:
        if isinstance(block, arrowcsv.Prepared):
            assert not dates_as_text  # on SQLite the pipeline gives Python's columns
            numbers = block.numbers.tolist()
            columns = [c.to_pylist() for c in arrowcsv.arrow_columns(block, types)[1:]]
        else:
            numbers, columns = block
        rows += list(zip(numbers, *columns, strict=True))
    return rows


def _run(path: Path, *, arrow: bool, skip: bool, dates_as_text: bool, monkeypatch: pytest.MonkeyPatch) -> Any:
    if not arrow:
        monkeypatch.setattr(arrowcsv, "batches", _give_up)
    try:
        items = _items()
        read = readers.open_file(path, filename=path.name)
        checker = quality.Checker(quality.parse_rules(RULES), loads._columns_for_checks(items), county=COUNTY)
        pipeline = loads._Pipeline(
            items, list(range(len(items))), checker, skip_bad_rows=skip, dates_as_text=dates_as_text
        )
        rows = _python_rows(list(pipeline.rows(read)), [i.type for i in items], dates_as_text=dates_as_text)
        return rows, pipeline.counts, pipeline.type_failures, checker.report(), pipeline.categories.names()
    finally:
        monkeypatch.undo()


def _give_up(source: readers.CsvSource) -> Any:
    raise arrowcsv.GiveUp()
    yield  # a generator, as batches is


def _same_both_ways(path: Path, monkeypatch: pytest.MonkeyPatch, *, skip: bool, dates_as_text: bool) -> Any:
    fast = _run(path, arrow=True, skip=skip, dates_as_text=dates_as_text, monkeypatch=monkeypatch)
    slow = _run(path, arrow=False, skip=skip, dates_as_text=dates_as_text, monkeypatch=monkeypatch)
    assert fast[0] == slow[0]  # the rows and their values, in order
    assert fast[1:] == slow[1:]  # counts, type failures, the quality report, the categories
    return fast


def _row(draw: Any, n: int) -> list[str]:
    row = []
    for name, _, kind in ITEMS:
        pool = TOKENS[TOKEN_OF.get(name, kind)]
        row.append(draw(st.sampled_from(pool)))
    if n % 3:  # most rows in the plain forms, so that whole batches go the native way too
        row[2], row[3], row[4], row[5], row[6] = "12.5", "3", "2024-05-01", "", ""
    return row


@st.composite
def tables(draw: Any) -> list[list[str]]:
    size = draw(st.integers(min_value=1, max_value=40))
    rows = [_row(draw, n) for n in range(size)]
    for _ in range(draw(st.integers(min_value=0, max_value=2))):  # blank records
        rows.insert(draw(st.integers(min_value=0, max_value=len(rows))), [""] * len(ITEMS))
    return rows


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=tables(), skip=st.booleans(), dates_as_text=st.booleans())
def test_random_files_read_the_same_both_ways(
    rows: list[list[str]], skip: bool, dates_as_text: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "random.csv"
    _write(path, rows)
    monkeypatch.setattr(arrowcsv, "BATCH_BYTES", 1024)  # several batches of a small file
    _same_both_ways(path, monkeypatch, skip=skip, dates_as_text=dates_as_text)


def _plain(n: int) -> list[str]:
    code = "91331123MA2000001J" if n == 0 else ""
    return [
        f"公司{n}",
        code,
        f"{n}.5",
        str(n % 40),
        "2024-05-01",
        "",
        "",
        "331123001",
        "13912345678",
        "119.1",
        "28.5",
        "",
    ]


@pytest.mark.parametrize("dates_as_text", [True, False])
def test_a_plain_file_goes_the_native_way_and_reads_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dates_as_text: bool
) -> None:
    path = tmp_path / "plain.csv"
    _write(path, [_plain(n) for n in range(500)])
    seen: list[int] = []
    real = loads._Pipeline.arrow_block

    def counted(self: Any, prepared: arrowcsv.Prepared) -> Any:
        seen.append(len(prepared))
        return real(self, prepared)

    monkeypatch.setattr(loads._Pipeline, "arrow_block", counted)
    rows, counts, *_ = _run(path, arrow=True, skip=False, dates_as_text=dates_as_text, monkeypatch=monkeypatch)
    assert sum(seen) == 500 and counts == {"read": 500, "failed": 0, "kept": 500}
    assert rows[0][:6] == (
        1,
        "公司0",
        "91331123MA2000001J",
        0.5,
        0,
        "2024-05-01" if dates_as_text else dt.date(2024, 5, 1),
    )
    _same_both_ways(path, monkeypatch, skip=False, dates_as_text=dates_as_text)


@pytest.mark.parametrize(
    "extra",
    [
        "\n" + ",".join(_plain(9)) + "\n",  # an empty line: Arrow cannot count it as the csv module does
        "公司x,,1,2\n",  # a record narrower than the header
        ",".join(_plain(9)) + ",surplus\n",  # and one wider
    ],
)
def test_a_file_arrow_gives_up_on_part_way_is_read_on_from_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, extra: str
) -> None:
    path = tmp_path / "odd.csv"
    _write(path, [_plain(n) for n in range(300)], extra=extra)
    monkeypatch.setattr(arrowcsv, "BATCH_BYTES", 4096)
    rows, counts, *_ = _same_both_ways(path, monkeypatch, skip=True, dates_as_text=True)
    assert counts["read"] == 301 and len(rows) == counts["kept"]
    assert rows[-1][0] == (302 if extra.startswith("\n") else 301)  # numbered as in the file


def test_files_arrow_does_not_read_go_the_csv_way(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    gbk = tmp_path / "gbk.csv"
    header = ",".join(label for _, label, _ in ITEMS)
    gbk.write_bytes((header + "\n" + ",".join(_plain(1)) + "\n").encode("gb18030"))
    read = readers.open_file(gbk, filename=gbk.name)
    assert read.csv is not None and read.csv.encoding == "gb18030"
    with pytest.raises(arrowcsv.GiveUp):
        next(arrowcsv.batches(read.csv))
    rows, counts, *_ = _same_both_ways(gbk, monkeypatch, skip=False, dates_as_text=True)
    assert counts["kept"] == 1 and rows[0][1] == "公司1"
    blank_first = tmp_path / "blank.csv"
    blank_first.write_text("\n\n" + header + "\n" + ",".join(_plain(2)) + "\n", encoding="utf-8")
    read = readers.open_file(blank_first, filename=blank_first.name)
    assert read.csv is not None
    with pytest.raises(arrowcsv.GiveUp):
        next(arrowcsv.batches(read.csv))


def test_trimming_is_str_strip() -> None:
    values = ["\u3000ab \x1c", " ", None, "a b", "郎", "x\u2009", "\xa0y"]
    got = arrowcsv._trimmed(pa.array(values)).to_pylist()
    assert got == [(v.strip() or None) if v is not None else None for v in values]


def _tricky(n: int) -> list[str]:
    row = _plain(n)
    row[0] = [" 甲 公司\u3000", "乙,丙", 'say "hi"', "line\nbreak"][n % 4]
    row[2] = ["+4", "1e3", ".5", "12"][n % 4]  # +4: the csv module's way for its batch
    row[4] = ["2024/5/1", "2024-05-01", "20240501", "2024年5月1日"][n % 4]
    row[5] = ["2024-05-01 08:30", "", "2024-05-01T08:30:00+08:00", "2024-05-01"][n % 4]
    row[6] = ["是", "否", "true", ""][n % 4]
    return row


def test_a_load_stores_the_same_table_both_ways(db, office, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """On the backend the suite runs on: SQLite's multi-row inserts, PostgreSQL's binary COPY (``pgcopy``)."""
    from sqlalchemy import text

    from countyos.data.service import catalogue
    from tests.data.conftest import BUREAU, entry

    path = tmp_path / "mixed.csv"
    _write(path, [_plain(n) for n in range(120)] + [_tricky(n) for n in range(40)] + [[""] * len(ITEMS)])
    monkeypatch.setattr(arrowcsv, "BATCH_BYTES", 4096)
    items = [{"name": n, "label": label, "type": kind.value, "open": True} for n, label, kind in ITEMS]
    rules = [r for r in RULES if r["kind"] != "in_county"]  # the test database has no county boundary
    stored = []
    for arrow in (True, False):
        if not arrow:
            monkeypatch.setattr(arrowcsv, "batches", _give_up)
        with db.unit_of_work() as s:
            data = entry(
                office.market, name=f"mixed-{int(arrow)}", code=f"331123-SCJG-01{int(arrow)}", items=items, rules=rules
            )
            res = catalogue.create(s, actor=BUREAU, data=data)
            load = loads.load_file(
                s, actor=BUREAU, resource_id=res.id, path=path, filename=path.name, skip_bad_rows=True
            )
            assert load.table_name is not None, load.error
            rows = s.execute(text(f'SELECT * FROM "{load.table_name}" ORDER BY _id')).all()
            stored.append((rows, load.rows_read, load.rows_failed, load.report, load.indexes))
    assert stored[0] == stored[1]
    rows = stored[0][0]
    assert len(rows) > 100 and rows[0]._id == 1 and stored[0][1] == 160  # the blank record is not a row
    assert {r.name for r in rows} >= {"甲 公司", "乙,丙", 'say "hi"', "line\nbreak"}


def test_a_file_with_a_bom_and_bad_bytes_is_refused_when_opened(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    header = ",".join(label for _, label, _ in ITEMS)
    path.write_bytes(b"\xef\xbb\xbf" + (header + "\n" + ",".join(_plain(1)) + "\n").encode() + b"\xff\xfe,x\n")
    with pytest.raises(readers.FileRefused) as refused:
        readers.open_file(path, filename=path.name)
    assert refused.value.message_id == "The file is not text in UTF-8 or GBK"
