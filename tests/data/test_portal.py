"""The public open-data portal: search with facets and their counts, the dataset page, and downloads in
every format — a 信息项 not marked open (法定代表人, its value 张三) appears nowhere, a conditionally
opened dataset shows its conditions and no rows."""

from __future__ import annotations

import csv
import io
import json
import re
from urllib.parse import quote

import openpyxl
import pytest

from countyos.data import flows
from countyos.data.pages import portal
from countyos.data.schemas import ActionIn
from countyos.data.service import catalogue, downloads
from tests.data.conftest import BUREAU, entry
from tests.data.test_catalogue_and_loads import GOOD

ROWS = GOOD + "=1+2,91331123MA2000009X,2022-01-01,王五\n"  # a cell a spreadsheet would run as a formula
ITEMS = [
    {"name": "name", "label": "企业名称", "type": "text", "open": True},
    {"name": "uscc", "label": "统一社会信用代码", "type": "text", "open": True, "is_key": True},
    {"name": "founded", "label": "成立日期", "type": "date", "open": True},
    {"name": "legal_person", "label": "法定代表人", "type": "text", "open": False, "sensitive": True},
]
STATIONS = {
    "type": "FeatureCollection",
    "features": [
        {"type": "Feature", "properties": {"name": "城东站", "keeper": "赵六"},
         "geometry": {"type": "Point", "coordinates": [120.1, 28.2]}},
        {"type": "Feature", "properties": {"name": "城西站", "keeper": "钱七"},
         "geometry": {"type": "Point", "coordinates": [120.0, 28.1]}},
    ],
}  # fmt: skip
NOT_OPEN = ("法定代表人", "legal_person", "张三", "李四", "王五")


def _publish(db, tmp_path, *, provider: int, filename: str = "", text: str = "", **changes) -> int:
    """A catalogue entry (企业登记信息 unless changed), loaded from TEXT when given, and published."""
    with db.unit_of_work() as s:
        rid = catalogue.create(s, actor=BUREAU, data=entry(provider, **{"items": ITEMS, "rules": [], **changes})).id
    if text:
        path = tmp_path / filename
        path.write_text(text, encoding="utf-8")
        load = flows.load_path(db, actor=BUREAU, resource_id=rid, path=path, filename=filename, skip_bad_rows=False)
        assert load.state == "loaded", load.error
    with db.unit_of_work() as s:
        for action in ("submit", "approve"):
            version = catalogue.get(s, rid).version
            catalogue.act(s, actor=BUREAU, resource_id=rid, data=ActionIn(action=action, version=version))
    return rid


@pytest.fixture
def county(db, office, tmp_path) -> dict[str, int]:
    """企业登记信息 with rows (open), 学校名录 described only (open), 个体工商户名录 with rows but opened on
    conditions, 低保对象 not open."""
    return {
        "companies": _publish(db, tmp_path, provider=office.market, filename="qy.csv", text=ROWS),
        "schools": _publish(
            db, tmp_path, provider=office.other, name="xuexiao-minglu", code="331123-JYJ-0001", title="学校名录",
            summary="全县中小学和幼儿园的名称、地址和学段", themes=["教育文化"], keywords=["学校"],
            update_cycle="yearly",
        ),
        "traders": _publish(
            db, tmp_path, provider=office.market, filename="gt.csv", text=GOOD, name="geti-gongshang",
            code="331123-SCJG-0002", title="个体工商户名录", open_type="conditional",
            open_condition="仅向签订数据使用协议的科研机构开放", keywords=["个体户"],
        ),
        "closed": _publish(
            db, tmp_path, provider=office.market, name="dibao", code="331123-MZ-0001", title="低保对象",
            open_type="closed", share_type="conditional", share_condition="仅用于社会救助核查",
        ),
    }  # fmt: skip


def _titles(html: str) -> list[str]:
    return re.findall(r'<span class="svc-name">([^<]*)</span>', html)


def _facet(html: str, field: str) -> dict[str, tuple[int, str]]:
    """A facet's values on the page: label → (count, link)."""
    block = html.split(f'id="facet-{field}"', 1)[1].split("</details>", 1)[0]
    found = re.findall(
        r'<a href="([^"]*)"[^>]*>(?:<strong>✓ )?([^<]*)(?:</strong>)?</a> <span class="badge">(\d+)', block
    )
    return {label: (int(count), href.replace("&amp;", "&")) for href, label, count in found}


def test_search_by_text_and_facets_narrows_the_results_and_counts_them(client, county) -> None:
    page = client.get("/open")
    assert page.status_code == 200
    assert sorted(_titles(page.text)) == sorted(["企业登记信息", "学校名录", "个体工商户名录"])  # 低保对象 is closed
    themes = _facet(page.text, "groups")
    assert (themes["市场监管"][0], themes["教育文化"][0]) == (2, 1)
    assert _facet(page.text, "res_format")["CSV"][0] == 1  # only rows opened unconditionally are offered
    cycles = _facet(page.text, "update_cycle")
    assert "monthly" not in cycles and "yearly" not in cycles  # codes are shown by their names
    assert "法定代表人" not in page.text and "张三" not in page.text

    assert _titles(client.get("/open", params={"q": "学校"}).text) == ["学校名录"]
    narrowed = client.get(themes["市场监管"][1])  # pick the facet value as a visitor does
    assert sorted(_titles(narrowed.text)) == ["个体工商户名录", "企业登记信息"]
    assert _facet(narrowed.text, "groups") == {"市场监管": (2, "/open")}  # picked: the link drops it again
    both = client.get(themes["市场监管"][1] + "&q=" + quote("个体户"))
    assert _titles(both.text) == ["个体工商户名录"]
    assert _titles(client.get("/open", params={"res_format": "CSV"}).text) == ["企业登记信息"]
    nothing = client.get("/open", params={"q": "不存在的数据"})
    assert nothing.status_code == 200 and 'id="open-none"' in nothing.text


def test_search_sorts_and_pages(client, county, monkeypatch) -> None:
    by_name = client.get("/open", params={"sort": "name"})
    assert _titles(by_name.text) == ["个体工商户名录", "企业登记信息", "学校名录"]  # geti-, qiye-, xuexiao-
    monkeypatch.setattr(portal, "PAGE_SIZE", 2)
    first = client.get("/open", params={"sort": "name"})
    assert _titles(first.text) == ["个体工商户名录", "企业登记信息"] and 'id="open-prev"' not in first.text
    next_href = re.search(r'<a href="([^"]*)" id="open-next"', first.text)
    assert next_href is not None
    second = client.get(next_href.group(1).replace("&amp;", "&"))
    assert _titles(second.text) == ["学校名录"] and 'id="open-next"' not in second.text


def test_query_parameters_are_bounded(client, county) -> None:
    for params in ({"q": "企" * 101}, {"page": "1001"}, {"groups": 'x" OR name:*'}, {"sort": "score"}):
        r = client.get("/open", params=params)
        assert r.status_code == 422 and r.headers["content-type"].startswith("text/html"), params
    assert client.get("/open", params={"q": "企" * 100, "page": "1000"}).status_code == 200


def test_the_dataset_page_shows_open_items_rows_downloads_and_the_api(client, county) -> None:
    page = client.get("/open/datasets/qiye-dengji")
    assert page.status_code == 200
    text = page.text
    licence = "https://creativecommons.org/licenses/by/4.0/"
    for shown in ("企业登记信息", "331123-SCJG-0001", "测试市场监督管理局", "基础信息 / 法人单位", "市场监管",
                  "企业名称", "统一社会信用代码", "成立日期", licence):  # fmt: skip
        assert shown in text, shown
    for hidden in NOT_OPEN:
        assert hidden not in text, hidden
    items = text.split('id="open-items"', 1)[1].split("</table>", 1)[0]
    assert ">name<" in items and ">founded<" in items  # the English names beside the Chinese ones
    preview = text.split('id="open-preview"', 1)[1].split("</table>", 1)[0]
    assert "甲公司" in preview and "91331123MA2000002M" in preview and "2020-05-01" in preview
    links = re.findall(r'href="(/open/datasets/qiye-dengji/download\.\w+)"', text)
    assert links == [f"/open/datasets/qiye-dengji/download.{e}" for e in ("csv", "xlsx", "json")]  # no geometry
    with client.app.state.db.reading() as s:
        uid = catalogue.get(s, county["companies"]).uid
    assert "/api/3/action/package_show?id=qiye-dengji" in text
    assert f"/api/3/action/datastore_search?resource_id={uid}" in text
    described = client.get("/open/datasets/xuexiao-minglu")
    assert described.status_code == 200 and 'id="open-no-data"' in described.text and "download." not in described.text


def test_a_conditionally_opened_dataset_shows_its_conditions_and_no_rows(client, county) -> None:
    page = client.get("/open/datasets/geti-gongshang")
    assert page.status_code == 200
    assert "仅向签订数据使用协议的科研机构开放" in page.text and 'id="open-conditional"' in page.text
    assert "甲公司" not in page.text and "download." not in page.text and "datastore_search" not in page.text
    assert 'id="open-preview"' not in page.text
    for ext in ("csv", "xlsx", "json"):
        assert client.get(f"/open/datasets/geti-gongshang/download.{ext}").status_code == 404


def test_unknown_or_closed_datasets_are_not_found(client, county) -> None:
    for path in ("/open/datasets/nope", "/open/datasets/dibao", "/open/datasets/dibao/download.csv",
                 "/open/datasets/qiye-dengji/download.geojson", "/open/datasets/qiye-dengji/download.exe"):  # fmt: skip
        r = client.get(path)
        assert r.status_code == 404 and r.headers["content-type"].startswith("text/html"), path
        assert "低保" not in r.text


def _no_closed_column(body: str) -> None:
    for hidden in NOT_OPEN:
        assert hidden not in body, hidden


def test_csv_download_has_a_bom_chinese_headers_and_neutralised_formulas(client, county) -> None:
    r = client.get("/open/datasets/qiye-dengji/download.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    disposition = r.headers["content-disposition"]
    assert disposition.startswith("attachment;") and 'filename="qiye-dengji.csv"' in disposition
    assert f"filename*=UTF-8''{quote('企业登记信息.csv')}" in disposition
    assert r.content.startswith("\ufeff".encode())
    text = r.content.decode("utf-8-sig")
    _no_closed_column(text)
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["企业名称", "统一社会信用代码", "成立日期"]
    assert rows[1] == ["甲公司", "91331123MA2000001J", "2020-05-01"]
    assert rows[3][0] == "'=1+2" and len(rows) == 4


def test_xlsx_download_has_chinese_headers_and_no_formula(client, county) -> None:
    r = client.get("/open/datasets/qiye-dengji/download.xlsx")
    assert r.status_code == 200 and r.headers["content-type"].startswith(downloads.MEDIA_TYPES["XLSX"])
    assert "attachment;" in r.headers["content-disposition"]
    ws = openpyxl.load_workbook(io.BytesIO(r.content)).active
    rows = [[c.value for c in row] for row in ws.iter_rows()]
    assert rows[0] == ["企业名称", "统一社会信用代码", "成立日期"] and len(rows) == 4
    assert rows[1][:2] == ["甲公司", "91331123MA2000001J"]
    assert rows[3][0] == "'=1+2" and ws.cell(row=4, column=1).data_type == "s"
    _no_closed_column(json.dumps(rows, default=str, ensure_ascii=False))


def test_json_download_is_an_array_of_objects_with_english_keys(client, county) -> None:
    r = client.get("/open/datasets/qiye-dengji/download.json")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    _no_closed_column(r.text)
    records = r.json()
    assert records[0] == {"name": "甲公司", "uscc": "91331123MA2000001J", "founded": "2020-05-01"}
    assert [rec["name"] for rec in records] == ["甲公司", "乙公司", "=1+2"]  # JSON is data, not a spreadsheet


def test_geojson_download_of_a_resource_with_an_open_geometry(client, db, office, tmp_path) -> None:
    items = [
        {"name": "name", "label": "站点名称", "type": "text", "open": True},
        {"name": "keeper", "label": "管理员", "type": "text", "open": False},
        {"name": "geometry", "label": "位置", "type": "geometry", "open": True},
    ]
    _publish(db, tmp_path, provider=office.market, filename="zd.geojson", text=json.dumps(STATIONS),
             name="shuiwen-zhandian", code="331123-SL-0001", title="水文站点", items=items)  # fmt: skip
    page = client.get("/open/datasets/shuiwen-zhandian")
    assert "/open/datasets/shuiwen-zhandian/download.geojson" in page.text and "赵六" not in page.text
    r = client.get("/open/datasets/shuiwen-zhandian/download.geojson")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/geo+json")
    assert "赵六" not in r.text and "keeper" not in r.text
    fc = r.json()
    assert fc["type"] == "FeatureCollection" and len(fc["features"]) == 2
    first = fc["features"][0]
    assert first["geometry"]["type"] == "Point" and first["geometry"]["coordinates"] == pytest.approx([120.1, 28.2])
    assert first["properties"] == {"name": "城东站"}
    records = client.get("/open/datasets/shuiwen-zhandian/download.json").json()
    assert records[1]["name"] == "城西站" and records[1]["geometry"]["type"] == "Point" and "keeper" not in records[1]
    body = client.get("/open/datasets/shuiwen-zhandian/download.csv").content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0] == ["站点名称", "位置"] and json.loads(rows[1][1])["type"] == "Point"
    assert "赵六" not in str(rows)


def test_a_dataset_past_the_download_bound_says_so(client, county, monkeypatch) -> None:
    monkeypatch.setattr(downloads, "MAX_DOWNLOAD_ROWS", 2)
    page = client.get("/open/datasets/qiye-dengji")
    assert 'id="open-too-large"' in page.text and "download.csv" not in page.text
    r = client.get("/open/datasets/qiye-dengji/download.csv")
    assert r.status_code == 409 and "CKAN API" in r.text
