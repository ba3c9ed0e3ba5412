"""Lab results from a file: a good CSV or XLSX file is imported with a report per row; bad rows are
reported with their row and column and nothing is written."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from countyos.core import tabular
from countyos.eco.models.water import SampleSource, WaterSample, WaterSection
from countyos.org.models import AuditEvent
from tests.cases.conftest import _fake_geo  # noqa: F401  (fixture: a stand-in locator for the cases)
from tests.factories import person, token_for

API = "/api/v1/eco/water"
HEADERS = ["断面编码", "采样时间", "溶解氧", "高锰酸盐指数", "氨氮", "总磷(以P计)", "检测单位", "报告编号"]


@pytest.fixture
def keeper(db, client) -> dict[str, str]:
    p = person(db, ["eco_monitor"])
    headers = {"Authorization": f"Bearer {token_for(db, p, ['eco.monitor.read', 'eco.monitor.manage'])}"}
    for code, name, target in (("WQ-1", "周公源口", "II"), ("WQ-2", "湖山水库", "III")):
        body = {
            "code": code,
            "name": name,
            "lon": 119.2,
            "lat": 28.6,
            "target_class": target,
            "waterbody": "lake" if code == "WQ-2" else "river",
        }
        assert client.post(f"{API}/sections", json=body, headers=headers).status_code == 201
    return headers


def _csv(rows: list[list[str]], title: bool = True) -> bytes:
    lines = (["2026年第三季度地表水监测结果,,,,"] if title else []) + [",".join(HEADERS)] + [",".join(r) for r in rows]
    return ("\n".join(lines) + "\n").encode("utf-8")


def _count(db) -> int:
    with db.reading() as s:
        return s.scalar(select(func.count()).select_from(WaterSample)) or 0


def test_a_good_csv_file_is_imported_with_a_report_per_row(client, db, keeper):
    data = _csv(
        [
            ["WQ-1", "2026-09-05 10:00", "8.2", "1.9", "0.12", "0.02", "县环境监测站", "JC-0905"],
            ["WQ-2", "2026/09/06", "6.5", "", "0.4", "0.06", "县环境监测站", "JC-0906"],
            ["WQ-1", "2026-08-05 09:30", "7.0", "", "", "", "", ""],
        ]
    )
    r = client.post(f"{API}/samples/import", files={"file": ("q3.csv", data, "text/csv")}, headers=keeper)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["added"] == 3
    assert [(x["row"], x["section_code"], x["cls"], x["meets"]) for x in body["rows"]] == [
        (3, "WQ-1", "I", True),
        (4, "WQ-2", "IV", False),  # lake TP 0.06 is class IV, past III
        (5, "WQ-1", "II", True),
    ]
    with db.reading() as s:
        got = s.scalars(select(WaterSample).order_by(WaterSample.sampled_at)).all()
        assert [x.source for x in got] == [SampleSource.IMPORT] * 3
        lake = next(x for x in got if x.report_no == "JC-0906")
        assert lake.values == {"do": 6.5, "nh3n": 0.4, "tp": 0.06} and lake.lab_name == "县环境监测站"
        assert lake.exceeding == [{"code": "tp", "cls": "IV", "limit": 0.05, "multiple": 0.2}]
        assert lake.sampled_at.isoformat() == "2026-09-05T16:00:00+00:00"  # local midnight of 9/6
        wq1 = s.scalars(select(WaterSection).where(WaterSection.code == "WQ-1")).one()
        assert wq1.last_class == "I"  # the newest of its two, not the last row of the file
        assert (
            s.scalars(select(AuditEvent.detail).where(AuditEvent.action == "eco.water.sample.import")).one()["added"]
            == 3
        )


def test_an_xlsx_file_is_read_by_its_chinese_headers(client, db, keeper):
    data = tabular.to_xlsx(HEADERS, [["WQ-1", "2026-09-05 10:00", 8.2, 1.9, 0.12, 0.02, "站", "R1"]])
    r = client.post(f"{API}/samples/import", files={"file": ("q3.xlsx", data)}, headers=keeper)
    assert r.status_code == 200, r.text
    assert r.json()["rows"][0]["cls"] == "I" and _count(db) == 1


def test_bad_rows_are_reported_and_nothing_is_written(client, db, keeper):
    data = _csv(
        [
            ["WQ-1", "2026-09-05 10:00", "8.2", "", "", "", "", ""],  # 3 good
            ["WQ-9", "2026-09-05 10:00", "8.2", "", "", "", "", ""],  # 4 unknown section
            ["WQ-1", "next week", "8.2", "", "", "", "", ""],  # 5 not a time
            ["WQ-1", "2026-09-07", "lots", "", "", "", "", ""],  # 6 not a number
            ["WQ-1", "2026-09-08", "", "", "", "", "", ""],  # 7 no value
            ["WQ-1", "2026-09-05 10:00", "7.9", "", "", "", "", ""],  # 8 row 3 again
            ["WQ-2", "2099-01-01", "7.9", "", "", "", "", ""],  # 9 in the future
            ["WQ-2", "2026-09-09", "-1", "", "", "", "", ""],  # 10 negative
        ]
    )
    r = client.post(f"{API}/samples/import", files={"file": ("bad.csv", data, "text/csv")}, headers=keeper)
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    problems = [(e["row"], e["field"]) for e in r.json()["errors"]]
    assert problems == [
        (4, "断面编码"),
        (5, "采样时间"),
        (6, "溶解氧"),
        (7, ""),
        (8, "采样时间"),
        (9, "采样时间"),
        (10, "溶解氧"),
    ]
    assert _count(db) == 0


def test_a_result_already_kept_is_a_bad_row(client, db, keeper):
    good = _csv([["WQ-1", "2026-09-05 10:00", "8.2", "", "", "", "", ""]])
    assert client.post(f"{API}/samples/import", files={"file": ("a.csv", good)}, headers=keeper).status_code == 200
    twice = _csv(
        [["WQ-2", "2026-09-05 10:00", "8.2", "", "", "", "", ""], ["WQ-1", "2026-09-05 10:00", "8", "", "", "", "", ""]]
    )
    r = client.post(f"{API}/samples/import", files={"file": ("b.csv", twice)}, headers=keeper)
    assert r.status_code == 422 and [(e["row"], e["field"]) for e in r.json()["errors"]] == [(4, "采样时间")]
    assert _count(db) == 1


@pytest.mark.parametrize(
    ("data", "status"),
    [
        (b"", 422),
        (b"name,value\nx,1\n", 422),  # no header row with 断面编码 and 采样时间
        (b"PK\x03\x04 not really a workbook", 422),
        (b"\x00" * 100, 422),
        (b"a" * 5_000_001, 413),
    ],
)
def test_files_that_are_not_results_are_refused(client, db, keeper, data, status):
    r = client.post(f"{API}/samples/import", files={"file": ("x.csv", data)}, headers=keeper)
    assert r.status_code == status and _count(db) == 0


def test_importing_needs_the_manage_permission(client, db):
    reader = person(db, ["river_office"])
    headers = {"Authorization": f"Bearer {token_for(db, reader, ['eco.monitor.read'])}"}
    r = client.post(f"{API}/samples/import", files={"file": ("a.csv", _csv([]))}, headers=headers)
    assert r.status_code == 403
