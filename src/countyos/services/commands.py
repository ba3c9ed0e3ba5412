"""``countyos services …``: the matter catalogue in and out of Excel.

``import FILE.xlsx [--skip-bad-rows]`` prints one line per problem (sheet, row, column, message, in
Chinese) and one per matter; it exits 0 when everything was imported, 1 when the file was refused
(nothing written) or some rows were skipped, and 2 when the file cannot be read at all.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.orm import Session

from countyos.core import i18n, migrate
from countyos.core.actor import Actor
from countyos.core.db import Database
from countyos.core.errors import CountyError
from countyos.core.settings import get_settings
from countyos.services.service import excel

NAME = "services"
app = typer.Typer(help="Government services (一网通办): the matter catalogue", no_args_is_help=True)
ACTOR = Actor(id=None, name="cli")
RESULTS = {"created": "新建", "new_version": "新版本", "unchanged": "未变", "skipped": "跳过"}


@contextmanager
def _session(*, write: bool) -> Iterator[Session]:
    url = get_settings().database_url
    if migrate.current(url) is None:
        typer.secho(
            "The database has no schema yet; run `countyos init` (or `countyos db upgrade`) first.", fg="red", err=True
        )
        raise typer.Exit(2)
    db = Database(url)
    try:
        with i18n.use_locale("zh_CN"), db.unit_of_work() if write else db.reading() as s:
            yield s
    except CountyError as exc:
        with i18n.use_locale("zh_CN"):
            typer.secho(exc.message, fg="red", err=True)
        raise typer.Exit(2) from exc
    finally:
        db.dispose()


@app.command("import")
def import_matters(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="the .xlsx workbook")],
    skip_bad_rows: Annotated[bool, typer.Option("--skip-bad-rows", help="import the good rows, skip the bad")] = False,
) -> None:
    """Import matters from Excel with the GB/T 39046 Chinese column headers (事项, 申请材料, 办理流程)."""
    if file.stat().st_size > excel.MAX_FILE_BYTES:
        typer.secho("文件过大", fg="red", err=True)
        raise typer.Exit(2)
    with _session(write=True) as s:
        report = excel.import_workbook(s, actor=ACTOR, data=file.read_bytes(), skip_bad_rows=skip_bad_rows)
        for p in report.problems:
            column = f" 列「{p.column}」" if p.column else ""
            typer.secho(f"{p.sheet} 第 {p.row} 行{column}：{p.message}", fg="red", err=True)
        for r in report.rows:
            typer.echo(f"第 {r.row} 行 {r.code} {r.name}：{RESULTS[r.result]}")
        if not report.applied:
            s.rollback()
    if not report.applied:
        typer.secho(
            f"有 {len(report.problems)} 处错误，未导入任何事项（可加 --skip-bad-rows 跳过错误行）", fg="red", err=True
        )
        raise typer.Exit(1)
    typer.echo(
        f"新建 {report.count('created')} 项，新版本 {report.count('new_version')} 项，"
        f"未变 {report.count('unchanged')} 项，跳过 {report.count('skipped')} 项"
    )
    if report.count("skipped"):
        raise typer.Exit(1)


@app.command("export-matters")
def export_matters(file: Annotated[Path, typer.Argument(dir_okay=False, help="the .xlsx workbook to write")]) -> None:
    """Write the catalogue (every matter's current version) to Excel with the standard's headers."""
    with _session(write=False) as s:
        data = excel.export_workbook(s)
    file.write_bytes(data)
    typer.echo(f"已导出到 {file}")
