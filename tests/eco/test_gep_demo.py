"""The demo county's GEP account is of the order of published southern hilly counties."""

from __future__ import annotations

from types import SimpleNamespace

from countyos.eco import demo_gep
from countyos.eco.service import gep


def test_the_demo_account_is_plausible(db) -> None:
    ctx = SimpleNamespace(notes=[], user_ids={})
    with db.unit_of_work() as s:
        demo_gep.load(s, ctx)
        run = gep.latest(s, year=2025)
        assert run is not None and run.complete
        data = gep.summary(s, run=run)
    assert 1.0 <= data["gep_to_gdp"] <= 3.0  # GEP 1–3 × GDP (宁海 2.09)
    assert 50.0 <= data["shares"]["regulating"] <= 90.0
    assert data["gdp"] == 18_000_000_000.0
    assert ctx.notes and "/eco/gep/runs/" in ctx.notes[0]


def test_the_demo_takes_its_areas_from_the_land_use_layer(db) -> None:
    from countyos.core.actor import Actor
    from countyos.eco import demo_assets
    from countyos.eco.models.gep import InputSource
    from countyos.eco.service import gep_inputs
    from countyos.geo.service import divisions

    ctx = SimpleNamespace(notes=[], user_ids={}, public_url="")
    with db.unit_of_work() as s:
        divisions.bootstrap(s, actor=Actor(id=None, name="test"), county_code="331123")
        demo_assets.load(s, ctx)
        demo_gep.load(s, ctx)
        areas = [r for r in gep_inputs.current(s, year=2025) if r.code == "area"]
        assert areas and all(r.source == InputSource.LANDUSE and "#" in r.source_ref for r in areas)
        run = gep.latest(s, year=2025)
        assert run is not None and run.complete
        data = gep.summary(s, run=run)
    assert 1.0 <= data["gep_to_gdp"] <= 3.0
    assert 50.0 <= data["shares"]["regulating"] <= 90.0
