"""Downloads of open data are recorded (resource, load, format, rows, when; the user only when logged in,
nothing of an anonymous visitor) and 数据沉淀 counts them per department and month, each number opening
the list of the records behind it."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import inspect, select

from countyos.core import errors
from countyos.core.clock import utcnow
from countyos.data.models import Download, Load, Resource
from countyos.data.service import downloads, overview
from countyos.org.models import User
from tests.data.test_ckan_sql import COMPANIES, COMPANY_ITEMS, REPORT_ITEMS, REPORTS, _publish
from tests.factories import login


@pytest.fixture
def opened(db, office, tmp_path) -> dict[str, int]:
    """Two open resources of the market department, one of the education department."""
    return {
        "companies": _publish(db, tmp_path, office.market, COMPANIES, items=COMPANY_ITEMS),
        "reports": _publish(
            db, tmp_path, office.market, REPORTS, name="qiye-nianbao", code="331123-SCJG-0002", title="企业年报",
            items=REPORT_ITEMS,
        ),
        "schools": _publish(
            db, tmp_path, office.other, COMPANIES, name="xuexiao", code="331123-JYJ-0001", title="学校名录",
            items=COMPANY_ITEMS,
        ),
    }  # fmt: skip


def _records(db) -> list[Download]:
    with db.reading() as s:
        rows = list(s.scalars(select(Download).order_by(Download.id)))
        s.expunge_all()
        return rows


def test_each_download_is_recorded_without_anything_of_an_anonymous_visitor(client, db, office, opened) -> None:
    assert client.get("/open/datasets/qiye-dengji/download.csv").status_code == 200
    assert client.get("/open/datasets/qiye-dengji/download.json").status_code == 200
    assert client.get("/open/datasets/qiye-nianbao/download.xlsx").status_code == 200
    # what is refused is not a download
    assert client.get("/open/datasets/qiye-dengji/download.geojson").status_code == 404
    assert client.get("/open/datasets/nope/download.csv").status_code == 404
    login(client, office.provider)
    assert client.get("/open/datasets/xuexiao/download.csv").status_code == 200
    got = _records(db)
    assert [(d.resource_id, d.format, d.rows) for d in got] == [
        (opened["companies"], "CSV", 5),
        (opened["companies"], "JSON", 5),
        (opened["reports"], "XLSX", 4),
        (opened["schools"], "CSV", 5),
    ]
    assert [d.user_id for d in got] == [None, None, None, office.provider.id]
    with db.reading() as s:
        current = s.get(Resource, opened["companies"]).current_load_id
        assert got[0].load_id == current and s.get(Load, current).rows_loaded == 5
    assert all(d.at is not None and abs((utcnow() - d.at).total_seconds()) < 600 for d in got)
    columns = {c.name for c in inspect(Download).columns}
    assert columns == {"id", "resource_id", "load_id", "format", "rows", "at", "user_id"}  # no address, no agent


def test_overview_counts_downloads_per_department_and_month_and_each_number_opens_its_records(
    client, db, office, opened
) -> None:
    now = utcnow()
    last_month = (now.replace(day=1) - timedelta(days=1)).replace(day=15, hour=4)
    with db.unit_of_work() as s:
        plans = {
            key: downloads.plan(s, s.get(Resource, pk), ext="csv") for key, pk in opened.items()
        }  # fmt: skip
        for _ in range(3):
            downloads.record(s, plan=plans["companies"], user_id=None, now=now)
        downloads.record(s, plan=plans["reports"], user_id=None, now=last_month)
        downloads.record(s, plan=plans["schools"], user_id=office.provider.id, now=last_month)
    this_key, last_key = _month(now), _month(last_month)
    with db.reading() as s:
        figures = {f.department_id: f for f in overview.by_department(s, now=now)}
        assert figures[office.market].downloads == 4 and figures[office.other].downloads == 1
        months = {m["month"]: m["downloads"] for m in overview.by_month(s, now=now)}
        assert months[this_key] == 3 and months[last_key] == 2 and sum(months.values()) == 5
        for dept, f in figures.items():
            assert downloads.count(s, downloads.Filter(provider_id=dept)) == f.downloads
    login(client, office.bureau)
    page = client.get("/data/overview")
    assert page.status_code == 200
    assert f'href="/data/downloads?provider_id={office.market}">4</a>' in page.text
    assert f'href="/data/downloads?month={this_key}">3</a>' in page.text
    assert f'href="/data/downloads?month={last_key}">2</a>' in page.text
    assert 'id="data-downloads-total">5</a>' in page.text
    # the numbers open their records
    listed = client.get("/data/downloads", params={"provider_id": office.market})
    assert listed.status_code == 200 and _rows(listed.text) == 4
    assert "企业登记信息" in listed.text and "企业年报" in listed.text and "学校名录" not in listed.text
    listed = client.get("/data/downloads", params={"month": last_key})
    assert _rows(listed.text) == 2 and "企业年报" in listed.text and "学校名录" in listed.text
    with db.reading() as s:
        name = s.get(User, office.provider.id).display_name
    assert name in listed.text  # logged in: named
    listed = client.get("/data/downloads", params={"month": last_key, "provider_id": office.other})
    assert _rows(listed.text) == 1
    listed = client.get("/data/downloads", params={"resource_id": opened["companies"], "format": "CSV"})
    assert _rows(listed.text) == 3 and "企业登记信息" in listed.text


def _month(at: datetime) -> str:
    from zoneinfo import ZoneInfo

    from countyos.core.settings import get_settings

    return at.astimezone(ZoneInfo(get_settings().timezone)).strftime("%Y-%m")


def _rows(html: str) -> int:
    body = html.split('id="download-table"', 1)[1].split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return len(re.findall(r"<tr>\s*<td>", body))  # the row saying there is none has a td of its own class


def test_the_list_is_paged_bounded_and_for_the_overview_readers_only(client, db, office, opened) -> None:
    with db.unit_of_work() as s:
        plan = downloads.plan(s, s.get(Resource, opened["companies"]), ext="json")
        for n in range(7):
            downloads.record(s, plan=plan, user_id=None, now=datetime(2026, 3, 1, tzinfo=UTC) + timedelta(hours=n))
    assert client.get("/data/downloads", follow_redirects=False).status_code in (302, 303, 401)
    login(client, office.provider)  # a department's data staff do not read 数据沉淀
    assert client.get("/data/downloads").status_code == 403
    client.cookies.clear()
    login(client, office.bureau)
    first = client.get("/data/downloads", params={"limit": 3})
    assert first.status_code == 200 and _rows(first.text) == 3 and "offset=3" in first.text
    last = client.get("/data/downloads", params={"limit": 3, "offset": 6})
    assert _rows(last.text) == 1
    assert client.get("/data/downloads", params={"limit": 1000}).status_code == 422
    assert client.get("/data/downloads", params={"offset": 10_000_000}).status_code == 422
    # a month or format that is not one is ignored, not an error
    assert _rows(client.get("/data/downloads", params={"month": "2026-13", "format": "EXE"}).text) == 7
    assert _rows(client.get("/data/downloads", params={"month": "2026-03"}).text) == 7
    assert _rows(client.get("/data/downloads", params={"month": "2026-04"}).text) == 0


def test_month_bounds_are_the_county_s_months() -> None:
    start, end = downloads.month_bounds("2026-01")
    assert (start, end) == (datetime(2025, 12, 31, 16, tzinfo=UTC), datetime(2026, 1, 31, 16, tzinfo=UTC))
    with pytest.raises(errors.ValidationFailed):
        downloads.month_bounds("2026-1")


def test_a_download_is_sent_even_when_its_record_cannot_be_written(client, opened, monkeypatch) -> None:
    from sqlalchemy.exc import OperationalError

    def busy(*args, **kwargs):
        raise OperationalError("INSERT", None, Exception("database is locked"))

    monkeypatch.setattr(downloads, "record", busy)
    r = client.get("/open/datasets/qiye-dengji/download.csv")
    assert r.status_code == 200 and "甲公司" in r.text
