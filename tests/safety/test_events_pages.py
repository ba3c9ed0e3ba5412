"""The pages of the events part: the command post starts a response by hand (a refused form shows the
message beside its field), sees the situation page and raises the level; a department's person
acknowledges, sends feedback with a photo from the field page and acknowledges a command; the photo is
shown to those who may see the task only."""

from __future__ import annotations

import io

from PIL import Image
from sqlalchemy import select

from countyos.safety.models.events import EmergencyEvent, EventTask, TaskFeedback, TaskState
from tests import factories
from tests.safety.events_helpers import drill, readings  # noqa: F401


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


def test_command_post_and_field_pages(app, db, drill):  # noqa: F811
    from fastapi.testclient import TestClient

    boss = TestClient(app)
    csrf = factories.login(boss, drill.commander)
    assert boss.get("/safety/events").status_code == 200
    assert boss.get("/safety/events/new").status_code == 200
    r = boss.post("/safety/events/new", data={"csrf_token": csrf, "title": "", "type": "flood", "level": "IV"})
    assert r.status_code == 422 and 'id="error-title"' in r.text
    r = boss.post(
        "/safety/events/new",
        data={
            "csrf_token": csrf,
            "title": "妙高溪漫堤",
            "type": "flood",
            "level": "IV",
            "plan_id": str(drill.plan_id),
            "lon": "119.27",
            "lat": "28.59",
            "place": "妙高溪",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    with db.reading() as s:
        (event,) = s.scalars(select(EmergencyEvent)).all()
        event_id = event.id
    page = boss.get(f"/safety/events/{event_id}")
    assert page.status_code == 200 and "event-command-post" in page.text and "妙高溪漫堤" in page.text
    r = boss.post(f"/safety/events/{event_id}/lower", data={"csrf_token": csrf, "level": "IV", "reason": "x"})
    assert r.status_code == 422 and "event-command-error" in r.text  # IV has nothing lower: the page again
    r = boss.post(
        f"/safety/events/{event_id}/escalate",
        data={"csrf_token": csrf, "level": "III", "reason": "水位上涨"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    r = boss.post(
        f"/safety/events/{event_id}/command", data={"csrf_token": csrf, "text": "全员到岗"}, follow_redirects=False
    )
    assert r.status_code == 303
    r = boss.post(f"/safety/events/{event_id}/close", data={"csrf_token": csrf, "note": ""})
    assert r.status_code == 422 and 'id="error-close-note"' in r.text

    field = TestClient(app)
    fcsrf = factories.login(field, drill.water_handler)
    page = field.get("/safety/field")
    assert page.status_code == 200 and 'capture="environment"' not in page.text  # nothing acknowledged yet
    assert "全员到岗" in page.text
    with db.reading() as s:
        (task,) = s.scalars(select(EventTask).where(EventTask.department_id == drill.water)).all()
        task_id = task.id
        (other,) = s.scalars(select(EventTask).where(EventTask.department_id == drill.police)).all()
        other_id = other.id
    assert field.get("/safety/tasks").text.count('id="task-') >= 1
    assert f'id="task-{other_id}"' not in field.get("/safety/tasks").text  # only my department's tasks
    r = field.post(
        f"/safety/tasks/{task_id}/ack", data={"csrf_token": fcsrf, "next": "/safety/field"}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"] == "/safety/field"
    assert 'capture="environment"' in field.get("/safety/field").text
    r = field.post(
        f"/safety/tasks/{task_id}/feedback",
        data={"csrf_token": fcsrf, "next": "/safety/field", "text": "堤防巡查正常"},
        files={"photo": ("scene.png", png(), "image/png")},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    with db.reading() as s:
        fb = s.scalars(select(TaskFeedback).where(TaskFeedback.task_id == task_id)).one()
        assert len(fb.attachment_ids) == 1
        photo = f"/safety/feedback/{fb.id}/photos/{fb.attachment_ids[0]}"
    assert field.get(photo).status_code == 200
    assert boss.get(photo).status_code == 200
    police = TestClient(app)
    factories.login(police, drill.police_handler)
    assert police.get(photo).status_code == 403
    cmd_id = boss.get(f"/api/v1/safety/events/{event_id}").json()["commands"][0]["id"]
    r = field.post(
        f"/safety/commands/{cmd_id}/ack",
        data={"csrf_token": fcsrf, "reply": "收到", "next": "/safety/field"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    r = field.post(f"/safety/tasks/{task_id}/done", data={"csrf_token": fcsrf}, follow_redirects=False)
    assert r.status_code == 303
    with db.reading() as s:
        assert s.get(EventTask, task_id).state == TaskState.DONE
    page = boss.get(f"/safety/events/{event_id}")
    assert "堤防巡查正常" in page.text and photo in page.text
