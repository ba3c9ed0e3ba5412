"""Road incidents: a draft is not public, a published one is (without the internal note or any person),
an ended one is gone; the transition table refuses the rest; the expiry job ends those past their end."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from countyos.core.actor import SYSTEM
from countyos.core.clock import utcnow
from countyos.org.models import AuditEvent
from countyos.safety.jobs_traffic import expire as expire_job
from countyos.safety.service import traffic_incidents
from tests.safety.traffic_helpers import API, keeper, reader

NOTE = "内部：联系施工单位张工 13800000000"


def incident(**changes):
    now = utcnow().replace(microsecond=0)
    body = {
        "kind": "construction",
        "title": "G235 大柘段半幅施工",
        "description": "路面改造，单向通行",
        "severity": "major",
        "lon": 119.2,
        "lat": 28.55,
        "line": "119.19,28.54; 119.21,28.56",
        "from_words": "大柘镇",
        "to_words": "石练镇",
        "starts_at": (now - timedelta(hours=1)).isoformat(),
        "ends_at": (now + timedelta(days=3)).isoformat(),
        "detour": "请绕行X501",
        "note": NOTE,
    }
    body.update(changes)
    return body


def tokens(client):
    r = client.get(f"{API}/notices")
    assert r.status_code == 200
    return [n["token"] for n in r.json()]


def test_lifecycle_draft_published_ended(client, db):
    h = keeper(db)
    r = client.post(f"{API}/incidents", json=incident(), headers=h)
    assert r.status_code == 201, r.text
    inc = r.json()
    assert inc["state"] == "draft" and inc["line"] == [[119.19, 28.54], [119.21, 28.56]]
    assert inc["token"] not in tokens(client)  # a draft is not public
    assert client.post(f"{API}/incidents/{inc['id']}/end", headers=h).status_code == 409
    assert client.post(f"{API}/incidents/{inc['id']}/publish", headers=reader(db)).status_code == 403
    r = client.post(f"{API}/incidents/{inc['id']}/publish", headers=h)
    assert r.status_code == 200 and r.json()["state"] == "published"
    notices = client.get(f"{API}/notices").json()
    mine = next(n for n in notices if n["token"] == inc["token"])
    assert mine["kind_words"] in {"施工", "Road works"} and mine["in_force"] is True and mine["detour"] == "请绕行X501"
    text = str(notices)
    assert NOTE not in text and "13800000000" not in text
    assert not {"id", "note", "created_by", "state"} & set(mine)
    # edit while published keeps it public; publishing again is refused
    r = client.put(f"{API}/incidents/{inc['id']}", json=incident(title="G235 大柘段全封闭施工"), headers=h)
    assert r.status_code == 200 and r.json()["state"] == "published"
    assert client.post(f"{API}/incidents/{inc['id']}/publish", headers=h).status_code == 409
    r = client.post(f"{API}/incidents/{inc['id']}/end", headers=h)
    assert r.status_code == 200 and r.json()["state"] == "ended"
    assert inc["token"] not in tokens(client)
    assert client.put(f"{API}/incidents/{inc['id']}", json=incident(), headers=h).status_code == 409
    with db.reading() as s:
        actions = set(
            s.scalars(select(AuditEvent.action).where(AuditEvent.target_type == "safety_road_incident")).all()
        )
    assert {
        "safety.traffic.incident_create",
        "safety.traffic.incident_publish",
        "safety.traffic.incident_end",
    } <= actions


def test_input_is_checked_and_drafts_can_be_discarded(client, db):
    h = keeper(db)
    assert client.post(f"{API}/incidents", json=incident(lon=None, lat=None, line=None), headers=h).status_code == 422
    now = utcnow()
    bad = incident(starts_at=now.isoformat(), ends_at=(now - timedelta(hours=1)).isoformat())
    assert client.post(f"{API}/incidents", json=bad, headers=h).status_code == 422
    assert client.post(f"{API}/incidents", json=incident(road_id=999999), headers=h).status_code == 404
    assert client.post(f"{API}/incidents", json=incident(line="1,2"), headers=h).status_code == 422
    draft = client.post(f"{API}/incidents", json=incident(), headers=h).json()
    assert client.delete(f"{API}/incidents/{draft['id']}", headers=h).status_code == 204
    assert client.get(f"{API}/incidents/{draft['id']}", headers=h).status_code == 404


def test_expiry_job_ends_incidents_past_their_end(client, db):
    h = keeper(db)
    now = utcnow().replace(microsecond=0)
    soon = client.post(
        f"{API}/incidents",
        json=incident(kind="congestion", starts_at=(now - timedelta(hours=2)).isoformat(),
                      ends_at=(now + timedelta(minutes=10)).isoformat()),
        headers=h,
    ).json()  # fmt: skip
    later = client.post(f"{API}/incidents", json=incident(ends_at=None), headers=h).json()
    for x in (soon, later):
        assert client.post(f"{API}/incidents/{x['id']}/publish", headers=h).status_code == 200
    assert {soon["token"], later["token"]} <= set(tokens(client))
    with db.unit_of_work() as s:
        assert traffic_incidents.expire(s, actor=SYSTEM, now=now) == 0
        assert traffic_incidents.expire(s, actor=SYSTEM, now=now + timedelta(minutes=11)) == 1
    with db.reading() as s:
        assert traffic_incidents.get_incident(s, soon["id"]).state == "ended"
        assert traffic_incidents.get_incident(s, later["id"]).state == "published"
    assert soon["token"] not in tokens(client) and later["token"] in tokens(client)
    assert expire_job(db) == 0  # the scheduled job runs the same function
