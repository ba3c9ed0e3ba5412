"""The map base layer: rendering an MBTiles file from the county's records, the tile route (bounds,
traversal, missing tiles, caching), the upstream source (proxied, cached, its CRS) and the config."""

from __future__ import annotations

import io
import sqlite3

import pytest
from PIL import Image
from sqlalchemy import select

from countyos.geo.service import basemap, divisions, tilerender
from countyos.org.models import AuditEvent
from tests.factories import person, token_for

ACTOR_NAME = "test"


@pytest.fixture
def rendered(db, county, tmp_path, settings, monkeypatch):
    """z8–11 of 遂昌县 rendered into a temporary MBTiles file that the settings point at."""
    from countyos.core.actor import Actor

    path = tmp_path / "basemap.mbtiles"
    with db.unit_of_work() as s:
        report = tilerender.render(s, actor=Actor(id=None, name=ACTOR_NAME), path=path, min_zoom=8, max_zoom=11)
    monkeypatch.setattr(settings, "map_mbtiles", path)
    monkeypatch.setattr(settings, "map_tile_url", None)
    return report


def _tiles(path):
    with sqlite3.connect(path) as con:
        return con.execute("SELECT zoom_level, tile_column, tile_row, tile_data FROM tiles").fetchall()


def test_render_writes_the_county_tiles_with_metadata_and_audit(db, rendered):
    meta = basemap.read_metadata(rendered.path)
    assert (meta["minzoom"], meta["maxzoom"], meta["format"]) == ("8", "11", "png")
    x0, y0, x1, y1 = (float(v) for v in meta["bounds"].split(","))
    with db.reading() as s:
        c = divisions.the_county(s)
        assert c is not None
        assert (x0, y0, x1, y1) == pytest.approx((c.minx, c.miny, c.maxx, c.maxy), abs=1e-5)
    rows = _tiles(rendered.path)
    assert len(rows) == rendered.tiles and rendered.dropped_zooms == []
    by_zoom = {z: sum(1 for r in rows if r[0] == z) for z in range(8, 12)}
    assert by_zoom[8] >= 1 and by_zoom[11] > by_zoom[10] > by_zoom[9]
    # every tile is a 256 px PNG drawn with the county's colours (not one flat colour)
    data = max(rows, key=lambda r: len(r[3]))[3]
    img = Image.open(io.BytesIO(data))
    assert img.format == "PNG" and img.size == (256, 256)
    assert len(img.convert("RGB").getcolors(65536) or []) > 5
    # only tiles touching the county: the rows of zoom 11 lie inside the county's tile range
    c0, r0, c1, r1 = tilerender.tile_range((x0, y0, x1, y1), 11)
    assert all(c0 <= r[1] <= c1 and r0 <= (1 << 11) - 1 - r[2] <= r1 for r in rows if r[0] == 11)
    with db.reading() as s:
        detail = s.scalars(select(AuditEvent.detail).where(AuditEvent.action == "geo.basemap.render")).all()[-1]
    assert detail["tiles"] == rendered.tiles and detail["max_zoom"] == 11


def test_outside_the_county_tiles_are_transparent(db, rendered):
    """Every tile that reaches past the county's boundary shows the map's own background there (a
    self-touching approximate boundary must not fill the outside)."""
    import math

    from shapely.geometry import box

    def lonlat_box(z: int, x: int, y: int):
        n = 1 << z

        def lat(row: float) -> float:
            return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * row / n))))

        return box(x / n * 360 - 180, lat(y + 1), (x + 1) / n * 360 - 180, lat(y))

    with db.reading() as s:
        c = divisions.the_county(s)
        assert c is not None
        county = c.geom
    checked = 0
    for z, x, tms_y, data in _tiles(rendered.path):
        tile = lonlat_box(z, x, (1 << z) - 1 - tms_y)
        outside = tile.difference(county).area / tile.area
        if outside < 0.05:
            continue
        alpha = Image.open(io.BytesIO(data)).convert("RGBA").getchannel("A")
        transparent = alpha.histogram()[0] / (256 * 256)
        assert transparent > outside * 0.5, (z, x, tms_y, outside, transparent)
        checked += 1
    assert checked > 10


def test_render_bounds_tiles_by_dropping_high_zooms(db, county, tmp_path):
    from countyos.core.actor import Actor

    path = tmp_path / "small.mbtiles"
    with db.unit_of_work() as s:
        r = tilerender.render(
            s, actor=Actor(id=None, name=ACTOR_NAME), path=path, min_zoom=8, max_zoom=12, max_tiles=20
        )
    assert r.max_zoom < 12 and r.dropped_zooms[-1] == 12 and r.tiles <= 20
    assert basemap.read_metadata(path)["maxzoom"] == str(r.max_zoom)


def test_tile_route_serves_local_tiles_with_cache_headers(client, rendered):
    rows = _tiles(rendered.path)
    z, x, tms_y, data = rows[0]
    y = (1 << z) - 1 - tms_y
    r = client.get(f"/api/v1/geo/tiles/{z}/{x}/{y}.png")  # anonymous: the citizen's report form uses it
    assert r.status_code == 200 and r.headers["content-type"] == "image/png" and r.content == data
    assert r.headers["cache-control"].startswith("public, max-age=86400")
    etag = r.headers["etag"]
    again = client.get(f"/api/v1/geo/tiles/{z}/{x}/{y}.png", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    # inside the zooms but away from the county: no content, the map shows its background
    assert client.get("/api/v1/geo/tiles/9/0/0.png").status_code == 204
    # outside the zooms of the file, outside the world, malformed, traversal
    assert client.get("/api/v1/geo/tiles/12/3400/1700.png").status_code == 404
    assert client.get("/api/v1/geo/tiles/7/100/50.png").status_code == 404
    assert client.get("/api/v1/geo/tiles/9/512/0.png").status_code == 404
    assert client.get("/api/v1/geo/tiles/23/0/0.png").status_code == 422
    assert client.get("/api/v1/geo/tiles/9/-1/0.png").status_code == 422
    assert client.get("/api/v1/geo/tiles/9/a/0.png").status_code == 422
    assert client.get("/api/v1/geo/tiles/9/1/..%2F..%2Fetc%2Fpasswd.png").status_code in (404, 422)
    assert client.get("/api/v1/geo/tiles/../../../etc/passwd").status_code == 404


def test_without_a_base_layer_tiles_are_404_and_config_says_none(client, db, settings, tmp_path, monkeypatch):
    monkeypatch.setattr(settings, "map_tile_url", None)
    monkeypatch.setattr(settings, "map_mbtiles", tmp_path / "missing.mbtiles")
    assert client.get("/api/v1/geo/tiles/9/420/200.png").status_code == 404
    cfg = client.get("/api/v1/geo/basemap").json()
    assert cfg["source"] == "none" and cfg["tiles"] is None and cfg["overlays"] is False


def test_config_reports_local_tiles_and_overlays_by_permission(client, db, rendered):
    anon = client.get("/api/v1/geo/basemap").json()
    assert anon["source"] == "local" and anon["tiles"] == "/api/v1/geo/tiles/{z}/{x}/{y}.png"
    assert (anon["min_zoom"], anon["max_zoom"], anon["crs"], anon["overlays"]) == (8, 11, "cgcs2000", False)
    assert anon["labelled"] is True and set(anon["labels"]) >= {"search", "locate", "no_results", "map"}
    assert anon["county_bbox"][0] == pytest.approx(float(anon["bounds"][0]), abs=1e-3)
    p = person(db, ["handler"])
    reader = {"Authorization": f"Bearer {token_for(db, p, ['geo.read'])}"}
    assert client.get("/api/v1/geo/basemap", headers=reader).json()["overlays"] is True


PNG_1PX = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)
TIANDITU = (
    "https://t0.tianditu.gov.cn/vec_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=vec&STYLE=default"
    "&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=SECRETKEY"
)


def test_upstream_source_is_fetched_once_cached_and_keeps_its_key(client, db, settings, tmp_path, monkeypatch):
    calls: list[str] = []

    def fake(url: str) -> bytes | None:
        calls.append(url)
        return None if "TILECOL=0&" in url else PNG_1PX

    monkeypatch.setattr(settings, "data_dir", tmp_path)
    monkeypatch.setattr(settings, "map_tile_url", TIANDITU)
    monkeypatch.setattr(settings, "map_tile_crs", "cgcs2000")
    monkeypatch.setattr(basemap, "fetch_upstream", fake)
    r = client.get("/api/v1/geo/tiles/12/3404/1714.png")
    assert r.status_code == 200 and r.content == PNG_1PX
    assert calls == [TIANDITU.replace("{z}", "12").replace("{y}", "1714").replace("{x}", "3404")]
    assert client.get("/api/v1/geo/tiles/12/3404/1714.png").content == PNG_1PX and len(calls) == 1  # cached
    assert basemap.cache_path(settings).is_file()
    assert client.get("/api/v1/geo/tiles/12/0/1714.png").status_code == 204  # upstream has none
    cfg = client.get("/api/v1/geo/basemap").json()
    assert cfg["source"] == "remote" and "SECRETKEY" not in str(cfg) and "tianditu" not in str(cfg)
    assert cfg["max_zoom"] == 18


def test_upstream_crs_is_reported_and_bad_answers_are_503(client, db, settings, tmp_path, monkeypatch):
    monkeypatch.setattr(settings, "data_dir", tmp_path)
    monkeypatch.setattr(settings, "map_tile_url", "http://tiles.county.example/{z}/{x}/{y}.png")
    monkeypatch.setattr(settings, "map_tile_crs", "gcj02")
    assert client.get("/api/v1/geo/basemap").json()["crs"] == "gcj02"

    class Answer:
        status_code = 200
        content = b"<html>login</html>"

    monkeypatch.setattr(basemap.httpx, "get", lambda *a, **k: Answer())
    r = client.get("/api/v1/geo/tiles/10/850/427.png")
    assert r.status_code == 503 and r.headers["content-type"].startswith("application/problem+json")
    assert not basemap.cache_path(settings).exists() or not _tiles(basemap.cache_path(settings))


def test_settings_refuse_unknown_tile_crs():
    from pydantic import ValidationError

    from countyos.core.settings import Settings

    with pytest.raises(ValidationError):
        Settings(map_tile_crs="bd09")
    assert Settings(map_tile_crs="gcj02").map_tile_crs == "gcj02"
