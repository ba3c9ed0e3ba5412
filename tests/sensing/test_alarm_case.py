"""Open a case from an alarm: through the alarm→case path, linked both ways, audited; refused when the
alarm has a case or is cleared; the form keeps the choice and shows the error beside the field."""

from __future__ import annotations

from sqlalchemy import select

from countyos.cases.models import Case, CaseEvent, Channel, Priority
from countyos.cases.service import categories
from countyos.core.actor import Actor
from countyos.org.models import AuditEvent
from countyos.sensing.models import Alarm, AlarmEvent, AlarmKind, Severity
from countyos.sensing.service import alarms
from tests.cases.conftest import _fake_geo  # noqa: F401  (fixture: a stand-in locator)
from tests.factories import login, person

FACTORY = Actor(id=None, name="factory")


def _alarm(db, sensors, severity=Severity.CRITICAL) -> int:
    with db.unit_of_work() as s:
        alarm, _ = alarms.raise_alarm(
            s,
            kind=AlarmKind.RULE,
            thing_id=sensors.gauge,
            datastream_id=sensors.level,
            rule_id=None,
            severity=severity,
            title="妙高溪水位超警戒",
            value=3.4,
            dedupe_seconds=600,
        )
        return alarm.id


def _category(db) -> tuple[int, str]:
    with db.unit_of_work() as s:
        categories.import_gb_directory(s, actor=FACTORY)
        cat = next(c for c in categories.list_categories(s) if not c.is_group and c.is_active)
        return cat.id, cat.service_code


def test_dispatcher_opens_a_case_from_an_active_alarm(client, db, sensors):
    aid = _alarm(db, sensors)
    cat_id, _ = _category(db)
    csrf = login(client, person(db, ["dispatcher"]))
    console = client.get("/sensing/alarms")
    assert f'href="/sensing/alarms/{aid}/case"' in console.text
    form = client.get(f"/sensing/alarms/{aid}/case")
    assert form.status_code == 200 and 'id="alarm-case-form"' in form.text
    r = client.post(
        f"/sensing/alarms/{aid}/case", data={"csrf_token": csrf, "category_id": str(cat_id)}, follow_redirects=False
    )
    assert r.status_code == 303, r.text
    with db.reading() as s:
        alarm = s.get(Alarm, aid)
        assert alarm.case_id is not None and r.headers["location"] == f"/cases/{alarm.case_id}"
        case = s.get(Case, alarm.case_id)
        assert case.channel == Channel.IOT and case.priority == Priority.CRITICAL and case.title == "妙高溪水位超警戒"
        assert case.external_id == f"alarm:{aid}" and case.category_id == cat_id
        first = s.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id)).first()
        assert first.context["alarm_id"] == aid and first.actor_id is not None
        assert (
            s.scalar(select(AlarmEvent.note).where(AlarmEvent.alarm_id == aid, AlarmEvent.action == "open_case"))
            == case.number
        )
        audit = s.scalars(select(AuditEvent).where(AuditEvent.action == "sensing.alarm.open_case")).one()
        assert audit.detail["case"] == case.number
    # a second time is refused: the alarm has its case
    again = client.post(f"/sensing/alarms/{aid}/case", data={"csrf_token": csrf, "category_id": str(cat_id)})
    assert again.status_code == 409 and "该告警已有案件" in again.text
    with db.reading() as s:
        assert len(s.scalars(select(Case).where(Case.external_id == f"alarm:{aid}")).all()) == 1


def test_without_a_category_the_form_comes_back_with_the_error_beside_it(client, db, sensors):
    aid = _alarm(db, sensors)
    csrf = login(client, person(db, ["dispatcher"]))
    r = client.post(f"/sensing/alarms/{aid}/case", data={"csrf_token": csrf, "category_id": ""})
    assert r.status_code == 422 and 'id="error-category_id"' in r.text
    with db.reading() as s:
        assert s.get(Alarm, aid).case_id is None


def test_a_cleared_alarm_opens_no_case(client, db, sensors):
    aid = _alarm(db, sensors)
    cat_id, _ = _category(db)
    with db.unit_of_work() as s:
        alarms.apply(s, alarm=s.get(Alarm, aid), action="clear", actor=FACTORY)
    csrf = login(client, person(db, ["dispatcher"]))
    assert f'href="/sensing/alarms/{aid}/case"' not in client.get("/sensing/alarms?state=cleared").text
    r = client.post(f"/sensing/alarms/{aid}/case", data={"csrf_token": csrf, "category_id": str(cat_id)})
    assert r.status_code == 409
    with db.reading() as s:
        assert s.get(Alarm, aid).case_id is None


def test_people_without_alarm_duty_may_not(client, db, sensors):
    aid = _alarm(db, sensors)
    csrf = login(client, person(db, ["handler"]))
    r = client.post(f"/sensing/alarms/{aid}/case", data={"csrf_token": csrf, "category_id": "1"})
    assert r.status_code == 403
