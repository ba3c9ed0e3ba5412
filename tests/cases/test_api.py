"""The cases JSON API: report, act (409s), object-level access, attachments, routing, 12345."""

from __future__ import annotations

import io
import socket
import threading
import time

import httpx
import pytest
import uvicorn
from openpyxl import Workbook
from PIL import Image

from countyos.cases.models import CategoryKind
from countyos.cases.service import categories
from tests.cases.conftest import FACTORY
from tests.factories import token_for

POINT = {"lon": 119.27, "lat": 28.59}


def bearer(db, p, scopes):
    return {"Authorization": f"Bearer {token_for(db, p, scopes)}"}


ALL = [
    "case.read",
    "case.read_all",
    "case.report",
    "case.intake",
    "case.shift",
    "case.dispatch",
    "case.handle",
    "case.inspect",
    "case.supervise",
    "case.routing",
    "case.configure",
    "case.pii",
    "case.hotline",
    "case.evaluate",
]


def h(db, p):
    from countyos.org.service import users

    with db.reading() as s:
        held = users.get(s, user_id=p.id).permission_codes
    return bearer(db, p, sorted(set(ALL) & held))


def new_case(client, db, world, **kw):
    body = {"service_code": "C01001", "description": "井盖缺失", **POINT, **kw}
    r = client.post("/api/v1/cases", json=body, headers=h(db, world.inspector))
    assert r.status_code in (200, 201), r.text
    return r.json()


def test_report_and_act_through_the_api(client, db, world):
    c = new_case(client, db, world, idempotency_key="phone-7:0001")
    assert c["state"] == "reported" and c["township_code"] == "331123100" and c["level"] in ("green", "red")
    again = client.post(
        "/api/v1/cases",
        json={"service_code": "C01001", **POINT, "idempotency_key": "phone-7:0001"},
        headers=h(db, world.inspector),
    )
    assert again.status_code == 200 and again.json()["id"] == c["id"]
    r = client.post(
        f"/api/v1/cases/{c['id']}/actions", json={"action": "accept", "version": 1}, headers=h(db, world.intake)
    )
    assert r.status_code == 200 and r.json()["state"] == "accepted" and r.json()["version"] == 2
    assert "register" not in r.json()["allowed_actions"]
    r = client.post(f"/api/v1/cases/{c['id']}/actions", json={"action": "dispatch"}, headers=h(db, world.dispatcher))
    assert r.status_code == 409
    body = r.json()
    assert r.headers["content-type"].startswith("application/problem+json")
    assert (
        body["code"] == "transition_not_allowed"
        and body["state"] == "accepted"
        and body["allowed_actions"] == ["relocate", "merge", "request_void", "comment"]
    )
    r = client.post(
        f"/api/v1/cases/{c['id']}/actions", json={"action": "register", "version": 1}, headers=h(db, world.shift)
    )
    assert r.status_code == 409 and r.json()["code"] == "stale_version" and r.json()["current_version"] == 2
    r = client.post(f"/api/v1/cases/{c['id']}/actions", json={"action": "fly"}, headers=h(db, world.shift))
    assert r.status_code == 422
    detail = client.get(f"/api/v1/cases/{c['id']}", headers=h(db, world.intake)).json()
    assert [e["action"] for e in detail["timeline"]] == ["report", "accept"]
    assert detail["reporters"][0]["channel"] == "grid"


def test_outside_the_county_is_a_clear_422(client, db, world):
    r = client.post(
        "/api/v1/cases", json={"service_code": "C01001", "lon": 121.5, "lat": 31.2}, headers=h(db, world.inspector)
    )
    assert r.status_code == 422 and r.json()["code"] == "outside_county"


def test_department_sees_only_its_cases(client, db, world):
    c = new_case(client, db, world)
    for p, action in ((world.intake, "accept"), (world.shift, "register"), (world.dispatcher, "dispatch")):
        assert (
            client.post(f"/api/v1/cases/{c['id']}/actions", json={"action": action}, headers=h(db, p)).status_code
            == 200
        )
    mine = client.get("/api/v1/cases", headers=h(db, world.handler)).json()
    assert [x["id"] for x in mine["items"]] == [c["id"]] and mine["items"][0]["allowed_actions"][:2] == [
        "sign",
        "request_return",
    ]
    assert client.get("/api/v1/cases", headers=h(db, world.handler2)).json()["total"] == 0
    assert client.get(f"/api/v1/cases/{c['id']}", headers=h(db, world.handler2)).status_code == 404


def _jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (800, 600), (200, 30, 30)).save(buf, "JPEG")
    return buf.getvalue()


def test_photo_upload_is_sniffed_hashed_and_thumbnailed(client, db, world, settings):
    hdr = h(db, world.inspector)
    r = client.post("/api/v1/case-attachments", files={"file": ("x.png", _jpeg(), "image/png")}, headers=hdr)
    assert r.status_code == 201 and r.json()["media_type"] == "image/jpeg"  # the bytes decide, not the name
    att = r.json()
    assert (settings.attachments_dir / att["sha256"][:2] / att["sha256"][2:4] / att["sha256"]).is_file()
    c = new_case(client, db, world, attachment_ids=[att["id"]])
    thumb = client.get(f"/api/v1/case-attachments/{att['id']}?thumb=true", headers=h(db, world.intake))
    assert thumb.status_code == 200 and Image.open(io.BytesIO(thumb.content)).size == (320, 240)
    assert c["id"]
    bad = client.post(
        "/api/v1/case-attachments", files={"file": ("a.jpg", b"MZ\x90\x00 not a photo", "image/jpeg")}, headers=hdr
    )
    assert bad.status_code == 422


def test_routing_rules_are_editable_and_overrides_reported(client, db, world):
    hdr = h(db, world.dispatcher)
    r = client.post(
        "/api/v1/case-routing",
        json={"category_id": world.cat_manhole, "township_code": "331123100", "department_id": world.water},
        headers=hdr,
    )
    assert r.status_code == 201
    c = new_case(client, db, world)
    detail = client.get(f"/api/v1/cases/{c['id']}", headers=hdr).json()
    assert detail["suggested_department_id"] == world.water  # the township rule beats the category-group rule
    assert client.post("/api/v1/case-routing", json={"department_id": 99999}, headers=hdr).status_code == 404
    assert (
        client.post(
            "/api/v1/case-routing", json={"department_id": world.water}, headers=h(db, world.handler)
        ).status_code
        == 403
    )
    rep = client.get("/api/v1/case-routing/overrides", headers=hdr)
    assert rep.status_code == 200


def _sheet(rows):
    wb = Workbook()
    ws = wb.active
    ws.append(["工单编号", "诉求分类", "诉求类型", "内容", "经度", "纬度", "诉求人", "联系电话", "紧急程度"])
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_12345_import_reports_each_row(client, db, world):
    with db.unit_of_work() as s:
        categories.import_hotline_taxonomy(
            s, actor=FACTORY, data="code,name\n01,城市管理\n0101,市容环境\n010101,占道经营\n".encode()
        )
        assert categories.get_by_code(s, kind=CategoryKind.HOTLINE, code="010101") is not None
    data = _sheet(
        [
            ["12345202603020001", "010101", "投诉", "菜市场门口占道", 119.27, 28.59, "张三", "13800001111", "一般"],
            ["12345202603020002", "999999", "投诉", "未知分类", 119.27, 28.59, "李四", "13800002222", "一般"],
            ["12345202603020003", "010101", "投诉", "县外", 121.0, 31.0, "王五", "13800003333", "紧急"],
            ["12345202603020001", "010101", "投诉", "重复导入", 119.27, 28.59, "张三", "13800001111", "一般"],
        ]
    )
    hdr = h(db, world.intake)
    r = client.post("/api/v1/hotline/import", files={"file": ("orders.xlsx", data)}, headers=hdr)
    assert r.status_code == 200, r.text
    rep = r.json()
    assert [x["status"] for x in rep["rows"]] == ["created", "error", "error", "duplicate"]
    assert rep["created"] == 1 and rep["errors"] == 2
    c = client.get("/api/v1/cases?channel=hotline", headers=hdr).json()
    assert c["total"] == 1
    detail = client.get(f"/api/v1/cases/{c['items'][0]['id']}", headers=hdr).json()
    assert detail["reporters"][0]["phone"] == "138****1111"  # masked
    contact = client.get(f"/api/v1/cases/{detail['id']}/reporters/{detail['reporters'][0]['id']}/contact", headers=hdr)
    assert contact.json()["phone"] == "13800001111"
    bad = client.post("/api/v1/hotline/import", files={"file": ("x.xlsx", b"not excel")}, headers=hdr)
    assert bad.status_code == 422


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.committed  # requests in parallel, each in a transaction of its own
@pytest.mark.postgres_only
def test_parallel_actions_exactly_one_wins(app, db, world):
    """Real parallel HTTP requests on PostgreSQL: the same action with the same version, 8 at once."""
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", workers=1))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        for _ in range(100):
            if server.started:
                break
            time.sleep(0.05)
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base) as c:
            case = c.post(
                "/api/v1/cases", json={"service_code": "C01001", **POINT}, headers=h(db, world.inspector)
            ).json()
        hdrs = [h(db, world.intake) for _ in range(8)]
        barrier = threading.Barrier(8)
        codes: list[int] = []

        def fire(hdr):
            with httpx.Client(base_url=base, timeout=30) as c:
                barrier.wait()
                codes.append(
                    c.post(
                        f"/api/v1/cases/{case['id']}/actions",
                        json={"action": "accept", "version": case["version"]},
                        headers=hdr,
                    ).status_code
                )

        threads = [threading.Thread(target=fire, args=(hd,)) for hd in hdrs]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(codes) == [200] + [409] * 7
        with httpx.Client(base_url=base) as c:
            detail = c.get(f"/api/v1/cases/{case['id']}", headers=h(db, world.intake)).json()
        assert detail["version"] == 2 and [e["action"] for e in detail["timeline"]] == ["report", "accept"]
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_local_category_extension(client, db, world):
    hdr = h(db, world.shift)
    r = client.post(
        "/api/v1/case-categories",
        json={"code": "0101", "name": "电动车违规充电", "public": True, "register_condition": "楼道内充电"},
        headers=hdr,
    )
    assert r.status_code == 201 and r.json()["service_code"] == "L0101" and r.json()["kind"] == "local"
    assert client.post("/api/v1/case-categories", json={"code": "0101", "name": "重复"}, headers=hdr).status_code == 409
    assert client.post("/api/v1/case-categories", json={"code": "a b", "name": "x"}, headers=hdr).status_code == 422
    c = client.post("/api/v1/cases", json={"service_code": "L0101", **POINT}, headers=h(db, world.inspector))
    assert c.status_code == 201 and c.json()["category_name"] == "电动车违规充电"
    assert client.get("/open311/v2/services/L0101.json").status_code == 200


def test_a_category_patch_refuses_null_for_what_a_category_always_has(client, db, world):
    hdr = h(db, world.shift)
    for field in ("default_priority", "public", "name"):
        r = client.patch(f"/api/v1/case-categories/{world.cat_garbage}", json={field: None}, headers=hdr)
        assert r.status_code == 422, r.text
        assert [e["field"] for e in r.json()["errors"]] == [field]
    r = client.patch(f"/api/v1/case-categories/{world.cat_garbage}", json={"close_condition": None}, headers=hdr)
    assert r.status_code == 200 and r.json()["close_condition"] is None
