"""The camera register: GB/T 28181 codes checked (length, province/division, camera type codes), the
position placed on a township and grid, the file import all or nothing, and the event types' settings."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from countyos.core.errors import ValidationFailed
from countyos.safety.models.cameras import Camera
from countyos.safety.schemas.cameras import EventTypeIn
from countyos.safety.service import cameras
from tests.factories import login, person
from tests.safety.cameras_helpers import API, KEEPER, _fake_geo, add_camera, code, world

__all__ = ["_fake_geo", "world"]


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("3311230000132000001", "20 digits"),
        ("331123000013200000012", "20 digits"),
        ("33112300001320000a01", "20 digits"),
        ("99112300001320000001", "province"),
        ("33112300001180000001", "NVR"),
        ("33112300001110000001", "DVR"),
        ("33112300002000000001", "not a camera"),
    ],
)
def test_codes_refused(db, value, fragment):
    with db.reading() as s, pytest.raises(ValidationFailed) as err:
        cameras.check_code(s, value)
    assert fragment in str(err.value) or fragment in str(err.value.params)
    assert err.value.errors[0]["field"] == "code"


def test_camera_codes_accepted(db):
    with db.reading() as s:
        assert cameras.check_code(s, code(1, "131")) == code(1, "131")
        assert cameras.check_code(s, code(2, "132")) == code(2, "132")
        assert cameras.type_name_of(code(2)) == "Network camera (IPC)"


def test_division_must_be_the_countys_province(db, monkeypatch):
    class County:
        code = "330000"

    monkeypatch.setattr(cameras.geo, "the_county", lambda session: County())
    with db.reading() as s:
        assert cameras.check_code(s, code(1))
        with pytest.raises(ValidationFailed) as err:
            cameras.check_code(s, "32050500001320000001")
    assert err.value.errors[0]["field"] == "code"


def test_camera_is_placed_and_codes_are_unique(db, world):
    cam_id = add_camera(db, 1, lon=119.10, lat=28.50)
    with db.reading() as s:
        cam = s.get(Camera, cam_id)
        assert cam is not None and cam.township_name == "妙高街道" and cam.grid_code
    with pytest.raises(ValidationFailed):
        add_camera(db, 1)


CSV = "国标编码,名称,经度,纬度,朝向,位置描述\n{rows}"


def test_import_all_or_nothing(client, db, world):
    keeper = person(db, ["data_admin"])
    login(client, keeper)
    good = f"{code(11)},北街口,119.27,28.59,90,北街与中山路口\n{code(12)},南街口,119.28,28.58,270,南街"
    bad = good + f"\n{code(13, '118')},录像机,119.2,28.5,0,机房"
    from tests.factories import token_for

    h = {"Authorization": f"Bearer {token_for(db, keeper, ['safety.camera.manage'])}"}
    r = client.post(f"{API}/import", files={"file": ("c.csv", CSV.format(rows=bad).encode())}, headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["row"] == 4
    with db.reading() as s:
        assert s.scalar(select(Camera)) is None
    r = client.post(f"{API}/import", files={"file": ("c.csv", CSV.format(rows=good).encode())}, headers=h)
    assert r.status_code == 200 and r.json() == {"added": 2, "updated": 0}
    r = client.post(f"{API}/import", files={"file": ("c.csv", CSV.format(rows=good).encode())}, headers=h)
    assert r.json() == {"added": 0, "updated": 2}


def test_event_types_from_data_and_saved(db, world):
    with db.unit_of_work() as s:
        cameras.ensure_types(s)
        codes = {t.code: t for t in cameras.list_types(s)}
        assert codes["occupy_road"].category_code == "M09006" and codes["road_water"].category_code is None
        with pytest.raises(ValidationFailed):
            cameras.save_type(
                s, actor=KEEPER, code="road_water", data=EventTypeIn(name_zh="道路积水", category_code="M99999")
            )
        t = cameras.save_type(
            s,
            actor=KEEPER,
            code="road_water",
            data=EventTypeIn(name_zh="道路积水", category_code="M06010", threshold=0.5),
        )
        assert t.category_code == "M06010" and t.threshold == 0.5
