"""The resource catalogue in Excel: round trip, a hand-written workbook with codes as numbers and as
names, per-row problems with sheet/row/column (nothing written) and ``skip_bad_rows``, updates of drafts
only, formula neutralisation, the API routes and the ``countyos data`` commands."""

from __future__ import annotations

import io
from typing import Any

import pytest
import typer
from openpyxl import Workbook, load_workbook
from typer.testing import CliRunner

from countyos.core.actor import Actor
from countyos.core.errors import ValidationFailed
from countyos.core.settings import reset_settings
from countyos.data import commands
from countyos.data.lifecycle import Action, State
from countyos.data.models import Resource
from countyos.data.schemas import ActionIn, ResourceOut
from countyos.data.service import catalogue, excel
from countyos.org.service import departments, uscc
from tests.conftest import DATABASE_URL
from tests.data.conftest import BUREAU, entry
from tests.factories import login, person

MARKET_USCC = "11331123MB" + "1234567"
MARKET_USCC += uscc.check_char(MARKET_USCC)
RESOURCE_HEADERS = ["信息资源分类1", "信息资源名称", "信息资源代码", "英文标识", "信息资源提供方", "信息资源提供方代码",
                    "信息资源摘要", "共享类型", "共享条件", "共享方式", "是否向社会开放", "开放类型", "开放条件",
                    "更新周期", "数据分级", "敏感级别", "关键字", "主题"]  # fmt: skip
ITEM_HEADERS = ["信息资源代码", "序号", "中文名称", "英文名称", "数据类型", "数据长度", "是否主键", "是否可空",
                "是否敏感", "共享属性", "开放属性"]  # fmt: skip
RULE_HEADERS = ["信息资源代码", "英文名称", "规则", "参数"]
GETI = "331123-SCJG-0002"  # 个体工商户登记信息: codes written as the standard's numbers
SHIPIN = "331123-SCJG-0003"  # 食品经营许可信息: codes written as names


def _snapshot(db) -> dict[str, dict[str, Any]]:
    """Every entry as the API shows it, without what the database assigns."""
    skip = {"id", "uid", "version", "current_load_id", "published_on", "state", "review_note"}
    with db.reading() as s:
        return {r.code: ResourceOut.model_validate(r).model_dump(exclude=skip) for r in excel.all_resources(s)}


def _workbook(resources: list[dict], items: list[list], rules: list[list], *, title: bool = True) -> bytes:
    """A workbook as another county writes it: its own sheet names, a title row above the headers."""
    wb = Workbook()
    sheets = [
        ("政务信息资源目录", RESOURCE_HEADERS, [[r.get(h) for h in RESOURCE_HEADERS] for r in resources]),
        ("信息项清单", ITEM_HEADERS, items),
        ("规则", RULE_HEADERS, rules),
    ]
    for n, (name, headers, rows) in enumerate(sheets):
        ws = wb.active if n == 0 else wb.create_sheet()
        ws.title = name
        if title:
            ws.append([f"某县{name}（2026年版）"])
        ws.append(headers)
        for row in rows:
            ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _geti(**changes: Any) -> dict[str, Any]:
    row = {"信息资源分类1": "基础信息", "信息资源名称": "个体工商户登记信息", "信息资源代码": GETI,
           "英文标识": "geti-gongshanghu", "信息资源提供方代码": MARKET_USCC, "信息资源摘要": "个体工商户登记事项",
           "共享类型": 2, "共享条件": "仅限政务用途", "共享方式": 1, "是否向社会开放": "否", "更新周期": 5,
           "数据分级": "一般", "敏感级别": 2, "关键字": "个体、登记", "主题": "市场监管"}  # fmt: skip
    return row | changes


def _shipin(**changes: Any) -> dict[str, Any]:
    row = {"信息资源分类1": "主题信息", "信息资源名称": "食品经营许可信息", "信息资源代码": SHIPIN,
           "英文标识": "shipin-xuke", "信息资源提供方": "测试市场监督管理局", "共享类型": "无条件共享",
           "共享方式": "共享平台方式", "是否向社会开放": "是", "开放类型": "有条件开放",
           "开放条件": "实名注册后下载", "更新周期": "每季度", "数据分级": "一般", "敏感级别": "1级",
           "关键字": "食品，许可"}  # fmt: skip
    return row | changes


ITEMS = [
    [GETI, 2, "经营者姓名", "operator", "字符", 50, "否", "否", "是", "是", "否"],
    [GETI, 1, "统一社会信用代码", "uscc", 1, 18, "是", "否", "否", "是", "否"],
    [GETI, 3, "登记日期", "registered", 2, None, "否", "是", "否", "是", "否"],
    [SHIPIN, 1, "许可证编号", "licence_no", "字符", 20, "是", "否", "否", "是", "是"],
    [SHIPIN, 2, "有效期至", "valid_until", "日期", None, "否", "是", "否", "是", "是"],
    [SHIPIN, 3, "经营面积", "area", 0, None, "否", "是", "否", "是", "是"],
]
RULES = [
    [GETI, "uscc", "统一社会信用代码", None],
    [GETI, "uscc", "unique", None],
    [SHIPIN, "area", "数值范围", '{"min": 0, "max": 100000}'],
]


@pytest.fixture
def market_uscc(db, office) -> str:
    with db.unit_of_work() as s:
        departments.update(s, actor=BUREAU, department_id=office.market, changes={"uscc": MARKET_USCC})
    return MARKET_USCC


def _publish(s, res: Resource) -> None:
    for action in (Action.SUBMIT, Action.APPROVE):
        res = catalogue.act(s, actor=BUREAU, resource_id=res.id, data=ActionIn(action=action, version=res.version))


def _problems(report: excel.ImportReport) -> list[tuple[str, int, str | None]]:
    return [(p.sheet, p.row, p.column) for p in report.problems]


def test_export_then_import_changes_nothing_and_rebuilds_the_same(db, office, market_uscc) -> None:
    with db.unit_of_work() as s:
        _publish(s, catalogue.create(s, actor=BUREAU, data=entry(office.market)))
        catalogue.create(
            s,
            actor=BUREAU,
            data=entry(
                office.market,
                name="shipin-xuke",
                code=SHIPIN,
                title="食品经营许可信息",
                share_type="none",
                share_condition="涉及商业秘密",
                share_method="media",
                open_type="closed",
                update_cycle="half_yearly",
                grade="important",
                sensitivity=3,
                items=[{"name": "area", "label": "经营面积", "type": "number", "length": 12}],
                rules=[
                    {"kind": "range", "column": "area", "params": {"min": 0, "max": 1e5}},
                    {"kind": "code_list", "column": "area", "params": {"values": ["1", "2"]}},
                ],
            ),
        )
    before = _snapshot(db)
    with db.reading() as s:
        data = excel.export_workbook(s)
    wb = load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["信息资源", "信息项", "质量规则"]
    headers = [c.value for c in wb["信息资源"][1]]
    assert headers[:9] == ["信息资源分类1", "信息资源分类2", "信息资源分类3", "信息资源分类4", "信息资源名称",
                           "信息资源代码", "英文标识", "信息资源提供方", "信息资源提供方代码"]  # fmt: skip
    rows = [dict(zip(headers, r, strict=True)) for r in wb["信息资源"].iter_rows(min_row=2, values_only=True)]
    assert [
        (r["共享类型"], r["共享方式"], r["开放类型"], r["是否向社会开放"], r["更新周期"], r["数据分级"]) for r in rows
    ] == [
        ("无条件共享", "共享平台方式", "无条件开放", "是", "每月", "一般"),
        ("不予共享", "介质方式", "不开放", "否", "每半年", "重要"),
    ]
    assert (rows[0]["目录状态"], rows[1]["目录状态"], rows[0]["信息资源提供方代码"]) == (
        "已发布",
        "编制中",
        market_uscc,
    )
    assert rows[0]["关键字"] == "企业、登记" and rows[0]["发布日期"] is not None
    items = list(wb["信息项"].iter_rows(min_row=2, values_only=True))
    assert items[1] == ("331123-SCJG-0001", 2, "统一社会信用代码", "uscc", "字符", None, "是", "是", "否", "是", "是")
    assert items[4][4] == "小数"
    rules = list(wb["质量规则"].iter_rows(min_row=2, values_only=True))
    assert rules[-2] == (SHIPIN, "area", "数值范围", '{"min": 0, "max": 100000.0}')

    with db.unit_of_work() as s:
        report = excel.import_workbook(s, actor=BUREAU, data=data)
    assert report.applied and not report.problems
    assert [(r.code, r.result) for r in report.rows] == [("331123-SCJG-0001", "unchanged"), (SHIPIN, "unchanged")]
    assert _snapshot(db) == before
    # into an empty catalogue: the same entries, items and rules, as drafts
    with db.unit_of_work() as s:
        for res in s.query(Resource).all():
            s.delete(res)
    with db.unit_of_work() as s:
        report = excel.import_workbook(s, actor=BUREAU, data=data)
    assert (report.created, report.updated, report.unchanged) == (2, 0, 0)
    assert _snapshot(db) == before
    with db.reading() as s:
        assert {r.state for r in excel.all_resources(s)} == {State.DRAFT}


def test_import_reads_codes_as_numbers_and_as_names(db, office, market_uscc) -> None:
    data = _workbook([_geti(), _shipin()], ITEMS, RULES)
    with db.unit_of_work() as s:
        report = excel.import_workbook(s, actor=office.provider_actor(), data=data)
    assert report.applied and not report.problems, _problems(report)
    assert [(r.row, r.code, r.result) for r in report.rows] == [(3, GETI, "created"), (4, SHIPIN, "created")]
    with db.reading() as s:
        geti, shipin = excel.all_resources(s)
        assert (geti.provider_id, geti.state, geti.share_type, geti.share_method, geti.open_type) == (
            office.market, State.DRAFT, "conditional", "platform", "closed",
        )  # fmt: skip
        assert (geti.update_cycle, geti.sensitivity, geti.keywords, geti.themes) == (
            "monthly",
            2,
            ["个体", "登记"],
            ["市场监管"],
        )
        assert [(i.name, i.type, i.length, i.is_key, i.nullable, i.sensitive) for i in geti.items] == [
            ("uscc", "text", 18, True, False, False),  # ordered by 序号
            ("operator", "text", 50, False, False, True),
            ("registered", "date", 0, False, True, False),
        ]
        assert geti.rules == [{"kind": "uscc", "column": "uscc", "params": {}},
                              {"kind": "unique", "column": "uscc", "params": {}}]  # fmt: skip
        assert (shipin.provider_id, shipin.share_type, shipin.open_type, shipin.open_condition) == (
            office.market, "unconditional", "conditional", "实名注册后下载",
        )  # fmt: skip
        assert (shipin.update_cycle, shipin.sensitivity, shipin.keywords) == ("quarterly", 1, ["食品", "许可"])
        assert [(i.name, i.type, i.open) for i in shipin.items] == [
            ("licence_no", "text", True), ("valid_until", "date", True), ("area", "number", True),
        ]  # fmt: skip
        assert shipin.rules == [{"kind": "range", "column": "area", "params": {"min": 0.0, "max": 100000.0}}]
    # the same file again: nothing changed
    with db.unit_of_work() as s:
        report = excel.import_workbook(s, actor=office.provider_actor(), data=data)
    assert (report.created, report.unchanged) == (0, 2)


def test_bad_rows_reject_the_file_and_skip_bad_rows_imports_the_rest(db, office, market_uscc) -> None:
    resources = [
        _geti(),
        _shipin(**{"信息资源代码": "X-1", "英文标识": "x-1", "共享类型": "部分共享"}),
        _shipin(**{"信息资源代码": "X-2", "英文标识": "x-2", "共享类型": 2}),  # 共享条件 missing
        _shipin(**{"信息资源代码": "X-3", "英文标识": "x-3", "信息资源提供方": "不存在的局"}),
        _shipin(),
    ]
    items = [*ITEMS, ["X-9", 1, "名称", "name", "字符", None, "否", "是", "否", "是", "否"]]
    rules = [*RULES, [SHIPIN, "nope", "非空", None]]
    data = _workbook(resources, items, rules)
    with db.unit_of_work() as s:
        report = excel.import_workbook(s, actor=BUREAU, data=data)
    assert not report.applied
    assert _problems(report) == [
        ("政务信息资源目录", 4, "共享类型"),
        ("政务信息资源目录", 5, "共享条件"),
        ("政务信息资源目录", 6, "信息资源提供方"),
        ("信息项清单", 9, "信息资源代码"),
        ("规则", 6, "英文名称"),
    ]
    messages = [p.message_id % p.params for p in report.problems]
    assert messages[0] == "Not one of the choices: 部分共享" and messages[2] == "No such department: 不存在的局"
    assert messages[1] == "共享条件 is required unless the resource is shared unconditionally."
    assert messages[4] == "A quality rule names a column that is not an information item."
    assert {r.result for r in report.rows} == {"skipped"}
    assert _snapshot(db) == {}

    with db.unit_of_work() as s:
        report = excel.import_workbook(s, actor=BUREAU, data=data, skip_bad_rows=True)
    assert report.applied and len(report.problems) == 5
    assert [(r.code, r.result) for r in report.rows] == [
        (GETI, "created"), ("X-1", "skipped"), ("X-2", "skipped"), ("X-3", "skipped"), (SHIPIN, "skipped"),
    ]  # fmt: skip
    assert list(_snapshot(db)) == [GETI]


def test_unreadable_files_are_refused_whole(db, office) -> None:
    with db.unit_of_work() as s, pytest.raises(ValidationFailed):
        excel.import_workbook(s, actor=BUREAU, data=b"not a workbook")
    wb = Workbook()
    wb.active.append(["名称", "代码"])
    buf = io.BytesIO()
    wb.save(buf)
    with db.unit_of_work() as s, pytest.raises(ValidationFailed) as exc:
        excel.import_workbook(s, actor=BUREAU, data=buf.getvalue())
    assert "信息资源名称" in exc.value.message


def test_an_import_updates_a_draft(db, office, market_uscc) -> None:
    with db.unit_of_work() as s:
        excel.import_workbook(s, actor=BUREAU, data=_workbook([_geti(), _shipin()], ITEMS, RULES))
    renamed = _workbook([_geti(**{"信息资源名称": "个体户登记"}), _shipin()], ITEMS, RULES)
    with db.unit_of_work() as s:
        report = excel.import_workbook(s, actor=office.provider_actor(), data=renamed)
    assert [r.result for r in report.rows] == ["updated", "unchanged"]
    assert _snapshot(db)[GETI]["title"] == "个体户登记"


def test_an_import_changes_drafts_only_of_departments_the_actor_edits(db, office, market_uscc) -> None:
    data = _workbook([_geti(), _shipin()], ITEMS, RULES)
    with db.unit_of_work() as s:
        excel.import_workbook(s, actor=BUREAU, data=data)
        _publish(s, catalogue.by_name(s, "shipin-xuke"))
    new = _geti(**{"信息资源代码": "N-1", "英文标识": "n-1"})
    changed = _workbook([_geti(), _shipin(**{"信息资源名称": "食品许可"}), new], ITEMS, RULES)
    with db.unit_of_work() as s:
        report = excel.import_workbook(s, actor=office.provider_actor(), data=changed)
    assert not report.applied and _problems(report) == [("政务信息资源目录", 4, None)]
    assert report.problems[0].message_id % report.problems[0].params == (
        "The entry is 已发布: an import changes only entries being drafted (编制中)."
    )
    assert list(_snapshot(db)) == [GETI, SHIPIN]  # N-1, a good row, was undone with the file
    with db.unit_of_work() as s:
        report = excel.import_workbook(s, actor=office.provider_actor(), data=changed, skip_bad_rows=True)
    assert [r.result for r in report.rows] == ["unchanged", "skipped", "created"]

    # another department's staff may not write the market bureau's entries, but may pass them unchanged
    teacher = Actor(id=None, name="t", permissions=frozenset({catalogue.MANAGE}), department_id=office.other)
    with db.unit_of_work() as s:
        report = excel.import_workbook(s, actor=teacher, data=data)
    assert report.applied and [r.result for r in report.rows] == ["unchanged", "unchanged"]
    for row in (_geti(**{"英文标识": "geti-2"}), _geti(**{"信息资源代码": "N-2", "英文标识": "n-2"})):
        with db.unit_of_work() as s:
            report = excel.import_workbook(s, actor=teacher, data=_workbook([row], [], []))
        assert not report.applied and _problems(report) == [("政务信息资源目录", 3, "信息资源提供方")]
        assert report.problems[0].message_id.startswith("Only the provider department's data staff")


def test_a_formula_is_exported_as_text_and_read_back_as_typed(db, office) -> None:
    with db.unit_of_work() as s:
        catalogue.create(s, actor=BUREAU, data=entry(office.market, summary="=1+1", title="@SUM(A1)"))
    with db.reading() as s:
        data = excel.export_workbook(s)
    ws = load_workbook(io.BytesIO(data))["信息资源"]
    row = dict(zip([c.value for c in ws[1]], [c.value for c in ws[2]], strict=True))
    assert (row["信息资源摘要"], row["信息资源名称"]) == ("'=1+1", "'@SUM(A1)")
    assert ws["J2"].data_type == "s"
    with db.unit_of_work() as s:
        report = excel.import_workbook(s, actor=BUREAU, data=data)
    assert [r.result for r in report.rows] == ["unchanged"]


# -- the API --------------------------------------------------------------------------------------


@pytest.fixture
def api(client):
    return client


def test_api_exports_what_the_caller_sees_and_imports_a_workbook(api, db, office, market_uscc, monkeypatch) -> None:
    with db.unit_of_work() as s:
        _publish(s, catalogue.create(s, actor=BUREAU, data=entry(office.other)))  # published: everyone sees it
        catalogue.create(s, actor=BUREAU, data=entry(office.other, name="x-draft", code="X-DRAFT"))  # not ours
    staff = person(db, ["data_provider"], department_id=office.market)
    h = {"X-CSRF-Token": login(api, staff)}

    data = _workbook([_geti(), _shipin()], ITEMS, RULES)
    r = api.post("/api/v1/data/resources/import", files={"file": ("c.xlsx", io.BytesIO(data))}, headers=h)
    assert r.status_code == 200, r.text
    assert (r.json()["applied"], r.json()["created"], r.json()["rows"][0]["code"]) == (True, 2, GETI)

    r = api.get("/api/v1/data/resources.xlsx")
    assert r.status_code == 200 and r.headers["content-disposition"].startswith("attachment")
    codes = [row[5] for row in load_workbook(io.BytesIO(r.content))["信息资源"].iter_rows(min_row=2, values_only=True)]
    assert codes == ["331123-SCJG-0001", GETI, SHIPIN]  # not the other department's draft

    new = _geti(**{"信息资源代码": "N-1", "英文标识": "n-1"})
    bad = _workbook([_geti(), _shipin(**{"共享类型": "部分共享"}), new], ITEMS, RULES)
    r = api.post("/api/v1/data/resources/import", files={"file": ("c.xlsx", io.BytesIO(bad))}, headers=h)
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    assert [(e["sheet"], e["row"], e["field"]) for e in r.json()["errors"]] == [("政务信息资源目录", 4, "共享类型")]
    r = api.post(
        "/api/v1/data/resources/import",
        files={"file": ("c.xlsx", io.BytesIO(bad))},
        data={"skip_bad_rows": "true"},
        headers=h,
    )
    assert r.status_code == 200 and [row["result"] for row in r.json()["rows"]] == ["unchanged", "skipped", "created"]
    assert r.json()["problems"][0]["column"] == "共享类型"

    r = api.post("/api/v1/data/resources/import", files={"file": ("c.xlsx", io.BytesIO(b"nope"))}, headers=h)
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    monkeypatch.setattr(excel, "MAX_FILE_BYTES", 1000)
    r = api.post("/api/v1/data/resources/import", files={"file": ("c.xlsx", io.BytesIO(data))}, headers=h)
    assert r.status_code == 413


def test_api_import_needs_the_manage_permission(api, db, office) -> None:
    h = {"X-CSRF-Token": login(api, person(db, [], department_id=office.market))}
    data = _workbook([_geti()], [], [])
    r = api.post("/api/v1/data/resources/import", files={"file": ("c.xlsx", io.BytesIO(data))}, headers=h)
    assert r.status_code == 403
    assert api.get("/api/v1/data/resources.xlsx").status_code == 200
    api.post("/logout", headers=h)
    assert api.get("/api/v1/data/resources.xlsx").status_code == 401


# -- the commands ---------------------------------------------------------------------------------

runner = CliRunner()
root = typer.Typer()
root.add_typer(commands.app, name=commands.NAME)  # as cli.main() mounts it


def data_command(*args: str):
    reset_settings()
    try:
        return runner.invoke(root, ["data", *args], env={"COUNTYOS_DATABASE_URL": DATABASE_URL})
    finally:
        reset_settings()


def test_commands_import_and_export_the_catalogue(db, office, market_uscc, tmp_path) -> None:
    good = tmp_path / "good.xlsx"
    good.write_bytes(_workbook([_geti(), _shipin()], ITEMS, RULES))
    r = data_command("import-catalogue", str(good))
    assert r.exit_code == 0, r.output
    assert f"row 3 {GETI} 个体工商户登记信息: created" in r.output
    r = data_command("import-catalogue", str(good))
    assert r.exit_code == 0 and "unchanged 2" in r.output

    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(_workbook([_geti(**{"信息资源代码": "X-1", "英文标识": "x-1", "更新周期": "每十年"})], [], []))
    r = data_command("import-catalogue", str(bad))
    assert r.exit_code == 1
    assert "政务信息资源目录 row 3 [更新周期]: " in r.output and "每十年" in r.output
    assert "nothing was imported" in r.output
    r = data_command("import-catalogue", str(bad), "--skip-bad-rows")
    assert r.exit_code == 1 and "skipped 1" in r.output
    assert list(_snapshot(db)) == [GETI, SHIPIN]

    junk = tmp_path / "junk.xlsx"
    junk.write_bytes(b"not a workbook")
    assert data_command("import-catalogue", str(junk)).exit_code == 2

    out = tmp_path / "out.xlsx"
    r = data_command("export-catalogue", str(out))
    assert r.exit_code == 0, r.output
    codes = [row[5] for row in load_workbook(out)["信息资源"].iter_rows(min_row=2, values_only=True)]
    assert codes == [GETI, SHIPIN]
