"""A new case of a plan's trigger category (posted through Open311) starts the plan's response; a case of
another category does nothing; a second case of the category adds a trigger line, not a second event."""

from __future__ import annotations

from sqlalchemy import func, select

from countyos.cases.models import Case
from countyos.cases.service import location
from countyos.safety.models.events import EmergencyEvent, EventLog, EventSource, EventTask, LogKind
from countyos.safety.models.plans import ResponseLevel
from tests import factories
from tests.cases.conftest import fake_locate, open311_app, world  # noqa: F401
from tests.safety.events_helpers import publish

URL = "/open311/v2/requests.json"


def report(client, api_key, code):
    r = client.post(URL, data={"api_key": api_key, "service_code": code, "lat": "28.59", "long": "119.27"})
    assert r.status_code == 200, r.text
    return r.json()[0]["service_request_id"]


def test_a_case_of_a_trigger_category_starts_the_response_once(client, db, world):  # noqa: F811
    for name in ("演练水利局", "演练公安局", "演练大柘镇"):
        factories.department(db, name)
    plan_id, _, _ = publish(db, code="DRILL-CASE", case_category="M06010")
    key = open311_app(db)
    with location.using(fake_locate):
        report(client, key, "M09006")  # not a trigger
        with db.reading() as s:
            assert s.scalar(select(func.count()).select_from(EmergencyEvent)) == 0
        number = report(client, key, "M06010")
        with db.reading() as s:
            (event,) = s.scalars(select(EmergencyEvent)).all()
            case = s.scalar(select(Case).where(Case.number == number))
            assert event.plan_id == plan_id and event.source == EventSource.PLAN and event.case_id == case.id
            assert event.level == ResponseLevel.IV and event.lon == 119.27
            assert s.scalar(select(func.count()).where(EventTask.event_id == event.id)) == 2
            event_id = event.id
        report(client, key, "M06010")
        with db.reading() as s:
            assert s.scalar(select(func.count()).select_from(EmergencyEvent)) == 1
            n = s.scalar(select(func.count()).where(EventLog.event_id == event_id, EventLog.kind == LogKind.TRIGGER))
            assert n == 1
