"""The demo county's data: about 40 resources with rows and a year of loads, live sources and connectors
that ran, sharing with grants and calls — and what the open data interfaces then show."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select

from countyos.core.demo import DemoContext
from countyos.data import demo
from countyos.data.lifecycle import State
from countyos.data.models import ConnectorRun, Download, Grant, Load, LoadState, Resource, ShareCall, ShareRequest
from countyos.geo import demo as geo_demo
from countyos.org import demo as org_demo
from countyos.services import demo as services_demo


def test_demo_data(db, client, monkeypatch) -> None:
    # the base map's tiles are not this test's subject: drawn to zoom 10 instead of 14 (the full demo of
    # the browser tests and `countyos demo` draws them all)
    monkeypatch.setattr(geo_demo, "DEMO_MAX_ZOOM", 10)
    ctx = DemoContext()
    with db.unit_of_work() as s:
        org_demo.load(s, ctx)
        geo_demo.load(s, ctx)
        services_demo.load(s, ctx, applications=False)
        demo.load(s, ctx)
    with db.reading() as s:
        resources = s.scalars(select(Resource)).all()
        assert len(resources) == len(demo.resources()) >= 40
        assert Counter(r.state for r in resources)[State.PUBLISHED] == len(resources) - 2
        loads = s.scalars(select(Load)).all()
        assert all(ld.state == LoadState.LOADED for ld in loads), [(ld.source, ld.error) for ld in loads if ld.error]
        assert len({ld.started_at.strftime("%Y-%m") for ld in loads}) >= 12  # a year of history
        runs = s.scalars(select(ConnectorRun)).all()
        assert len(runs) == 6 and all(r.ok for r in runs), [r.error for r in runs]
        assert s.scalar(select(func.count(Grant.id))) == 2
        assert {r.state for r in s.scalars(select(ShareRequest))} == {"approved", "pending", "refused"}
        assert s.scalar(select(func.count(ShareCall.id))) == 17
        downloads = s.scalars(select(Download)).all()
        opened = {r.id for r in resources if r.state == State.PUBLISHED and r.open_type == "unconditional"}
        assert len(downloads) > 500 and {d.resource_id for d in downloads} == opened  # the open ones, a year of them
        assert len({d.at.strftime("%Y-%m") for d in downloads}) >= 12 and all(d.user_id is None for d in downloads)
    r = client.get("/api/3/action/package_search", params={"rows": "0", "facet.field": '["groups"]'})
    assert r.json()["result"]["count"] >= 30
    r = client.get("/api/3/action/package_show", params={"id": "gongce-weizhi"})
    assert {x["format"] for x in r.json()["result"]["resources"]} == {"CSV", "XLSX", "JSON", "GeoJSON"}
