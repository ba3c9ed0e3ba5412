"""The demo county's camera-detected events (视频智能发现): 30 cameras in 妙高 and 云峰 streets, markets and
on the banks of the 松阴溪 with GB/T 28181 codes of the county; the event types of the data file; about
300 events over the last 30 days — those of the last three days posted through the intake (cases opened
through the cases service, duplicates folded, snapshots kept), older ones below-threshold or unmapped
rows only — and the analysis box's API token."""

from __future__ import annotations

import io
import random
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from countyos.cases.service import categories
from countyos.core.actor import Actor
from countyos.core.clock import utcnow
from countyos.core.errors import CountyError
from countyos.org.service import tokens
from countyos.safety.models.cameras import CameraEvent, EventOutcome
from countyos.safety.permissions import CAMERA_FEED
from countyos.safety.schemas.cameras import CameraEventIn, CameraIn
from countyos.safety.service import cameras, cameras_intake

KEEPER = Actor(id=None, name="demo")
# name, lon, lat, faces (degrees from north), place, industry (08 城市管理, 04 交通路面), type (131/132)
CAMERAS = [
    ("北街与解放街口", 119.2768, 28.5941, 180, "妙高街道北街与解放街交叉口", "08", "132"),
    ("北街农贸市场东门", 119.2795, 28.5962, 270, "妙高街道北街农贸市场东门", "08", "132"),
    ("北街农贸市场西门", 119.2781, 28.5960, 90, "妙高街道北街农贸市场西门", "08", "132"),
    ("中山路步行街北口", 119.2752, 28.5928, 200, "妙高街道中山路步行街", "08", "132"),
    ("中山路步行街南口", 119.2749, 28.5899, 20, "妙高街道中山路步行街", "08", "132"),
    ("人民广场东侧", 119.2731, 28.5915, 120, "妙高街道人民广场", "08", "132"),
    ("人民广场西侧", 119.2712, 28.5913, 300, "妙高街道人民广场", "08", "131"),
    ("妙高小学门口", 119.2779, 28.5938, 45, "妙高街道解放街妙高小学", "08", "132"),
    ("汽车站出站口", 119.2830, 28.5978, 160, "妙高街道汽车站", "04", "132"),
    ("汽车站停车场", 119.2838, 28.5985, 220, "妙高街道汽车站停车场", "04", "132"),
    ("君子路夜市", 119.2702, 28.5887, 90, "妙高街道君子路", "08", "132"),
    ("君子路与新路湾路口", 119.2688, 28.5871, 0, "妙高街道君子路", "04", "132"),
    ("松阴溪滨江公园北", 119.2740, 28.5862, 170, "松阴溪北岸滨江公园", "08", "132"),
    ("松阴溪滨江公园南", 119.2765, 28.5848, 350, "松阴溪北岸滨江公园", "08", "131"),
    ("松阴溪二桥北堍", 119.2801, 28.5855, 200, "松阴溪二桥", "04", "132"),
    ("松阴溪堤岸垃圾点", 119.2692, 28.5851, 150, "松阴溪北岸堤岸", "08", "132"),
    ("南门菜场", 119.2721, 28.5879, 60, "妙高街道南门菜场", "08", "132"),
    ("县医院门口", 119.2810, 28.5925, 270, "妙高街道县人民医院", "04", "132"),
    ("遂昌中学门口", 119.2846, 28.5950, 300, "妙高街道遂昌中学", "08", "132"),
    ("云峰街道办前", 119.2640, 28.5860, 90, "云峰街道办事处", "08", "132"),
    ("云峰工业园区大门", 119.2615, 28.5853, 180, "云峰街道工业园区", "04", "132"),
    ("云峰农贸市场", 119.2652, 28.5842, 0, "云峰街道农贸市场", "08", "132"),
    ("云峰新村口", 119.2600, 28.5835, 45, "云峰街道新村", "08", "131"),
    ("云峰渣土消纳点", 119.2580, 28.5820, 135, "云峰街道渣土消纳点旁", "08", "132"),
    ("金岸路口", 119.2668, 28.5902, 250, "云峰街道金岸路", "04", "132"),
    ("龙谷路与金岸路口", 119.2632, 28.5895, 10, "云峰街道龙谷路", "04", "132"),
    ("体育中心停车场", 119.2885, 28.6005, 200, "县体育中心", "04", "132"),
    ("湖山路烧烤街", 119.2870, 28.5968, 280, "妙高街道湖山路", "08", "132"),
    ("文化艺术中心广场", 119.2905, 28.5990, 160, "县文化艺术中心", "08", "132"),
    ("城北消防通道", 119.2815, 28.6010, 90, "妙高街道城北小区消防通道", "08", "132"),
]
# what each place tends to see
LIKELY = {
    "市场": ["occupy_road", "shop_outside", "garbage", "stall"],
    "菜场": ["occupy_road", "garbage", "stall"],
    "步行街": ["shop_outside", "stall", "bike_parking"],
    "广场": ["stall", "crowd", "bike_parking"],
    "车站": ["illegal_parking", "stall"],
    "停车场": ["illegal_parking"],
    "路口": ["illegal_parking", "road_water", "bike_parking"],
    "滨江": ["garbage", "outdoor_bbq", "smoke_fire"],
    "溪": ["fly_tipping", "garbage", "road_water"],
    "烧烤": ["outdoor_bbq", "smoke_fire", "occupy_road"],
    "渣土": ["fly_tipping"],
    "消防": ["fire_lane"],
    "学": ["illegal_parking", "stall"],
    "医院": ["illegal_parking"],
}
COLOURS = [(180, 70, 60), (70, 130, 180), (90, 150, 80), (160, 120, 60), (120, 90, 150)]


def _likely(name: str) -> list[str]:
    for key, kinds in LIKELY.items():
        if key in name:
            return kinds
    return ["garbage", "illegal_parking"]


def _snapshot(rng: random.Random) -> bytes:
    """A small stand-in picture (a street scene's colours and a box), as a box would send."""
    from PIL import Image, ImageDraw

    im = Image.new("RGB", (320, 180), (200, 205, 210))
    draw = ImageDraw.Draw(im)
    draw.rectangle((0, 110, 320, 180), fill=(110, 110, 115))
    x, y = rng.randrange(20, 220), rng.randrange(60, 110)
    draw.rectangle((x, y, x + 70, y + 50), fill=rng.choice(COLOURS), outline=(255, 40, 40), width=3)
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=70)
    return buf.getvalue()


def load(session: Session, ctx: Any) -> None:
    rng = random.Random(28181)
    county = getattr(ctx, "county_code", "331123") or "331123"
    owner = ctx.department_ids.get("县城市运行管理中心") or ctx.department_ids.get("县公安局")
    traffic = ctx.department_ids.get("县交通运输局") or owner
    cams = []
    for i, (name, lon, lat, faces, place, industry, kind) in enumerate(CAMERAS, start=1):
        data = CameraIn(
            code=f"{county}00{industry}{kind}0{i:06d}",
            name=name,
            lon=lon,
            lat=lat,
            direction=faces,
            height_m=round(rng.uniform(4.5, 9.0), 1),
            place=place,
            department_id=traffic if industry == "04" else owner,
            notes="球机，带智能分析" if kind == "132" else "",
        )
        try:
            cams.append(cameras.create(session, actor=KEEPER, data=data, audited=False))
        except CountyError:  # a county whose outline does not hold the seat's streets: skip the spot
            continue
    cameras.ensure_types(session)
    types = {t.code: t for t in cameras.list_types(session)}
    box_id = ctx.user_ids.get("aibox")
    box = Actor(id=box_id, name="aibox", permissions=frozenset({CAMERA_FEED}))
    now = utcnow()
    mapped = any(categories.info_by_service_code(session, code=t.category_code or "") for t in types.values())
    recent = posted = 0
    # the last three days: through the intake, so that cases open (and repeats fold) as they would
    if cams and mapped:
        for _ in range(48):
            cam = rng.choice(cams)
            kind = rng.choice(_likely(cam.name))
            at = now - timedelta(minutes=rng.randrange(10, 3 * 24 * 60))
            confidence = round(rng.uniform(0.45, 0.98), 2)
            posted_in = CameraEventIn(camera=cam.code, type=kind, time=at, confidence=confidence)
            snap = _snapshot(rng) if confidence >= 0.6 else None
            checked = cameras_intake.Checked(posted_in, at, snap)
            cameras_intake.intake(session, actor=box, checked=checked, now=at, audited=False)
            posted += 1
            if rng.random() < 0.35:  # the box sees it again a few minutes later
                again = at + timedelta(minutes=rng.randrange(3, 20))
                if again < now:
                    repeat = CameraEventIn(
                        camera=cam.code, type=kind, time=again, confidence=min(0.99, confidence + 0.03)
                    )
                    cameras_intake.intake(
                        session,
                        actor=box,
                        checked=cameras_intake.Checked(repeat, again, None),
                        now=again,
                        audited=False,
                    )
                    posted += 1
        recent = posted
    # days 3–30: rows only — dropped under the threshold, or of types nobody has mapped yet
    rows = []
    for _ in range(250 if cams else 0):
        cam = rng.choice(cams)
        at = now - timedelta(minutes=rng.randrange(3 * 24 * 60, 30 * 24 * 60 - 60))
        if rng.random() < 0.85:
            kind = rng.choice(_likely(cam.name))
            t = types.get(kind)
            outcome = EventOutcome.BELOW_THRESHOLD
            confidence = round(rng.uniform(0.2, (t.threshold if t else 0.6) - 0.01), 2)
            if t is None or t.category_code is None or not t.enabled:
                outcome = EventOutcome.UNMAPPED
        else:
            kind = rng.choice(["road_water", "crowd", "helmet_missing"])
            outcome, confidence = EventOutcome.UNMAPPED, round(rng.uniform(0.6, 0.95), 2)
        rows.append(
            CameraEvent(
                camera_id=cam.id,
                type_code=kind,
                occurred_at=at,
                received_at=at + timedelta(seconds=2),
                confidence=confidence,
                outcome=outcome,
                count=1,
                extra={},
            )
        )
    session.add_all(rows)
    session.flush()
    if box_id is not None:
        _, plain = tokens.create(
            session, actor=KEEPER, name="视频分析盒子（演示）", user_id=box_id, scopes=[CAMERA_FEED]
        )
        ctx.notes.append(
            f"Cameras: {len(cams)} cameras, {recent + len(rows)} events over 30 days "
            "(/safety/cameras, /safety/cameras/events, /safety/cameras/types)."
        )
        ctx.notes.append(
            f"Camera analysis box token for POST /api/v1/safety/cameras/events (Authorization: Bearer): {plain}"
        )
