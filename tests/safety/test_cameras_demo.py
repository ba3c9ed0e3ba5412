"""The cameras demo loads on the small cases county: cameras with their codes, event types, recent events
through the intake (cases opened on the cameras' grids with channel CAMERA), older rows, and the box's
token, which posts."""

from __future__ import annotations

from sqlalchemy import func, select

from countyos.cases.models import Case, Channel
from countyos.core.demo import DemoContext
from countyos.safety import demo_cameras
from countyos.safety.models.cameras import Camera, CameraEvent, EventOutcome
from countyos.safety.service import cameras
from tests.factories import login, person
from tests.safety.cameras_helpers import API, _fake_geo, event, world

__all__ = ["_fake_geo", "world"]


def test_demo_loads(client, db, world):
    box = person(db, ["camera_feed"], username="aibox", is_machine=True)
    ctx = DemoContext()
    ctx.user_ids["aibox"] = box.id
    ctx.department_ids["县城市运行管理中心"] = world.centre
    with db.unit_of_work() as s:
        demo_cameras.load(s, ctx)
    with db.reading() as s:
        cams = list(s.scalars(select(Camera)))
        first_code = cams[0].code
        assert len(cams) == 30
        for c in cams:
            assert cameras.check_code(s, c.code) == c.code
        outcomes = dict(s.execute(select(CameraEvent.outcome, func.count()).group_by(CameraEvent.outcome)).all())
        assert outcomes.get(EventOutcome.CASE, 0) >= 10 and outcomes.get(EventOutcome.UNMAPPED, 0) >= 3
        assert sum(outcomes.values()) >= 280
        assert (
            s.scalar(select(func.count()).select_from(Case).where(Case.channel == Channel.CAMERA))
            == outcomes[EventOutcome.CASE]
        )
    token = next(n for n in ctx.notes if "/api/v1/safety/cameras/events" in n).rsplit(" ", 1)[1]
    body = {**event(1), "camera": first_code}
    r = client.post(f"{API}/events", json=body, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code in (200, 201, 202), r.text
    login(client, person(db, ["shift_leader"]))
    assert client.get("/safety/cameras").status_code == 200
    assert client.get("/safety/cameras/events").status_code == 200
