"""An unchanged FROST Python client drives the SensorThings API over real HTTP; the $filter parser
is fuzzed so that no input makes it fail with anything but a 400-type error."""

from __future__ import annotations

import frost_sta_client as fsc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from countyos.sensing.service.sta import entities as E
from countyos.sensing.service.sta.parser import StaQueryError, parse_filter
from countyos.sensing.service.sta.sql import Translator
from tests.factories import person
from tests.live import serve


@pytest.fixture
def live_url(app):
    with serve(app) as url:
        yield f"{url}/sta/v1.1"


def test_frost_client_unchanged(db, live_url):
    p = person(db, ["data_admin"], is_machine=True)
    service = fsc.SensorThingsService(live_url, auth_handler=fsc.AuthHandler(username=p.username, password=p.password))
    loc = fsc.Location(
        name="水文站",
        description="gauge",
        encoding_type="application/geo+json",
        location={"type": "Point", "coordinates": [119.27, 28.59]},
    )
    thing = fsc.Thing(name="river gauge 7", description="gauge", properties={"river": "乌溪江"}, locations=[loc])
    service.create(thing)
    assert isinstance(thing.id, int)
    sensor = fsc.Sensor(name="radar", description="radar", encoding_type="text/plain", metadata="none")
    prop = fsc.ObservedProperty(name="water level", definition="http://example.org/wl", description="wl")
    unit = fsc.UnitOfMeasurement(name="metre", symbol="m", definition="http://qudt.org/vocab/unit/M")
    ds = fsc.Datastream(
        name="level",
        description="level",
        observation_type="http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement",
        unit_of_measurement=unit,
        thing=thing,
        sensor=sensor,
        observed_property=prop,
    )
    service.create(ds)
    for h in range(5):
        service.create(fsc.Observation(result=1.0 + h, phenomenon_time=f"2026-05-01T0{h}:00:00Z", datastream=ds))
    found = list(service.things().query().filter("name eq 'river gauge 7'").list())
    assert [t.name for t in found] == ["river gauge 7"]
    obs = list(service.observations().query().filter("result ge 3").orderby("phenomenonTime", "desc").list())
    assert [o.result for o in obs] == [5.0, 4.0, 3.0]
    again = service.datastreams().find(ds.id)
    assert again.name == "level" and again.unit_of_measurement.symbol == "m"
    service.patch(again, [{"op": "replace", "path": "/description", "value": "changed"}])
    assert service.datastreams().find(ds.id).description == "changed"
    service.delete(obs[0])
    assert len(list(service.observations().query().list())) == 4


_names = st.sampled_from(
    [
        "name",
        "description",
        "result",
        "phenomenonTime",
        "id",
        "properties/x",
        "Datastream/name",
        "Thing/Locations/location",
        "nosuch",
    ]
)
_lits = st.one_of(
    st.integers(-(10**6), 10**6).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(lambda f: repr(f)),
    st.text(max_size=8).map(lambda s: "'" + s.replace("'", "''") + "'"),
    st.sampled_from(["true", "false", "null", "2026-01-01T00:00:00Z", "geography'POINT(1 2)'"]),
)
_atoms = st.one_of(_names, _lits)
_funcs = st.sampled_from(["length", "tolower", "year", "round", "substringof", "geo.distance", "st_within", "nope"])


def _exprs():
    return st.recursive(
        _atoms,
        lambda inner: st.one_of(
            st.tuples(inner, st.sampled_from(["eq", "ne", "gt", "lt", "add", "mul", "and", "or"]), inner).map(" ".join),
            inner.map(lambda x: f"not ({x})"),
            st.tuples(_funcs, st.lists(inner, max_size=3)).map(lambda t: f"{t[0]}({', '.join(t[1])})"),
            inner.map(lambda x: f"({x}"),
        ),
        max_leaves=8,
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.one_of(_exprs(), st.text(max_size=40)))
def test_filter_parser_never_crashes(text):
    """Any input either parses and translates to SQL, or is refused with StaQueryError (a 400)."""
    ent = E.ENTITIES["Observations"]
    for dialect in ("sqlite", "postgresql"):
        try:
            node = parse_filter(text)
            Translator(ent, ent.alias(), dialect).condition(node)
        except StaQueryError:
            pass


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=_exprs())
def test_fuzzed_filters_run_as_sql_or_400(client, text):
    """Whatever reaches the database is valid SQL: the answer is 200 or 400, never a server error."""
    r = client.get("/sta/v1.1/Observations", params={"$filter": text})
    assert r.status_code in (200, 400), (text, r.text)
