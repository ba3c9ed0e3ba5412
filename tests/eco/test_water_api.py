"""The water API: the public calculator, sections, lab results, 超标 → case once, refusals."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from countyos.cases.models import Case, Channel
from countyos.core.clock import utcnow
from countyos.eco.models.water import WaterSample, WaterSection
from countyos.org.models import AuditEvent
from tests.cases.conftest import _fake_geo  # noqa: F401  (fixture: a stand-in locator for the cases)
from tests.factories import person, token_for

API = "/api/v1/eco/water"
SECTION = {
    "code": "SC-001",
    "name": "大柘",
    "water_name": "松阴溪",
    "waterbody": "river",
    "lon": 119.21,
    "lat": 28.55,
    "level": "county",
    "target_class": "II",
}


def _bearer(db, roles=("eco_monitor",)) -> dict[str, str]:
    p = person(db, list(roles))
    return {"Authorization": f"Bearer {token_for(db, p, ['eco.monitor.read', 'eco.monitor.manage'])}"}


@pytest.fixture
def keeper(db) -> dict[str, str]:
    return _bearer(db)


def _when(days: float) -> str:
    return (utcnow() - timedelta(days=days)).replace(microsecond=0).isoformat()


def test_public_calculator_answers_classes_exceeding_items_and_verdict(client):
    r = client.post(f"{API}/classify", json={"values": {"do": 4.2, "tp": 0.35, "nh3n": 0.4}, "target": "III"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["cls"] == "V" and body["cls_label"] == "Ⅴ类" and body["meets"] is False
    assert body["parameters"]["do"]["cls"] == "IV" and body["parameters"]["nh3n"]["cls"] == "II"
    assert body["exceeding"] == [
        {"code": "do", "cls": "IV", "multiple": None, "limit": 5.0},
        {"code": "tp", "cls": "V", "multiple": 0.75, "limit": 0.2},
    ]
    lake = client.post(f"{API}/classify", json={"values": {"tp": 0.05}, "waterbody": "lake"}).json()
    assert lake["cls"] == "III" and lake["meets"] is None


@pytest.mark.parametrize(
    "body",
    [
        {"values": {}},
        {"values": {"pm25": 3}},
        {"values": {"tp": -1}},
        {"values": {"tp": "a lot"}},
        {"values": {"tp": 0.1}, "waterbody": "sea"},
        {"values": {"tp": 0.1}, "target": "劣V"},
        {"values": {"tp": 0.1}, "extra": 1},
        {"values": {f"x{i}": 1 for i in range(41)}},
    ],
)
def test_calculator_refuses_bad_input_as_problem_json(client, body):
    r = client.post(f"{API}/classify", json=body)
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")


def test_reading_and_writing_need_their_permissions(client, db):
    assert client.get(f"{API}/sections").status_code == 401
    reader = person(db, ["river_office"])  # eco.monitor.read only
    headers = {"Authorization": f"Bearer {token_for(db, reader, ['eco.monitor.read'])}"}
    assert client.get(f"{API}/sections", headers=headers).status_code == 200
    assert client.post(f"{API}/sections", json=SECTION, headers=headers).status_code == 403
    with db.reading() as s:
        assert s.scalar(select(func.count()).select_from(WaterSection)) == 0


def test_sections_are_made_changed_and_refused_when_bad(client, db, keeper):
    r = client.post(f"{API}/sections", json=SECTION, headers=keeper)
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    assert r.json()["last_class"] is None and r.json()["target_class"] == "II"
    again = client.post(f"{API}/sections", json=SECTION, headers=keeper)
    assert again.status_code == 422 and again.json()["errors"][0]["field"] == "code"
    for bad in ({"target_class": "VI"}, {"lon": 200}, {"code": "a b"}, {"thing_id": 999_999}, {"waterbody": "sea"}):
        assert (
            client.post(f"{API}/sections", json={**SECTION, "code": "SC-9", **bad}, headers=keeper).status_code == 422
        )
    changed = client.put(f"{API}/sections/{sid}", json={**SECTION, "target_class": "III"}, headers=keeper)
    assert changed.status_code == 200 and changed.json()["target_class"] == "III"
    assert client.put(f"{API}/sections/999999", json=SECTION, headers=keeper).status_code == 404
    listed = client.get(f"{API}/sections?q=松阴", headers=keeper).json()
    assert [x["code"] for x in listed] == ["SC-001"]
    assert client.get(f"{API}/sections?limit=100000", headers=keeper).status_code == 422
    with db.reading() as s:
        actions = s.scalars(select(AuditEvent.action).where(AuditEvent.action.like("eco.water.%"))).all()
        assert sorted(actions) == ["eco.water.section.create", "eco.water.section.update"]


def test_a_lab_result_is_classified_and_an_exceedance_opens_one_case(client, db, keeper):
    sid = client.post(f"{API}/sections", json=SECTION, headers=keeper).json()["id"]
    good = {
        "sampled_at": _when(3),
        "values": {"do": 8.1, "codmn": 1.8, "nh3n": 0.1},
        "lab_name": "县监测站",
        "report_no": "R-1",
    }
    r = client.post(f"{API}/sections/{sid}/samples", json=good, headers=keeper)
    assert r.status_code == 201, r.text
    assert r.json()["cls"] == "I" and r.json()["meets"] is True and r.json()["case_id"] is None
    bad = {"sampled_at": _when(1), "values": {"do": 5.5, "tp": 0.25, "nh3n": 0.4}, "report_no": "R-2"}
    r = client.post(f"{API}/sections/{sid}/samples", json=bad, headers=keeper)
    body = r.json()
    assert body["cls"] == "IV" and body["meets"] is False and body["classes"]["tp"] == "IV"
    assert body["exceeding"] == [
        {"code": "do", "cls": "III", "limit": 6.0, "multiple": None},
        {"code": "tp", "cls": "IV", "limit": 0.1, "multiple": 1.5},
    ]
    case_id = body["case_id"]
    assert case_id is not None and body["alarm_id"] is None  # no device: the case alone
    # the same day again (another time): the same case, not a second one
    later = {
        **bad,
        "sampled_at": (utcnow() - timedelta(days=1) + timedelta(minutes=1)).replace(microsecond=0).isoformat(),
    }
    assert client.post(f"{API}/sections/{sid}/samples", json=later, headers=keeper).json()["case_id"] == case_id
    with db.reading() as s:
        case = s.get(Case, case_id)
        assert case.channel == Channel.IOT and "大柘" in case.title and "Ⅳ类" in case.title
        assert s.scalar(select(func.count()).select_from(Case)) == 1
        section = s.get(WaterSection, sid)
        assert section.last_class == "IV" and section.last_meets is False
    listed = client.get(f"{API}/sections/{sid}/samples", headers=keeper).json()
    assert [x["cls"] for x in listed] == ["IV", "IV", "I"]
    assert (
        client.get(
            f"{API}/sections/{sid}/samples?start=2020-01-01T00:00:00Z&end=2019-01-01T00:00:00Z", headers=keeper
        ).status_code
        == 422
    )


def test_an_older_result_entered_late_does_not_replace_the_current_class(client, db, keeper):
    sid = client.post(f"{API}/sections", json=SECTION, headers=keeper).json()["id"]
    client.post(f"{API}/sections/{sid}/samples", json={"sampled_at": _when(1), "values": {"do": 8}}, headers=keeper)
    old = client.post(
        f"{API}/sections/{sid}/samples", json={"sampled_at": _when(30), "values": {"tp": 0.5}}, headers=keeper
    )
    assert old.json()["cls"] == "劣V" and old.json()["case_id"] is None
    with db.reading() as s:
        assert s.get(WaterSection, sid).last_class == "I"
        assert s.scalar(select(func.count()).select_from(Case)) == 0


@pytest.mark.parametrize(
    "change",
    [
        {"values": {}},
        {"values": {"tp": -0.1}},
        {"values": {"bogus": 1}},
        {"sampled_at": "2099-01-01T00:00:00Z"},
        {"sampled_at": "1990-01-01T00:00:00Z"},
        {"sampled_at": "yesterday"},
        {"report_no": "x" * 61},
    ],
)
def test_a_bad_lab_result_is_refused_and_nothing_is_written(client, db, keeper, change):
    sid = client.post(f"{API}/sections", json=SECTION, headers=keeper).json()["id"]
    body = {"sampled_at": _when(1), "values": {"do": 8}, **change}
    r = client.post(f"{API}/sections/{sid}/samples", json=body, headers=keeper)
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    with db.reading() as s:
        assert s.scalar(select(func.count()).select_from(WaterSample)) == 0


def test_the_same_result_twice_is_refused(client, keeper):
    sid = client.post(f"{API}/sections", json=SECTION, headers=keeper).json()["id"]
    body = {"sampled_at": _when(2), "values": {"do": 8}}
    assert client.post(f"{API}/sections/{sid}/samples", json=body, headers=keeper).status_code == 201
    r = client.post(f"{API}/sections/{sid}/samples", json=body, headers=keeper)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "sampled_at"
    assert client.post(f"{API}/sections/999999/samples", json=body, headers=keeper).status_code == 404


def test_a_new_target_judges_the_latest_sample_again(client, db, keeper):
    sid = client.post(f"{API}/sections", json=SECTION, headers=keeper).json()["id"]
    r = client.post(
        f"{API}/sections/{sid}/samples", json={"sampled_at": _when(1), "values": {"tp": 0.15}}, headers=keeper
    )
    assert r.json()["meets"] is False  # III against II
    changed = client.put(f"{API}/sections/{sid}", json={**SECTION, "target_class": "III"}, headers=keeper).json()
    assert changed["last_class"] == "III" and changed["last_meets"] is True


def test_severity_grows_with_the_classes_past_the_target():
    from countyos.eco.service.water import severity_of
    from countyos.sensing.models import Severity

    assert severity_of("III", "II") == Severity.MINOR
    assert severity_of("IV", "II") == Severity.MAJOR and severity_of("V", "II") == Severity.MAJOR
    assert severity_of("劣V", "IV") == Severity.CRITICAL
