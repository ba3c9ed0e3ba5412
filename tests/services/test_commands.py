"""``countyos services import`` / ``export-matters``: the report in Chinese and the exit codes."""

from __future__ import annotations

import typer
from openpyxl import load_workbook
from typer.testing import CliRunner

from countyos.core.settings import reset_settings
from countyos.services import commands
from countyos.services.service import catalogue
from tests.conftest import DATABASE_URL
from tests.services.conftest import ADMIN, guide
from tests.services.service.test_excel import ROW, _standard_workbook

runner = CliRunner()
root = typer.Typer()
root.add_typer(commands.app, name=commands.NAME)  # as cli.main() mounts it


def services(*args: str):
    reset_settings()
    try:
        return runner.invoke(root, ["services", *args], env={"COUNTYOS_DATABASE_URL": DATABASE_URL})
    finally:
        reset_settings()


def test_import_export_and_exit_codes(db, shop, tmp_path) -> None:
    good = tmp_path / "good.xlsx"
    good.write_bytes(_standard_workbook([ROW], [], []))
    r = services("import", str(good))
    assert r.exit_code == 0, r.output
    assert "第 3 行 11331123MB1234567X-001 个体工商户设立登记：新建" in r.output
    r = services("import", str(good))
    assert r.exit_code == 0 and "未变 1 项" in r.output

    bad_row = list(ROW)
    bad_row[3], bad_row[9] = "11331123MB1234567X-002", "十五"
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(_standard_workbook([ROW, bad_row], [], []))
    r = services("import", str(bad))
    assert r.exit_code == 1
    assert "政务服务事项实施清单 第 4 行 列「法定办结时限」：不是整数：十五" in r.output
    assert "未导入任何事项" in r.output
    with db.reading() as s:
        assert catalogue.get_by_code(s, code="11331123MB1234567X-002") is None
    r = services("import", str(bad), "--skip-bad-rows")
    assert r.exit_code == 1 and "跳过 1 项" in r.output

    junk = tmp_path / "junk.xlsx"
    junk.write_bytes(b"not a workbook")
    r = services("import", str(junk))
    assert r.exit_code == 2 and "不是 Excel" in r.output

    with db.unit_of_work() as s:
        catalogue.create(s, actor=ADMIN, data=guide(shop))
    out = tmp_path / "out.xlsx"
    r = services("export-matters", str(out))
    assert r.exit_code == 0, r.output
    codes = [row[2] for row in load_workbook(out)["事项"].iter_rows(min_row=2, values_only=True)]
    assert codes == ["11331123MB0000001-001", "11331123MB1234567X-001"]
