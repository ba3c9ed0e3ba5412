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


@app.command("export")
def export_records(
    file: Annotated[Path, typer.Argument(dir_okay=False, help="the file to write: .json or .xlsx")],
    kind: Annotated[str, typer.Option("--kind", help="applications, ratings or warnings")] = "applications",
    first: Annotated[str, typer.Option("--from", help="first day, YYYY-MM-DD (county time)")] = "",
    last: Annotated[str, typer.Option("--to", help="last day, YYYY-MM-DD (county time, included)")] = "",
) -> None:
    """Export records of a period in GB/T 39046 field names and national codes for a provincial
    connector (applications 表5–表8, ratings 表9, warnings 表11). Personal fields are in full: the
    file is written readable by its owner only (0600)."""
    import os
    from datetime import date

    from countyos.org.service import audit
    from countyos.services.service import exchange

    suffix = file.suffix.lower()
    if suffix not in (".json", ".xlsx"):
        typer.secho("文件名须以 .json 或 .xlsx 结尾", fg="red", err=True)
        raise typer.Exit(2)
    if kind not in exchange.KINDS:
        typer.secho(f"未知的导出类型 {kind}；可选：{'、'.join(exchange.KINDS)}", fg="red", err=True)
        raise typer.Exit(2)
    try:
        start, end = date.fromisoformat(first), date.fromisoformat(last)
    except ValueError:
        typer.secho("请用 --from 和 --to 给出日期，格式 YYYY-MM-DD", fg="red", err=True)
        raise typer.Exit(2) from None
    with _session(write=True) as s:
        p = exchange.period(start, end)
        records = exchange.collect(s, kind=kind, start=p.start, end=p.end)
        data = exchange.to_json(kind, p, records) if suffix == ".json" else exchange.to_xlsx(kind, records)
        fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.fchmod(fd, 0o600)  # also when the file was there before with wider permissions
            os.write(fd, data)
        finally:
            os.close(fd)
        audit.record(
            s,
            actor=ACTOR,
            action="services.exchange.export",
            target_type="services_exchange",
            target_id=kind,
            detail={"from": first, "to": last, "records": len(records), "file": file.name},
        )
    typer.echo(f"已导出 {len(records)} 条记录（{exchange.KINDS[kind].title}）到 {file}")
