"""``countyos eco`` commands of the assets part.

``countyos eco esv --landuse FILE [--mapping FILE] [--year Y] [--method cpi|grain|standard] [--json]``
measures a land-use file (GeoJSON, zipped Shapefile, GeoPackage, GeoTIFF) in the equal-area projection
and prints its ESV (Xie 2015 equivalents) without storing anything and without a database.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from countyos.core.errors import CountyError
from countyos.core.i18n import gettext


def run_esv(
    landuse_file: Path, *, mapping_file: Path | None = None, year: int | None = None, method: str | None = None
) -> dict[str, Any]:
    """The accounts of a file as the command prints them (``--json``)."""
    from countyos.eco.schemas.assets import MAX_FILE_BYTES
    from countyos.eco.service import esv, landuse_read

    if landuse_file.stat().st_size > MAX_FILE_BYTES:
        raise typer.BadParameter(f"{landuse_file} is larger than {MAX_FILE_BYTES} bytes")
    mapping = None
    if mapping_file is not None:
        mapping = landuse_read.mapping_from(mapping_file.read_bytes(), name=mapping_file.stem)
    measured = landuse_read.measure(landuse_file.read_bytes(), filename=landuse_file.name, mapping=mapping)
    unit = esv.unit_value(year=year, method=method)
    acc = esv.account(measured.areas.get("", {}), unit)
    body = acc.as_dict()
    return {
        "file": landuse_file.name,
        "kind": str(measured.kind),
        "crs": measured.crs,
        "class_field": measured.field,
        "projection": landuse_read.ALBERS,
        "year": unit.year,
        "method": str(unit.method),
        "unit_value": body["unit_value"],
        "areas_ha": landuse_read.rounded(measured.areas.get("", {})),
        "total_area_ha": round(measured.total_ha, 4),
        "esv_by_class": body["esv_by_class"],
        "esv_by_service": body["esv_by_service"],
        "esv_by_class_yi_yuan": {k: round(v / esv.YUAN_PER_YI, 6) for k, v in acc.by_class.items()},
        "esv_by_service_yi_yuan": {k: round(v / esv.YUAN_PER_YI, 6) for k, v in acc.by_service.items()},
        "total_yuan": body["total_yuan"],
        "total_yi_yuan": body["total_yi_yuan"],
        "source_classes_ha": {k: round(v, 4) for k, v in measured.source_classes.items()},
        "mapped": measured.mapped,
        "unmapped": {k: round(v, 4) for k, v in measured.unmapped.items()},
        "excluded": {k: round(v, 4) for k, v in measured.excluded.items()},
        "features": measured.features,
        "pixels": measured.pixels,
    }


def _table(out: dict[str, Any]) -> str:
    from countyos.eco.service import esv, landuse_read

    names = landuse_read.classes()
    u = out["unit_value"]
    lines = [
        f"{out['file']}  ({out['kind']}, {out['crs']}; areas in Albers equal-area)",
        f"year {out['year']}, method {out['method']}: 1 equivalent = {u['value']:.2f} 元/hm²",
        "",
        f"{'class':<14}{'ha':>16}{'ESV 元':>20}{'亿元':>12}",
    ]
    for k, ha in out["areas_ha"].items():
        label = f"{names[k].zh} {k}" if k in names else k
        v = out["esv_by_class"].get(k, 0.0)
        lines.append(f"{label:<14}{ha:>16,.2f}{v:>20,.2f}{v / esv.YUAN_PER_YI:>12.4f}")
    lines.append(f"{'total':<14}{out['total_area_ha']:>16,.2f}{out['total_yuan']:>20,.2f}{out['total_yi_yuan']:>12.4f}")
    lines += ["", f"{'service':<14}{'ESV 元':>20}"]
    for s, v in out["esv_by_service"].items():
        lines.append(f"{esv.SERVICE_ZH[s]:<14}{v:>20,.2f}")
    if out["unmapped"]:
        lines += ["", "unmapped source classes (not counted), ha:"]
        lines += [f"  {k}: {v:,.2f}" for k, v in out["unmapped"].items()]
    return "\n".join(lines)


def register(app: typer.Typer) -> None:
    """Add this part's commands to ``countyos eco``."""

    @app.command("esv")
    def esv_command(
        landuse_file: Annotated[
            Path, typer.Option("--landuse", help="GeoJSON, zipped Shapefile, GeoPackage or GeoTIFF")
        ],
        mapping_file: Annotated[
            Path | None,
            typer.Option("--mapping", help='JSON {"field": …, "classes": {source: class}} or {source: class}'),
        ] = None,
        year: Annotated[int | None, typer.Option("--year", help="accounting year (default: 2010 prices)")] = None,
        method: Annotated[
            str | None, typer.Option("--method", help="cpi (default with --year), grain or standard")
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    ) -> None:
        """ESV (Xie 2015 equivalent factors) of a land-use file, stored nowhere; no database needed."""
        try:
            if not landuse_file.is_file():
                raise typer.BadParameter(f"{landuse_file}: no such file")
            if mapping_file is not None and not mapping_file.is_file():
                raise typer.BadParameter(f"{mapping_file}: no such file")
            if method is not None and method not in ("cpi", "grain", "standard"):
                raise typer.BadParameter(f"--method {method}: use cpi, grain or standard")
            out = run_esv(landuse_file, mapping_file=mapping_file, year=year, method=method)
        except CountyError as exc:
            typer.echo(f"error: {gettext(exc.message_id, **exc.params)}", err=True)
            raise typer.Exit(2) from exc
        except (typer.BadParameter, OSError) as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from exc
        typer.echo(json.dumps(out, ensure_ascii=False, indent=2) if as_json else _table(out))
