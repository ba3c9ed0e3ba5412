"""``countyos geo …`` and ``countyos grid …``: set up the county, import data, check it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.orm import Session

from countyos.core import migrate
from countyos.core.actor import Actor
from countyos.core.db import Database
from countyos.core.errors import CountyError
from countyos.core.settings import get_settings
from countyos.geo import flows
from countyos.geo.models import DivisionLevel
from countyos.geo.service import basemap, divisions, grids, lookup, packaged, tilerender, validate
from countyos.geo.service.importing import ImportReport

NAME = "geo"
app = typer.Typer(help="Spatial data: divisions, grids, components", no_args_is_help=True)
grid_app = typer.Typer(help="Unit grids (单元网格)", no_args_is_help=True)
app.add_typer(grid_app, name="grid")
GROUPS = {"grid": grid_app}  # also `countyos grid …`

ACTOR = Actor(id=None, name="cli")


@contextmanager
def _session(write: bool = True) -> Iterator[Session]:
    url = get_settings().database_url
    if migrate.current(url) is None:
        typer.secho(
            "The database has no schema yet; run `countyos init` (or `countyos db upgrade`) first.", fg="red", err=True
        )
        raise typer.Exit(2)
    db = Database(url)
    try:
        with db.unit_of_work() if write else db.reading() as s:
            yield s
    except CountyError as exc:
        typer.secho(exc.message, fg="red", err=True)
        for e in getattr(exc, "errors", [])[:50]:
            typer.secho(f"  {json.dumps(e, ensure_ascii=False)}", fg="red", err=True)
        raise typer.Exit(2) from exc
    finally:
        db.dispose()


@app.command()
def bootstrap(
    county: Annotated[str, typer.Option(help="6-digit county code (GB/T 2260), e.g. 331123")],
    boundary: Annotated[
        Path | None,
        typer.Option(help="County boundary file, when the packaged one is missing or a surveyed one is preferred"),
    ] = None,
    crs: Annotated[
        str | None, typer.Option(help="CRS of the boundary file when it does not say (EPSG code, gcj02, bd09)")
    ] = None,
) -> None:
    """Create the county with its townships and villages from packaged data (works offline)."""
    geom, used = (None, "EPSG:4326")
    if boundary is not None:
        try:
            geom, used = flows.boundary_from_file(boundary, crs)
        except CountyError as exc:
            typer.secho(exc.message, fg="red", err=True)
            raise typer.Exit(2) from exc
    with _session() as s:
        r = divisions.bootstrap(
            s,
            actor=ACTOR,
            county_code=county,
            boundary=geom,
            boundary_source=boundary.name if boundary else None,
            boundary_crs=used,
        )
    typer.echo(
        f"{r.county_name} ({r.county_code}): boundary from {r.boundary_source}, {r.townships} townships, "
        f"{r.villages} villages ({packaged.NBS_EDITION} codes; their boundaries are approximate until "
        f"surveyed ones are imported with `countyos geo import divisions FILE`)."
    )
    typer.echo("Next: `countyos grid generate --cell 500` to cut the villages into unit grids.")


def _print_report(report: ImportReport) -> None:
    typer.echo(
        f"{report.imported} imported, {report.skipped} skipped of {report.total} rows"
        + (f" (source CRS {report.source_crs})" if report.source_crs else "")
        + "."
    )
    for e in report.errors[:200]:
        d = e.as_dict()
        typer.secho(f"  row {d['row']}: {d['field'] or ''} {d['code'] or ''} — {d['message']}", fg="yellow")
    for n in report.notes:
        typer.echo(f"  note: {n}")


@app.command("import")
def import_cmd(
    kind: Annotated[str, typer.Argument(help="divisions, grids or components")],
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    crs: Annotated[
        str | None,
        typer.Option(
            help="Source CRS when the file does not say (e.g. EPSG:4549, "
            "gcj02); for CSV/Excel components the CRS of lon/lat"
        ),
    ] = None,
    skip_bad_rows: Annotated[
        bool, typer.Option("--skip-bad-rows", help="Import the good rows of a file that has bad ones")
    ] = False,
    replace: Annotated[bool, typer.Option("--replace", help="Grids: overwrite grids with the same code")] = False,
    level: Annotated[str | None, typer.Option(help="Divisions: county, township or village only")] = None,
) -> None:
    """Import surveyed boundaries, grids or components; a bad row rejects the file unless --skip-bad-rows."""
    lvl = DivisionLevel(level) if level else None
    with _session() as s:
        report = flows.import_path(
            s, actor=ACTOR, kind=kind, path=file, crs=crs, skip_bad_rows=skip_bad_rows, replace=replace, level=lvl
        )
    _print_report(report)


@app.command("validate")
def validate_cmd(
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON")] = False,
    min_grid_m2: Annotated[float, typer.Option(help="Grids smaller than this are slivers")] = 2000.0,
) -> None:
    """Report overlaps, gaps, duplicate codes and slivers, each with a location; exit 1 when any."""
    with _session(write=False) as s:
        report = validate.validate(s, min_grid_m2=min_grid_m2)
    if as_json:
        typer.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=1))
    else:
        typer.echo(f"County {report.county_code}: {report.grids} grids checked.")
        for f in report.findings:
            typer.echo(
                f"  {f.kind:<15} {f.layer:<9} {' '.join(f.codes):<33} at {f.lon:.6f},{f.lat:.6f}"
                + (f"  {f.area_m2:.0f} m²" if f.area_m2 else "")
                + (f"  {f.detail}" if f.detail else "")
            )
        typer.echo(
            "No problems found."
            if report.ok
            else "Found: " + ", ".join(f"{n} {k}" for k, n in sorted(report.by_kind().items()))
        )
    if not report.ok:
        raise typer.Exit(1)


@app.command("locate")
def locate_cmd(lon: float, lat: float, crs: Annotated[str, typer.Option()] = "wgs84") -> None:
    """Print the township, village and grid of a point."""
    with _session(write=False) as s:
        p = lookup.locate(s, lon=lon, lat=lat, crs=crs)
    typer.echo(json.dumps(p.__dict__, ensure_ascii=False))


@app.command("counties")
def counties_cmd(search: Annotated[str, typer.Argument(help="Part of a name or a code prefix")]) -> None:
    """Find county codes in the packaged list (e.g. `countyos geo counties 遂昌`)."""
    try:
        names = packaged.county_names()
    except CountyError as exc:
        typer.secho(exc.message, fg="red", err=True)
        raise typer.Exit(2) from exc
    with_boundary = packaged.boundary_codes()
    found = [(c, n) for c, n in names.items() if c.startswith(search) or search in n]
    for c, n in found[:100]:
        typer.echo(f"{c}  {n}" + ("" if c in with_boundary else "  (no packaged boundary: use --boundary)"))
    if not found:
        typer.echo("No county matches.")


@app.command("basemap")
def basemap_cmd(
    output: Annotated[
        Path | None, typer.Option(help="MBTiles file to write (default: the configured map_mbtiles)")
    ] = None,
    min_zoom: Annotated[int, typer.Option(min=0, max=18)] = 8,
    max_zoom: Annotated[int, typer.Option(min=0, max=18)] = 15,
    max_tiles: Annotated[
        int, typer.Option(min=1, max=200_000, help="Bound on the tiles written; higher zooms are dropped past it")
    ] = basemap.DEFAULT_MAX_TILES,
) -> None:
    """Render the county's base layer (land by township, boundaries, place names) into an MBTiles file
    that CountyOS serves at /api/v1/geo/tiles — no internet or tile server needed."""
    settings = get_settings()
    path = output or basemap.local_path(settings)
    with _session() as s:
        r = tilerender.render(s, actor=ACTOR, path=path, min_zoom=min_zoom, max_zoom=max_zoom, max_tiles=max_tiles)
    typer.echo(
        f"{r.tiles} tiles, zoom {r.min_zoom}–{r.max_zoom}, {r.bytes / 1e6:.1f} MB in {r.seconds:.1f} s: {r.path}"
    )
    if r.dropped_zooms:
        typer.secho(
            f"Zooms {r.dropped_zooms[0]}–{r.dropped_zooms[-1]} left out (more than {max_tiles} tiles); "
            "raise --max-tiles to include them.",
            fg="yellow",
        )
    if settings.map_tile_url:
        typer.secho("Note: map_tile_url is set, so maps use that server instead of this file.", fg="yellow")


@grid_app.command("generate")
def grid_generate(
    cell: Annotated[float | None, typer.Option(help="Cell size in metres (square lattice)")] = None,
    households: Annotated[
        int | None, typer.Option(help="Target households per grid (needs village household counts)")
    ] = None,
    replace: Annotated[bool, typer.Option("--replace", help="Delete the existing grids first")] = False,
) -> None:
    """Cut every village/community into unit grids with 15-digit codes (west→east, north→south)."""
    with _session() as s:
        r = grids.generate(s, actor=ACTOR, cell_m=cell, households_per_grid=households, replace=replace)
    typer.echo(
        f"{r.grids} grids in {r.villages} villages; {r.components_relocated} components moved to a new "
        "grid. Check them with `countyos geo validate`."
    )
