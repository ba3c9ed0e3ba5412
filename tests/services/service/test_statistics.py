"""Leader statistics on a small hand-built world: each rate's part and whole (the ids behind them), by
department and township, period boundaries in county time, the 12-month trend, and the operations
view's 一网通办 tiles counting with the same conditions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest

from countyos.core.actor import Actor
from countyos.core.errors import ValidationFailed
from countyos.ioc.service import indicators as ind
from countyos.ioc.service import records
from countyos.ioc.service.scope import resolve
from countyos.org.models import DepartmentKind
from countyos.org.service import departments
from countyos.services.lifecycle import Action
from countyos.services.models import Application
from countyos.services.schemas import ACTION_MODELS, ApplicationIn
from countyos.services.service import applications as apps
from countyos.services.service import ioc_queries as q
from countyos.services.service import statistics as st
from tests import factories
from tests.services.service.test_applications import published

CST = timedelta(hours=8)
NOW = datetime(2026, 12, 10, 2, 0, tzinfo=UTC)  # Thursday 10:00 county time
TOWN_CODE = "331123101"
EVERYONE = Actor(id=None, name="ioc", permissions=frozenset({"ioc.view", "case.read_all"}))


def local(y: int, mo: int, d: int, h: int = 10, mi: int = 0) -> datetime:
    """A county-time moment as UTC."""
    return datetime(y, mo, d, h, mi, tzinfo=UTC) - CST


@dataclass
class World:
    market: int
    centre: int
    town: int
    village: int
    apps: dict[str, int]


def act(s, actor: Actor, app_id: int, action: Action, at: datetime, **body) -> None:
    app = s.get(Application, app_id)
    data = ACTION_MODELS[action].model_validate({"version": app.version, **body})
    apps.act(s, actor=actor, application_id=app_id, action=action, data=data, now=at)


GRANT = {"result": {"decision": "granted", "result_name": "许可证", "result_number": "No.1"}}


def build(db, shop) -> World:
    """Seven applications around November 2026 (county time):

    ====  =======================  =============  =======================================
    a1    centre window, 即办件     2026-11-02     concluded at acceptance (即办), 1 visit
    a2    village agent             2026-11-03     accepted, two steps, concluded on time
    a3    online                    2026-11-04     accepted, concluded late
    a4    township window           2026-11-05     不予受理
    a5    centre window             11-30 23:30    accepted 12-01, overdue on 12-10
    a6    centre window             12-01 00:10    December
    a7    centre window             10-31 23:59    October
    a8    centre window, 即办件     12-10 09:30    concluded at acceptance (NOW is 12-10 10:00)
    ====  =======================  =============  =======================================
    """
    with db.unit_of_work() as s:
        f = Actor(id=None, name="factory")
        town = departments.create(s, actor=f, name="测试镇人民政府", kind=DepartmentKind.TOWNSHIP,
                                  division_code=TOWN_CODE).id  # fmt: skip
        village = departments.create(s, actor=f, name="测试镇测试村村民委员会", kind=DepartmentKind.VILLAGE,
                                     parent_id=town).id  # fmt: skip
    people = {
        "window": (shop.centre, {apps.WINDOW, apps.PII}),
        "town_window": (town, {apps.WINDOW}),
        "agent": (village, {apps.AGENT}),
        "applicant": (None, {apps.APPLY}),
        "centre": (shop.centre, {apps.HANDLE}),
        "market": (shop.market, {apps.HANDLE}),
    }
    a: dict[str, Actor] = {}
    for key, (dep, perms) in people.items():
        p = factories.person(db, department_id=dep)
        a[key] = Actor(id=p.id, name=key, permissions=frozenset(perms), department_id=dep)
    out: dict[str, int] = {}
    with db.unit_of_work() as s:
        promised = published(s, shop)
        immediate = published(
            s, shop, code="11331123MB0000001-002", basic_code="0000112002", name="个体工商户设立登记",
            application_kind="immediate", promised_limit=0, visits=1, department_id=shop.centre,
        )  # fmt: skip
        from countyos.services.service import catalogue

        def mats(mid: int) -> list[dict]:
            v = catalogue.current(catalogue.get(s, matter_id=mid))
            return [{"material_id": m.id, "form": "original", "count": 1} for m in v.materials]

        def new(key: str, who: str, mid: int, at: datetime, **extra) -> int:
            data = ApplicationIn.model_validate(
                {"matter_id": mid, "applicant_name": f"申请人{key}", "id_number": "33112519600101123X",
                 "phone": "13905781234", "materials": mats(mid), **extra}
            )  # fmt: skip
            out[key] = apps.create(s, actor=a[who], data=data, now=at).id
            return out[key]

        consent = {"given_by": "申请人a2", "way": "signed_form", "at": "2026-11-03T08:00:00+08:00"}
        new("a1", "window", immediate, local(2026, 11, 2))
        act(s, a["window"], out["a1"], Action.ACCEPT_IMMEDIATE, local(2026, 11, 2, 10, 5), **GRANT)
        new("a2", "agent", promised, local(2026, 11, 3), consent=consent)
        act(s, a["window"], out["a2"], Action.ACCEPT, local(2026, 11, 3, 10, 10))
        act(s, a["centre"], out["a2"], Action.PASS, local(2026, 11, 4), opinion="同意")
        act(s, a["market"], out["a2"], Action.PASS, local(2026, 11, 5), opinion="准予", **GRANT)
        new("a3", "applicant", promised, local(2026, 11, 4))
        act(s, a["window"], out["a3"], Action.ACCEPT, local(2026, 11, 4, 10, 10))
        act(s, a["centre"], out["a3"], Action.PASS, local(2026, 11, 5), opinion="同意")
        act(s, a["market"], out["a3"], Action.PASS, local(2026, 11, 20), opinion="准予", **GRANT)
        new("a4", "town_window", promised, local(2026, 11, 5))
        act(s, a["town_window"], out["a4"], Action.REJECT, local(2026, 11, 5, 10, 30), reason="不属于本机关职权范围")
        new("a5", "window", promised, local(2026, 11, 30, 23, 30))
        act(s, a["window"], out["a5"], Action.ACCEPT, local(2026, 12, 1, 9))
        new("a6", "window", promised, local(2026, 12, 1, 0, 10))
        new("a7", "window", promised, local(2026, 10, 31, 23, 59))
        new("a8", "window", immediate, local(2026, 12, 10, 9, 30))
        act(s, a["window"], out["a8"], Action.ACCEPT_IMMEDIATE, local(2026, 12, 10, 9, 35), **GRANT)
    return World(shop.market, shop.centre, town, village, out)


@pytest.fixture
def world(db, shop) -> World:
    return build(db, shop)


def ids(w: World, *keys: str) -> list[int]:
    return sorted(w.apps[k] for k in keys)


def test_every_number_has_its_ids_part_and_whole(db, world) -> None:
    w = world
    nov = st.period("month", on="2026-11-15")
    assert (nov.start, nov.end) == (local(2026, 11, 1, 0), local(2026, 12, 1, 0))
    with db.reading() as s:
        stats = st.compute(s, p=nov, group="department", now=NOW)
    t = stats.total
    assert sorted(t.ids["submitted"]) == ids(w, "a1", "a2", "a3", "a4", "a5")  # 办件量; a6, a7 outside
    assert sorted(t.ids["accepted"]) == ids(w, "a1", "a2", "a3", "a5")
    assert sorted(t.ids["immediate"]) == ids(w, "a1")
    assert t.rate("immediate_rate") == 25.0  # 1 ÷ 4
    assert sorted(t.ids["concluded"]) == ids(w, "a1", "a2", "a3")
    assert sorted(t.ids["on_time"]) == ids(w, "a1", "a2")
    assert t.rate("on_time_rate") == 66.67  # 2 ÷ 3
    assert sorted(t.ids["online"]) == ids(w, "a3")
    assert t.rate("online_rate") == 20.0  # 1 ÷ 5
    assert t.visits == 1 and t.rate("visits") == 0.2  # the 即办件's one visit ÷ 5
    assert sorted(t.ids["rejected"]) == ids(w, "a4")
    assert sorted(t.ids["overdue"]) == ids(w, "a5")
    by = {r.key: r.figures for r in stats.rows}
    assert set(by) == {w.centre, w.market}
    assert sorted(by[w.centre].ids["submitted"]) == ids(w, "a1")
    assert by[w.centre].rate("immediate_rate") == 100.0 and by[w.centre].rate("visits") == 1.0
    assert sorted(by[w.market].ids["submitted"]) == ids(w, "a2", "a3", "a4", "a5")
    assert by[w.market].rate("immediate_rate") == 0.0 and by[w.market].rate("on_time_rate") == 50.0
    assert [r.key for r in stats.rows] == [w.market, w.centre]  # most applications first


def test_by_township_the_windows_and_village_agents_count_for_their_township(db, world) -> None:
    w = world
    with db.reading() as s:
        stats = st.compute(s, p=st.period("month", on="2026-11-01"), group="township", now=NOW)
        by = {r.key: r for r in stats.rows}
        assert sorted(by[w.town].figures.ids["submitted"]) == ids(w, "a2", "a4")
        assert sorted(by[w.town].figures.ids["rejected"]) == ids(w, "a4")
        assert sorted(by[None].figures.ids["submitted"]) == ids(w, "a1", "a3", "a5")  # centre and online
        assert by[None].name == st.CENTRE_AND_ONLINE
        # a slice of one township and of the centre gives the same ids as its row
        town = st.slice_of(s, p=stats.period, township_id=w.town)
        assert sorted(q.ids(s, measure="submitted", s=town, now=NOW)) == ids(w, "a2", "a4")
        centre = st.slice_of(s, p=stats.period, centre=True)
        assert sorted(q.ids(s, measure="submitted", s=centre, now=NOW)) == ids(w, "a1", "a3", "a5")
        one = st.compute(s, p=stats.period, group="department", township_id=w.town, now=NOW)
        assert sorted(one.total.ids["submitted"]) == ids(w, "a2", "a4")


def test_period_boundaries_are_county_days(db, world) -> None:
    w = world
    with db.reading() as s:
        dec = st.compute(s, p=st.period("month", on=date(2026, 12, 5)), now=NOW)
        assert sorted(dec.total.ids["submitted"]) == ids(w, "a6", "a8")  # a6: 00:10 on 1 December county time
        octo = st.compute(s, p=st.period("month", on="2026-10-31"), now=NOW)
        assert sorted(octo.total.ids["submitted"]) == ids(w, "a7")  # 23:59 on 31 October
        q4 = st.compute(s, p=st.period("quarter", on="2026-11-30"), now=NOW)
        assert q4.period.since == date(2026, 10, 1) and q4.period.until == date(2026, 12, 31)
        assert len(q4.total.ids["submitted"]) == 8
        year = st.compute(s, p=st.period("year", now=NOW), now=NOW)
        assert year.period.since == date(2026, 1, 1) and len(year.total.ids["submitted"]) == 8
        rng = st.compute(s, p=st.period("range", since="2026-11-30", until="2026-12-01"), now=NOW)
        assert sorted(rng.total.ids["submitted"]) == ids(w, "a5", "a6")
        # the trend: the 12 months ending with the period
        trend = dict((m, f.count("submitted")) for m, f in q4.trend)
        assert [next(iter(trend)), list(trend)[-1], len(trend)] == ["2026-01", "2026-12", 12]
        assert (trend["2026-10"], trend["2026-11"], trend["2026-12"], trend["2026-09"]) == (1, 5, 2, 0)
    with pytest.raises(ValidationFailed):
        st.period("range", since="2026-12-02", until="2026-12-01")
    with pytest.raises(ValidationFailed):
        st.period("month", on="2026-13-01")
    with pytest.raises(ValidationFailed):
        st.period("week")


def test_operations_view_tiles_count_with_the_same_conditions(db, world) -> None:
    w = world
    with db.reading() as s:
        scope = resolve(period="month", now=NOW)  # December
        vals = {
            i.code: ind.evaluate(s, actor=EVERYONE, ind=i, scope=scope, now=NOW)
            for i in ind.INDICATORS
            if i.source == "applications"
        }
        assert vals["applications_today"].count == 1  # a8
        assert vals["applications_open"].count == 3  # a5 being processed, a6 and a7 waiting for acceptance
        assert vals["applications_overdue"].count == 1  # a5: due 8 December 17:30
        imm = vals["applications_immediate"]
        assert (imm.count, imm.whole, imm.rate) == (1, 1, 100.0)  # a8 ÷ a8 (a6 is not accepted)
        assert imm.url.startswith("/ioc/list?source=applications&measure=immediate")
        for v in vals.values():  # each tile's list holds exactly what it counts
            got = ind.records(s, actor=EVERYONE, source="applications", measure=v.indicator.measure,
                              scope=ind.windowed(v.indicator, scope, NOW), now=NOW, limit=50)  # fmt: skip
            assert len(got) == v.count
        got = ind.records(s, actor=EVERYONE, source="applications", measure="overdue", scope=scope, now=NOW, limit=9)
        assert [r.id for r in got] == ids(w, "a5")
        nov = resolve(since="2026-11-01", until="2026-11-30", now=NOW)
        rows = ind.records(s, actor=EVERYONE, source="applications", measure="accepted", scope=nov, now=NOW, limit=50)
        assert sorted(r.id for r in rows) == ids(w, "a1", "a2", "a3", "a5")
        recs = records.to_records(s, "applications", rows, NOW)
        assert {r.url for r in recs} == {f"/services/applications/{i}" for i in ids(w, "a1", "a2", "a3", "a5")}
        assert all("申请人" not in r.title for r in recs)  # no applicant names on the operations view
        assert [r.level for r in recs if r.id == w.apps["a5"]] == ["red"]
        # a township's scope counts what its windows and agents submitted; a case category none
        town = resolve(since="2026-11-01", until="2026-11-30", township=TOWN_CODE, now=NOW)
        n = ind.count(s, actor=EVERYONE, source="applications", measure="submitted", scope=town, now=NOW)
        assert n == 2  # a2 (its village's agent), a4 (its window)
        other = resolve(since="2026-11-01", until="2026-11-30", township="331123999", now=NOW)
        assert ind.count(s, actor=EVERYONE, source="applications", measure="submitted", scope=other, now=NOW) == 0
        cat = resolve(since="2026-11-01", until="2026-11-30", category="1", now=NOW)
        assert ind.count(s, actor=EVERYONE, source="applications", measure="submitted", scope=cat, now=NOW) == 0
