"""Fixtures of the camera tests: the small cases county (categories with routing, the stand-in locator),
an analysis box's API token, cameras and small snapshots."""

from __future__ import annotations

import base64
import io
from datetime import datetime, timedelta
from typing import Any

from countyos.core.actor import Actor
from countyos.core.clock import utcnow
from countyos.core.db import Database
from countyos.safety.permissions import CAMERA_FEED
from countyos.safety.schemas.cameras import CameraIn
from countyos.safety.service import cameras
from tests.cases.conftest import _fake_geo, world
from tests.factories import person, token_for

__all__ = ["_fake_geo", "world"]

API = "/api/v1/safety/cameras"
KEEPER = Actor(id=None, name="camera-keeper", permissions=frozenset({"safety.camera.manage"}))


def code(n: int, kind: str = "132") -> str:
    """A GB/T 28181 id in 遂昌 (331123): centre 33112300, industry 00, type KIND, network 0, serial N."""
    return f"3311230000{kind}0{n:06d}"


def feed(db: Database) -> dict[str, str]:
    box = person(db, ["camera_feed"], is_machine=True)
    return {"Authorization": f"Bearer {token_for(db, box, [CAMERA_FEED])}"}


def add_camera(db: Database, n: int = 1, *, lon: float = 119.2712, lat: float = 28.5921, **changes: Any) -> int:
    data = CameraIn(code=code(n), name=f"测试摄像机{n}", lon=lon, lat=lat, direction=90, place="北街口", **changes)
    with db.unit_of_work() as s:
        return cameras.create(s, actor=KEEPER, data=data).id


def jpeg(w: int = 64, h: int = 48) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (w, h), (120, 90, 60)).save(buf, "JPEG", quality=70)
    return buf.getvalue()


def event(n: int = 1, *, type: str = "garbage", at: datetime | None = None, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "camera": code(n),
        "type": type,
        "time": (at or utcnow() - timedelta(minutes=1)).astimezone().isoformat(),
        "confidence": 0.9,
    }
    body.update(changes)
    return body


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
