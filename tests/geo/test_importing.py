import io
import json
import zipfile

import pytest
import shapely
from pyogrio import raw
from pyproj import Transformer
from shapely.geometry import box

from countyos.core.errors import ValidationFailed
from countyos.geo.service import importing


def _gdal_file(tmp_path, driver_ext, geoms, crs, props):
    path = tmp_path / f"t.{driver_ext}"
    import numpy as np

    raw.write(
        str(path),
        geometry=np.array([shapely.to_wkb(g) for g in geoms], dtype=object),
        field_data=[np.array(v, dtype=object) for v in props.values()],
        fields=list(props),
        crs=crs,
        geometry_type="Polygon",
        encoding="UTF-8",
    )
    return path


def test_zipped_shapefile_in_gauss_kruger_is_converted(tmp_path):
    lonlat = box(119.2, 28.5, 119.25, 28.55)
    to_gk = Transformer.from_crs(4490, 4549, always_xy=True)
    gk = shapely.transform(lonlat, lambda c: __import__("numpy").column_stack(to_gk.transform(c[:, 0], c[:, 1])))
    _gdal_file(tmp_path, "shp", [gk], "EPSG:4549", {"XZQDM": ["331123001"], "XZQMC": ["妙高街道"]})
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for f in tmp_path.iterdir():
            z.write(f, f.name)
    rows, used = importing.read_features(buf.getvalue(), "miaogao.zip")
    assert used == "EPSG:4549"
    assert rows[0].properties == {"XZQDM": "331123001", "XZQMC": "妙高街道"}
    assert rows[0].geom.symmetric_difference(lonlat).area < 1e-10


def test_geopackage_and_given_crs(tmp_path):
    g = box(119.2, 28.5, 119.25, 28.55)
    gpkg = _gdal_file(tmp_path, "gpkg", [g], "EPSG:4490", {"code": ["331123001"]})
    rows, used = importing.read_features(gpkg.read_bytes(), "t.gpkg")
    assert used == "EPSG:4490" and rows[0].geom.equals_exact(g, 1e-12)
    fc = {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "properties": {"code": "x"}, "geometry": shapely.geometry.mapping(g)}],
    }
    rows, used = importing.read_features(json.dumps(fc).encode(), "t.geojson", source_crs="gcj02")
    assert used == "gcj02" and not rows[0].geom.equals_exact(g, 1e-6)


def test_unreadable_files_are_clear_errors():
    with pytest.raises(ValidationFailed) as err:
        importing.read_features(b"this is not a map", "x.geojson")
    assert "x.geojson" in err.value.message
    with pytest.raises(ValidationFailed):
        importing.read_table(b"\xff\xfe\x00garbage", "x.xlsx")


def test_tables_in_gbk_and_utf8_bom():
    text = "名称,经度\n路灯,119.2\n"
    assert importing.read_table(text.encode("gb18030"), "a.csv") == [{"名称": "路灯", "经度": "119.2"}]
    assert importing.read_table(("\ufeff" + text).encode(), "a.csv") == [{"名称": "路灯", "经度": "119.2"}]
