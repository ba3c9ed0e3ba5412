"""``countyos data …``: loads of files too large to upload, dropped on the server by a department.

``load --resource CODE FILE [--skip-bad-rows]`` loads FILE (CSV, XLSX, JSON, GeoJSON, zipped Shapefile)
into a new version of the resource's data; it prints the load's counts and its first failing rows, and
exits 0 when loaded, 1 when the rows were refused or the file could not be read (nothing loaded), 2 when
the database or the resource is missing.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import select

from countyos.core import migrate
from countyos.core.actor import Actor
from countyos.core.db import Database
from countyos.core.errors import CountyError
from countyos.core.settings import get_settings
from countyos.data import flows
from countyos.data.models import LoadState, Resource
from countyos.data.service import catalogue, excel

NAME = "data"
app = typer.Typer(help="Data sharing and open data (数据共享与开放)", no_args_is_help=True)
# The server's operator acts for the data administrator (the audit log names the command line).
ACTOR = Actor(id=None, name="cli", permissions=frozenset({catalogue.MANAGE, catalogue.REVIEW}))


def _database() -> Database:
    """The configured database, or exit 2 when it has no schema yet (the caller disposes of it)."""
    url = get_settings().database_url
    if migrate.current(url) is None:
        typer.secho("The database has no schema yet; run `countyos init` first.", fg="red", err=True)
        raise typer.Exit(2)
    return Database(url)


@app.command("load")
def load(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    resource: Annotated[str, typer.Option(help="the resource's code (信息资源代码) or URL name")],
    skip_bad_rows: Annotated[bool, typer.Option(help="load the rows that pass and report the others")] = False,
) -> None:
    db = _database()
    try:
        with db.reading() as s:
            rid = s.scalar(select(Resource.id).where((Resource.code == resource) | (Resource.name == resource)))
        if rid is None:
            typer.secho(f"No resource with the code or name {resource!r}.", fg="red", err=True)
            raise typer.Exit(2)
        done = flows.load_path(
            db, actor=ACTOR, resource_id=rid, path=file, filename=file.name, skip_bad_rows=skip_bad_rows
        )
        typer.echo(
            f"load {done.number}: {done.state.value}, read {done.rows_read}, loaded {done.rows_loaded}, "
            f"failed {done.rows_failed}, {done.seconds:.1f} s"
        )
        if done.table_name is not None:  # the rows are served already; the search indexes follow
            started = time.perf_counter()
            flows.make_indexes(db, actor=ACTOR, load_id=done.id)
            typer.echo(f"search indexes: {len(done.indexes or [])}, {time.perf_counter() - started:.1f} s")
    finally:
        db.dispose()
    if done.error:
        typer.echo(done.error)
    for f in done.report.get("failures", [])[:20]:
        typer.echo(f"  row {f['row']}: {f['column']} {f['rule']} {f['value']!r}")
    raise typer.Exit(0 if done.state == LoadState.LOADED else 1)


@app.command("import-catalogue")
def import_catalogue(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="the .xlsx workbook")],
    skip_bad_rows: Annotated[bool, typer.Option(help="import the good rows and report the bad")] = False,
) -> None:
    """Import the resource catalogue from Excel with the 目录编制指南's Chinese headers (sheets 信息资源,
    信息项, 质量规则). Prints each problem (sheet, row, column) and each resource's result; exits 0 when
    everything was imported, 1 when the file was refused (nothing written) or rows were skipped, 2 when
    the file or the database cannot be used."""
    if file.stat().st_size > excel.MAX_FILE_BYTES:
        typer.secho(f"The file is larger than {excel.MAX_FILE_BYTES} bytes.", fg="red", err=True)
        raise typer.Exit(2)
    db = _database()
    try:
        with db.unit_of_work() as s:
            report = excel.import_workbook(s, actor=ACTOR, data=file.read_bytes(), skip_bad_rows=skip_bad_rows)
            if not report.applied:
                s.rollback()
    except CountyError as exc:
        typer.secho(exc.message, fg="red", err=True)
        raise typer.Exit(2) from exc
    finally:
        db.dispose()
    for p in report.problems:
        column = f" [{p.column}]" if p.column else ""
        typer.secho(f"{p.sheet} row {p.row}{column}: {p.message}", fg="red", err=True)
    for r in report.rows:
        typer.echo(f"row {r.row} {r.code} {r.title}: {r.result}")
    if not report.applied:
        typer.secho(
            f"{len(report.problems)} problems: nothing was imported (--skip-bad-rows imports the good rows)",
            fg="red",
            err=True,
        )
        raise typer.Exit(1)
    typer.echo(
        f"created {report.created}, updated {report.updated}, unchanged {report.unchanged}, skipped {report.skipped}"
    )
    raise typer.Exit(1 if report.skipped else 0)


@app.command("export-catalogue")
def export_catalogue(file: Annotated[Path, typer.Argument(dir_okay=False, help="the .xlsx workbook to write")]) -> None:
    """Write every entry of the resource catalogue to Excel with the 目录编制指南's Chinese headers."""
    db = _database()
    try:
        with db.reading() as s:
            data = excel.export_workbook(s)
    finally:
        db.dispose()
    file.write_bytes(data)
    typer.echo(f"exported to {file}")
