"""``countyos services export --kind … --from … --to … FILE``: JSON and Excel in the standard's names,
written 0600, audited; unavailable kinds, bad dates and suffixes refused with a message."""

from __future__ import annotations

import json
import stat
import types

import typer
from openpyxl import load_workbook
from sqlalchemy import select
from typer.testing import CliRunner

from countyos.core.settings import reset_settings
from countyos.org.models import AuditEvent
from countyos.services import commands
from countyos.services.models import Application
from countyos.services.service import exchange
from tests.conftest import DATABASE_URL
from tests.services.service.test_certificates import world

runner = CliRunner()
root = typer.Typer()
root.add_typer(commands.app, name=commands.NAME)


def services(*args: str):
    reset_settings()
    try:
        return runner.invoke(root, ["services", *args], env={"COUNTYOS_DATABASE_URL": DATABASE_URL})
    finally:
        reset_settings()


def test_export_applications_as_json_and_excel_readable_by_the_owner_only(db, shop, tmp_path) -> None:
    w = world(db, shop)
    with db.reading() as s:
        number = s.get(Application, w.app_id).number
    out = tmp_path / "applications.json"
    out.write_text("old")
    out.chmod(0o644)  # an old file with wider permissions is narrowed too
    r = services("export", "--kind", "applications", "--from", "2026-12-01", "--to", "2026-12-31", str(out))
    assert r.exit_code == 0, r.output
    assert "已导出 1 条记录（办事申请）" in r.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    doc = json.loads(out.read_text(encoding="utf-8"))
    (rec,) = doc["记录"]
    assert (rec["办件编号"], rec["申请者证件号码"], rec["办件类型代码"], rec["办件状态代码"]) == (
        number,
        "33112519600101123X",
        "2",
        "3",
    )

    xlsx = tmp_path / "applications.xlsx"
    r = services("export", "--from", "2026-12-01", "--to", "2026-12-31", str(xlsx))  # applications by default
    assert r.exit_code == 0, r.output
    assert stat.S_IMODE(xlsx.stat().st_mode) == 0o600
    wb = load_workbook(xlsx)
    rows = list(wb["办事申请"].iter_rows(values_only=True))
    head = dict(zip(rows[0], rows[1], strict=True))
    assert (head["办件编号"], head["申报来源代码"], head["申请者证件类型代码"], head["办结结果"]) == (
        number,
        "1",
        "111",
        "准予",
    )
    with db.reading() as s:
        audited = s.scalars(select(AuditEvent).where(AuditEvent.action == "services.exchange.export")).all()
        assert [(e.target_id, e.detail["records"], e.detail["file"]) for e in audited] == [
            ("applications", 1, "applications.json"),
            ("applications", 1, "applications.xlsx"),
        ]

    # nothing in another period
    empty = tmp_path / "empty.json"
    r = services("export", "--kind", "applications", "--from", "2026-11-01", "--to", "2026-11-30", str(empty))
    assert r.exit_code == 0 and json.loads(empty.read_text(encoding="utf-8"))["记录数"] == 0


def test_refusals_say_what_is_wrong(db, tmp_path, monkeypatch) -> None:
    out = tmp_path / "x.json"
    r = services(
        "export", "--kind", "applications", "--from", "2026-12-01", "--to", "2026-12-31", str(tmp_path / "x.csv")
    )
    assert r.exit_code == 2 and "文件名须以 .json 或 .xlsx 结尾" in r.output
    r = services("export", "--kind", "cases", "--from", "2026-12-01", "--to", "2026-12-31", str(out))
    assert r.exit_code == 2 and "未知的导出类型 cases" in r.output
    r = services("export", "--from", "2026-12", "--to", "2026-12-31", str(out))
    assert r.exit_code == 2 and "格式 YYYY-MM-DD" in r.output
    r = services("export", "--from", "2026-12-31", "--to", "2026-12-01", str(out))
    assert r.exit_code == 2 and "结束早于开始" in r.output
    # a kind whose module has not connected itself yet
    monkeypatch.setitem(
        exchange.KINDS, "ratings", exchange.Kind("ratings", "政务服务绩效评价", module="no_such_module")
    )
    r = services("export", "--kind", "ratings", "--from", "2026-12-01", "--to", "2026-12-31", str(out))
    assert r.exit_code == 2 and "尚未提供" in r.output
    assert not out.exists()


def test_another_modules_rows_are_exported_flat(db, tmp_path, monkeypatch) -> None:
    fake = types.ModuleType("countyos.services.service.fake_supervision")
    fake.exchange_rows = lambda session, *, start, end: [  # type: ignore[attr-defined]
        {"办件编号": "33112520261201000001", "监察预警类型代码": "2", "督办内容": "=1+1"}
    ]
    monkeypatch.setitem(__import__("sys").modules, fake.__name__, fake)
    monkeypatch.setitem(exchange.KINDS, "warnings", exchange.Kind("warnings", "电子监察", module="fake_supervision"))
    out = tmp_path / "warnings.xlsx"
    r = services("export", "--kind", "warnings", "--from", "2026-12-01", "--to", "2026-12-31", str(out))
    assert r.exit_code == 0, r.output
    wb = load_workbook(out)
    assert wb.sheetnames == ["电子监察"]
    assert list(wb["电子监察"].iter_rows(values_only=True)) == [
        ("办件编号", "监察预警类型代码", "督办内容"),
        ("33112520261201000001", "2", "'=1+1"),
    ]
