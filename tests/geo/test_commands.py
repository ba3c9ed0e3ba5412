"""``countyos geo …`` and ``countyos grid …`` as an operator runs them against the configured database."""

from __future__ import annotations

import json

import pytest
import typer
from shapely.geometry import box, mapping
from typer.testing import CliRunner

from countyos.core.settings import reset_settings
from countyos.geo import commands
from countyos.geo.service import divisions, grids
from tests.conftest import DATABASE_URL

runner = CliRunner()
# the groups as cli.main() mounts them: `countyos geo …` and `countyos grid …`
root = typer.Typer()
root.add_typer(commands.app, name=commands.NAME)
for _name, _group in commands.GROUPS.items():
    root.add_typer(_group, name=_name)


def countyos(*args: str):
    reset_settings()
    try:
        return runner.invoke(root, list(args), env={"COUNTYOS_DATABASE_URL": DATABASE_URL})
    finally:
        reset_settings()


def geo(*args: str):
    return countyos("geo", *args)


def grid(*args: str):
    return countyos("grid", *args)


def test_bootstrap_generate_validate_locate(db):
    r = geo("bootstrap", "--county", "331123")
    assert r.exit_code == 0, r.output
    assert "遂昌县 (331123)" in r.output and "20 townships, 214 villages" in r.output
    r = geo("grid", "generate", "--cell", "5000")  # the same group under `geo`
    assert r.exit_code == 0, r.output
    r = grid("generate", "--cell", "3000")
    assert r.exit_code == 2 and "替换" in r.output  # messages are in the default locale, zh_CN
    r = grid("generate", "--cell", "3000", "--replace")
    assert r.exit_code == 0, r.output
    with db.reading() as s:
        assert grids.count(s) > 100
    r = geo("validate", "--json")
    body = json.loads(r.output)
    assert body["county_code"] == "331123" and body["by_kind"].get("overlap", 0) == 0
    r = geo("locate", "119.0", "28.5")
    place = json.loads(r.output)
    assert r.exit_code == 0 and place["county_code"] == "331123" and len(place["grid_code"]) == 15
    r = geo("locate", "116.4", "39.9")
    assert r.exit_code == 2 and "不在本县范围内" in r.output


def test_unknown_and_malformed_codes_say_so(db):
    r = geo("bootstrap", "--county", "999999")
    assert r.exit_code == 2 and "999999 不是NBS 2023中的县级区划代码" in r.output
    r = geo("bootstrap", "--county", "33112")
    assert r.exit_code == 2 and "6 位" in r.output
    with db.reading() as s:
        assert divisions.the_county(s) is None


def test_bootstrap_with_a_boundary_file(db, tmp_path):
    f = tmp_path / "zone.geojson"
    f.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [{"type": "Feature", "properties": {}, "geometry": mapping(box(114.5, 38.0, 114.7, 38.1))}],
            }
        )
    )
    r = geo("bootstrap", "--county", "130171")
    assert r.exit_code == 2 and "--boundary" in r.output
    r = geo("bootstrap", "--county", "130171", "--boundary", str(f))
    assert r.exit_code == 0, r.output and "zone.geojson" in r.output


def test_import_reports_rows_and_exits_nonzero_on_a_bad_file(db, tmp_path):
    assert geo("bootstrap", "--county", "331123").exit_code == 0
    bad = tmp_path / "bad.csv"
    bad.write_text("class_code,lon,lat\n99999,119.1,28.5\n01037,116.4,39.9\n")
    r = geo("import", "components", str(bad))
    assert r.exit_code == 2 and "未导入任何数据" in r.output and '"row": 1' in r.output
    r = geo("import", "components", str(bad), "--skip-bad-rows")
    assert r.exit_code == 0 and "0 imported, 2 skipped" in r.output


def test_counties_search():
    r = geo("counties", "遂昌")
    assert "331123  遂昌县" in r.output
    r = geo("counties", "1301")
    assert "130171" in r.output and "no packaged boundary" in r.output


@pytest.mark.parametrize("args", [["generate"], ["generate", "--cell", "1000", "--households", "300"]])
def test_grid_generate_needs_exactly_one_size(db, args):
    assert geo("bootstrap", "--county", "331123").exit_code == 0
    r = grid(*args)
    assert r.exit_code == 2 and "二者选一" in r.output


def test_basemap_renders_the_county_into_an_mbtiles_file(db, tmp_path):
    from countyos.geo.service import basemap

    out = tmp_path / "base.mbtiles"
    r = geo("basemap", "--output", str(out))
    assert r.exit_code == 2 and "countyos geo bootstrap" in r.output  # no county yet
    assert geo("bootstrap", "--county", "331123").exit_code == 0
    r = geo("basemap", "--output", str(out), "--min-zoom", "8", "--max-zoom", "10")
    assert r.exit_code == 0, r.output
    meta = basemap.read_metadata(out)
    assert (meta["minzoom"], meta["maxzoom"], meta["labels"]) == ("8", "10", "township,village")
    assert "zoom 8–10" in r.output and str(out) in r.output
    r = geo("basemap", "--output", str(out), "--min-zoom", "8", "--max-zoom", "12", "--max-tiles", "15")
    assert r.exit_code == 0 and "--max-tiles" in r.output
    assert int(basemap.read_metadata(out)["maxzoom"]) < 12
