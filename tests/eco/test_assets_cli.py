"""``countyos eco esv --landuse FILE [--mapping FILE] [--year Y] --json``: areas and ESV of a GeoJSON, a
zipped Shapefile, a GeoPackage and a GeoTIFF, with no database; errors exit with 2."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import typer
from rasterio.transform import from_origin
from typer.testing import CliRunner

from countyos.eco import commands_assets
from tests.eco.test_assets_support import box, geodesic_ha, geojson, geopackage, geotiff, shapefile_zip

REL = 0.001
FOREST = box(119.00, 28.40, 119.10, 28.50)
PADDY = box(119.10, 28.40, 119.15, 28.45)
ITEMS = [(FOREST, {"DLMC": "阔叶"}), (PADDY, {"DLMC": "水田"})]


def cli() -> typer.Typer:
    app = typer.Typer()
    commands_assets.register(app)

    @app.command("noop")
    def _noop() -> None:  # two commands keep typer from folding the group into the one command
        pass

    return app


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli(), ["esv", *args])
    return result.exit_code, result.output


def check(out: dict[str, object]) -> None:
    areas = out["areas_ha"]
    assert isinstance(areas, dict)
    assert areas["broadleaf"] == pytest.approx(geodesic_ha(FOREST), rel=REL)
    assert areas["paddy"] == pytest.approx(geodesic_ha(PADDY), rel=REL)
    esv_by_class = out["esv_by_class"]
    assert isinstance(esv_by_class, dict)
    assert esv_by_class["broadleaf"] == pytest.approx(areas["broadleaf"] * 22.95 * 3406.5, rel=1e-6)
    assert out["total_yuan"] == pytest.approx(sum(esv_by_class.values()), abs=0.05)
    assert out["total_yi_yuan"] == pytest.approx(out["total_yuan"] / 1e8, abs=1e-6)  # type: ignore[operator]
    assert set(out["esv_by_service"]) == {  # type: ignore[arg-type]
        "food", "raw_materials", "water_supply", "gas_regulation", "climate_regulation", "purification",
        "hydrology", "soil_conservation", "nutrient_cycling", "biodiversity", "aesthetics",
    }  # fmt: skip
    assert out["unit_value"]["value"] == 3406.5 and out["year"] == 2010  # type: ignore[index]
    assert out["unmapped"] == {} and out["crs"] == "EPSG:4326"


@pytest.mark.parametrize("kind", ["geojson", "shapefile", "geopackage"])
def test_vector_files(tmp_path: Path, kind: str) -> None:
    if kind == "geojson":
        path = tmp_path / "landuse.geojson"
        path.write_bytes(geojson(ITEMS))
    elif kind == "shapefile":
        path = tmp_path / "landuse.zip"
        path.write_bytes(shapefile_zip(tmp_path, ITEMS))
    else:
        path = tmp_path / "landuse.gpkg"
        path.write_bytes(geopackage(tmp_path, ITEMS))
    code, output = run("--landuse", str(path), "--json")
    assert code == 0, output
    out = json.loads(output)
    assert out["kind"] == kind and out["class_field"] == "DLMC"
    check(out)


def test_geotiff_with_a_mapping_and_a_year(tmp_path: Path) -> None:
    arr = np.full((100, 150), 7, dtype="uint8")
    arr[:, :100] = 3  # 阔叶 in the mapping below
    arr[:50, 100:] = 4  # 水田
    arr[50:, 100:] = 9  # unmapped
    path = tmp_path / "lc.tif"
    path.write_bytes(geotiff(arr, "EPSG:4326", from_origin(119.0, 28.5, 0.001, 0.001)))
    mapping = tmp_path / "m.json"
    mapping.write_text(json.dumps({"3": "broadleaf", "4": "paddy"}))
    code, output = run("--landuse", str(path), "--mapping", str(mapping), "--year", "2020", "--json")
    assert code == 0, output
    out = json.loads(output)
    assert out["kind"] == "geotiff" and out["year"] == 2020 and out["method"] == "cpi"
    assert out["areas_ha"]["broadleaf"] == pytest.approx(geodesic_ha(FOREST), rel=REL)
    assert out["areas_ha"]["paddy"] == pytest.approx(geodesic_ha(PADDY), rel=REL)
    assert list(out["unmapped"]) == ["9"]
    assert out["unit_value"]["value"] == pytest.approx(3406.5 * out["unit_value"]["cpi"] / 100, rel=1e-6)


def test_a_readable_table_without_json(tmp_path: Path) -> None:
    path = tmp_path / "landuse.geojson"
    path.write_bytes(geojson(ITEMS))
    code, output = run("--landuse", str(path))
    assert code == 0, output
    assert "阔叶 broadleaf" in output and "水文调节" in output and "3406.50" in output


def test_errors_exit_with_2(tmp_path: Path) -> None:
    code, output = run("--landuse", str(tmp_path / "missing.geojson"), "--json")
    assert code == 2 and "no such file" in output
    bad = tmp_path / "bad.geojson"
    bad.write_text("hello")
    code, output = run("--landuse", str(bad), "--json")
    assert code == 2 and "error" in output
    good = tmp_path / "landuse.geojson"
    good.write_bytes(geojson(ITEMS))
    wrong = tmp_path / "m.json"
    wrong.write_text(json.dumps({"阔叶": "forest"}))
    code, output = run("--landuse", str(good), "--mapping", str(wrong), "--json")
    assert code == 2 and "forest" in output
    code, output = run("--landuse", str(good), "--year", "2099", "--json")
    assert code == 2 and "2099" in output


def test_the_installed_command_needs_no_database(tmp_path: Path) -> None:
    """Through ``countyos.cli`` with a database URL that points nowhere."""
    import os
    import subprocess
    import sys

    path = tmp_path / "landuse.geojson"
    path.write_bytes(geojson(ITEMS))
    env = {**os.environ, "COUNTYOS_DATABASE_URL": f"sqlite:///{tmp_path}/none/countyos.db"}
    src = str(Path(__file__).resolve().parents[2] / "src")
    env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
    code = "from countyos.cli import main; main()"
    r = subprocess.run([sys.executable, "-c", code, "eco", "esv", "--landuse", str(path), "--json"],
                       capture_output=True, text=True, env=env, cwd=tmp_path, check=False)  # fmt: skip
    assert r.returncode == 0, r.stderr
    check(json.loads(r.stdout))
    assert not (tmp_path / "none").exists()
