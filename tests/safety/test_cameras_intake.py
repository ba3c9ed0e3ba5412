"""Events posted by an analysis box: a case on the camera's grid with the snapshot as its first photo,
below threshold, duplicates inside the window and a new case after it, unmapped types, idempotent
external ids, and the refusals (camera, time, snapshot, token, permission)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from countyos.cases.models import Attachment, Case, Channel
from countyos.core.clock import utcnow
from countyos.safety.models.cameras import Camera, CameraEvent, EventOutcome
from tests.factories import person, token_for
from tests.safety.cameras_helpers import API, _fake_geo, add_camera, b64, event, feed, jpeg, world

__all__ = ["_fake_geo", "world"]


def test_accepted_event_opens_a_case_on_the_cameras_grid_with_the_snapshot_first(client, db, world):
    cam_id = add_camera(db, 1)
    r = client.post(f"{API}/events", json=event(1, snapshot=b64(jpeg()), box=[10, 12, 30, 20]), headers=feed(db))
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["outcome"] == "case" and body["case_number"] and body["event_id"]
    with db.reading() as s:
        case = s.scalar(select(Case).where(Case.number == body["case_number"]))
        cam = s.get(Camera, cam_id)
        assert case is not None and cam is not None
        assert case.channel == Channel.CAMERA
        assert case.grid_code == cam.grid_code and case.grid_code
        assert case.title == "垃圾堆放 · 测试摄像机1"
        assert case.category_id == world.cat_garbage
        assert case.attributes["camera"] == cam.code and case.attributes["box"] == [10, 12, 30, 20]
        photos = list(s.scalars(select(Attachment).where(Attachment.case_id == case.id).order_by(Attachment.id)))
        ev = s.get(CameraEvent, body["event_id"])
        assert ev is not None and photos and photos[0].id == ev.snapshot_id
        assert photos[0].media_type == "image/jpeg" and not photos[0].public


def test_below_threshold_opens_no_case(client, db, world):
    add_camera(db, 2)
    r = client.post(f"{API}/events", json=event(2, confidence=0.2), headers=feed(db))
    assert r.status_code == 200 and r.json()["outcome"] == "below_threshold"
    with db.reading() as s:
        assert s.scalar(select(Case).where(Case.channel == Channel.CAMERA)) is None
        ev = s.get(CameraEvent, r.json()["event_id"])
        assert ev is not None and ev.outcome is EventOutcome.BELOW_THRESHOLD


def test_duplicates_inside_the_window_fold_and_after_it_a_new_case(client, db, world):
    add_camera(db, 3)
    h = feed(db)
    t0 = utcnow() - timedelta(hours=5)  # garbage: a window of 7,200 s
    first = client.post(f"{API}/events", json=event(3, at=t0), headers=h).json()
    assert first["outcome"] == "case"
    dup = client.post(f"{API}/events", json=event(3, at=t0 + timedelta(minutes=30)), headers=h)
    assert dup.status_code == 200
    assert dup.json() == {
        "outcome": "duplicate",
        "of": first["event_id"],
        "case_number": first["case_number"],
        "event_id": dup.json()["event_id"],
    }
    later = client.post(f"{API}/events", json=event(3, at=t0 + timedelta(hours=3)), headers=h).json()
    assert later["outcome"] == "case" and later["case_number"] != first["case_number"]
    with db.reading() as s:
        ev = s.get(CameraEvent, first["event_id"])
        assert ev is not None and ev.count == 2
        assert len(list(s.scalars(select(Case).where(Case.channel == Channel.CAMERA)))) == 2


def test_unmapped_and_unknown_types_are_kept_without_a_case(client, db, world):
    add_camera(db, 4)
    h = feed(db)
    r = client.post(f"{API}/events", json=event(4, type="road_water", snapshot=b64(jpeg())), headers=h)
    assert r.status_code == 202 and r.json()["outcome"] == "unmapped"
    r = client.post(f"{API}/events", json=event(4, type="new_thing"), headers=h)
    assert r.status_code == 202 and r.json()["outcome"] == "unmapped"
    with db.reading() as s:
        assert s.scalar(select(Case).where(Case.channel == Channel.CAMERA)) is None
        kept = s.get(CameraEvent, r.json()["event_id"])
        assert kept is not None and kept.type_code == "new_thing"


def test_the_same_external_id_gets_the_first_answer(client, db, world):
    add_camera(db, 5)
    h = feed(db)
    a = client.post(f"{API}/events", json=event(5, external_id="box-7-000123"), headers=h)
    b = client.post(f"{API}/events", json=event(5, external_id="box-7-000123", confidence=0.1), headers=h)
    assert a.status_code == b.status_code == 201 and a.json() == b.json()
    with db.reading() as s:
        assert len(list(s.scalars(select(CameraEvent)))) == 1


def test_refusals(client, db, world):
    add_camera(db, 6)
    h = feed(db)
    r = client.post(f"{API}/events", json=event(99), headers=h)
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["errors"][0]["field"] == "camera"
    r = client.post(f"{API}/events", json=event(6, at=utcnow() + timedelta(minutes=30)), headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "time"
    r = client.post(f"{API}/events", json=event(6, at=utcnow() - timedelta(days=8)), headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "time"
    r = client.post(f"{API}/events", json={**event(6), "time": "2026-12-04T10:00:00"}, headers=h)
    assert r.status_code == 422
    r = client.post(f"{API}/events", json=event(6, confidence=1.5), headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "confidence"
    r = client.post(f"{API}/events", json=event(6, snapshot=b64(b"GIF89a" + b"\0" * 100)), headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "snapshot"
    r = client.post(f"{API}/events", json=event(6, snapshot="not base64!"), headers=h)
    assert r.status_code == 422
    big = b"\xff\xd8\xff\xe0" + b"\0" * 2_000_100
    r = client.post(f"{API}/events", json=event(6, snapshot=b64(big)), headers=h)
    assert r.status_code in (413, 422)
    assert client.post(f"{API}/events", json=event(6)).status_code == 401
    other = person(db, ["handler"], is_machine=True)
    r = client.post(
        f"{API}/events", json=event(6), headers={"Authorization": f"Bearer {token_for(db, other, ['safety.task'])}"}
    )
    assert r.status_code == 403
    with db.reading() as s:
        assert s.scalar(select(CameraEvent)) is None
