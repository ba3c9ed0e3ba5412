"""The demo county's case history: plausible, dated on the calendar, with an Open311 key that works."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

from sqlalchemy import func, select

from countyos import domains
from countyos.cases import demo as cases_demo
from countyos.cases.models import Case
from countyos.cases.service import evaluation
from countyos.core.clock import utcnow
from countyos.geo import demo as geo_demo
from countyos.org.demo import DemoContext


def test_demo_history_is_plausible_and_the_open311_key_works(db, client, monkeypatch):
    # a year of 1500 cases, not the demo's 6000 (``per_year`` takes CASES_PER_YEAR as its default when the
    # module is imported, so setting the constant would change nothing)
    monkeypatch.setattr(cases_demo, "generate_history", partial(cases_demo.generate_history, per_year=1500))
    # the base map's tiles are not this test's subject: drawn to zoom 10 instead of 14 (the full demo of
    # the browser tests and `countyos demo` draws them all)
    monkeypatch.setattr(geo_demo, "DEMO_MAX_ZOOM", 10)
    ctx = DemoContext()
    with db.unit_of_work() as s:
        for mod in domains.modules("demo"):
            if mod.__name__.split(".")[1] in ("org", "geo", "cases"):
                mod.load(s, ctx)
    key = next(n for n in ctx.notes if n.startswith("Open311 api_key")).rsplit(" ", 1)[1]
    now = utcnow()
    with db.reading() as s:
        total = s.scalar(select(func.count()).select_from(Case))
        assert total >= 1400
        assert s.scalar(select(func.count()).where(Case.is_open.is_(True))) > 0  # recent cases still open
        assert s.scalar(select(func.count()).where(Case.rework_count > 0)) > 0
        rows = evaluation.evaluate(s, subject="department", start=now - timedelta(days=366), end=now)
    by_name = {r.name: r for r in rows if r.counts.dispatched >= 20}
    slow, usual = by_name["县交通运输局"], by_name["县综合行政执法局"]
    assert slow.rates["handled_on_time_rate"] < usual.rates["handled_on_time_rate"] - 10
    r = client.post(
        "/open311/v2/requests.json",
        data={
            "api_key": key,
            "service_code": "M06010",
            "lat": "28.5925",
            "long": "119.2745",
            "description": "demo key check",
        },
    )
    assert r.status_code == 200, r.text
