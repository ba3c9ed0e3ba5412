"""Bad input gets a clear 4xx in problem+json and leaves no trace (the audit log aside): numbers out
of range, oversized bodies (declared or streamed without Content-Length), deeply nested JSON, uploads
that lie about their type, are too large or are decompression bombs, and poison MQTT messages.
"""

from __future__ import annotations

import io
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from PIL import Image

from countyos.app import MAX_BODY_BYTES
from countyos.cases.service.attachments import MAX_BYTES as MAX_UPLOAD
from tests.security.world import files_under, row_counts

PROBLEM = "application/problem+json"
HUGE = "9" * 30  # beyond 64-bit integers


def problem(r, status: int | tuple[int, ...]) -> dict:
    statuses = status if isinstance(status, tuple) else (status,)
    assert r.status_code in statuses, (r.status_code, r.text[:500])
    assert r.headers["content-type"].startswith(PROBLEM), r.headers["content-type"]
    body = r.json()
    assert body["status"] == r.status_code and body["code"] and body["detail"]
    return body


@pytest.fixture
def h(db, world) -> dict[str, dict[str, str]]:
    """Bearer headers of the user with every operational permission and of the system administrator."""
    return {"ops": world.bearer(db, world.ops_all), "admin": world.bearer(db, world.sysadmin)}


@pytest.fixture
def untouched(db, settings, h) -> Iterator[None]:
    """The block changes no table (the audit log aside) and writes no attachment file."""
    before, files = row_counts(db), files_under(settings.attachments_dir)
    yield
    after = row_counts(db)
    changed = {t: (before[t], after[t]) for t in before if before[t] != after[t]}
    assert not changed, f"refused requests left rows behind: {changed}"
    assert files_under(settings.attachments_dir) == files


def streamed(chunks: int, size: int = 1_000_000, head: bytes = b"", tail: bytes = b"") -> Iterator[bytes]:
    """A body sent without Content-Length (chunked transfer encoding)."""
    yield head
    for _ in range(chunks):
        yield b"a" * size
    yield tail


def multipart(data: bytes, name: str = "photo.jpg", media_type: str = "image/jpeg") -> tuple[bytes, str]:
    head = (
        f'--b0undary\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        f"Content-Type: {media_type}\r\n\r\n"
    ).encode()
    return head + data + b"\r\n--b0undary--\r\n", "multipart/form-data; boundary=b0undary"


# --- numbers ------------------------------------------------------------------------------------


def test_numbers_beyond_the_database_range_are_a_422(client, world, h, untouched):
    ops, admin = h["ops"], h["admin"]
    problem(client.get(f"/api/v1/departments/{HUGE}", headers=admin), 422)
    problem(client.get(f"/api/v1/users?department_id={HUGE}", headers=admin), 422)
    problem(client.get(f"/api/v1/cases/{HUGE}", headers=ops), 422)
    problem(client.get(f"/api/v1/cases?category_id={HUGE}", headers=ops), 422)
    r = client.post(
        f"/api/v1/cases/{world.case_works}/actions",
        json={"action": "dispatch", "department_id": int(HUGE)},
        headers=ops,
    )
    problem(r, (409, 422))
    problem(client.patch(f"/api/v1/departments/{world.works}", json={"parent_id": int(HUGE)}, headers=admin), 422)
    problem(client.get(f"/sta/v1.1/Things({HUGE})"), (400, 404, 422))


# --- size ---------------------------------------------------------------------------------------


def test_a_declared_oversized_body_is_refused_before_it_is_read(client, h, untouched):
    body = b'{"description": "' + b"x" * (MAX_BODY_BYTES + 10) + b'"}'
    r = client.post("/api/v1/cases", content=body, headers={**h["ops"], "content-type": "application/json"})
    assert problem(r, 413)["code"] == "payload_too_large"


def test_bodies_streamed_without_a_length_stop_at_the_limit(client, world, h, untouched):
    chunks = MAX_BODY_BYTES // 1_000_000 + 2
    ops = h["ops"]
    r = client.post(
        "/api/v1/sensing/ingest",
        content=streamed(chunks, head=b'{"observations": ['),
        headers={"X-Device-Token": world.device_token, "content-type": "application/json"},
    )
    problem(r, 413)
    r = client.post("/api/v1/cases", content=streamed(chunks), headers={**ops, "content-type": "application/json"})
    problem(r, 413)
    body, ctype = multipart(b"")
    head, tail = body.split(b"\r\n--b0undary--")
    r = client.post(
        "/api/v1/case-attachments",
        content=streamed(chunks, head=head + b"\xff\xd8\xff", tail=b"\r\n--b0undary--" + tail),
        headers={**ops, "content-type": ctype},
    )
    problem(r, 413)
    r = client.post(
        "/open311/v2/requests.json",
        content=streamed(chunks, head=b"api_key=" + world.open311_key.encode() + b"&description="),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 413


def test_deeply_nested_json_is_a_4xx(client, world, h, untouched):
    ops = h["ops"]
    arrays = b"[" * 200_000 + b"]" * 200_000
    objects = b'{"a":' * 100_000 + b"1" + b"}" * 100_000
    for body in (arrays, objects):
        for url in ("/api/v1/cases", f"/api/v1/cases/{world.case_works}/actions", "/api/v1/sensing/rules"):
            problem(client.post(url, content=body, headers={**ops, "content-type": "application/json"}), (400, 422))
        problem(client.post("/sta/v1.1/Things", content=body, headers={**ops, "content-type": "application/json"}), 400)
        r = client.patch(
            f"/api/v1/departments/{world.works}",
            content=body,
            headers={**h["admin"], "content-type": "application/json"},
        )
        problem(r, (400, 422))


def test_deeply_nested_json_to_the_ingest_endpoint_is_a_4xx(client, world, untouched):
    for body in (
        b'{"observations": [' + b"[" * 200_000 + b"]" * 200_000 + b"]}",
        b'{"observations": [{"value": ' + b'{"a":' * 100_000 + b"1" + b"}" * 100_000 + b"}]}",
        b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
    ):
        r = client.post(
            "/api/v1/sensing/ingest",
            content=body,
            headers={"X-Device-Token": world.device_token, "content-type": "application/json"},
        )
        problem(r, (400, 422))


# --- uploads ------------------------------------------------------------------------------------


def png(width: int, height: int, mode: str = "L") -> bytes:
    buf = io.BytesIO()
    Image.new(mode, (width, height)).save(buf, "PNG", optimize=False)
    return buf.getvalue()


def upload(client, headers, data: bytes, name: str, media_type: str):
    return client.post("/api/v1/case-attachments", files={"file": (name, data, media_type)}, headers=headers)


def test_uploads_that_lie_about_their_type_are_refused(client, h, untouched):
    ops = h["ops"]
    lies = [
        (b"<html><script>alert(1)</script></html>", "photo.jpg", "image/jpeg"),  # HTML named as a photo
        (b"MZ\x90\x00\x03" + b"\0" * 200, "photo.png", "image/png"),  # a Windows program
        (b"\xff\xd8\xff<svg onload=alert(1)>", "photo.jpg", "image/jpeg"),  # JPEG magic, then markup
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "photo.png", "image/png"),  # a truncated PNG
        (b"GIF89a<script>alert(1)</script>", "a.gif", "image/gif"),
        (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "a.svg", "image/svg+xml"),
        (b"", "empty.jpg", "image/jpeg"),
    ]
    for data, name, media_type in lies:
        problem(upload(client, ops, data, name, media_type), 422)


def test_a_pdf_lookalike_is_served_as_a_pdf_never_as_a_page(client, db, world):
    """Bytes that start like a PDF are kept as a PDF; the browser is told not to sniff them."""
    ops = world.bearer(db, world.ops_all)
    r = upload(client, ops, b"%PDF-1.4\n<html><script>alert(1)</script>", "x.html", "text/html")
    assert r.status_code == 201 and r.json()["media_type"] == "application/pdf"
    got = client.get(f"/api/v1/case-attachments/{r.json()['id']}", headers=ops)
    assert got.status_code == 200
    assert got.headers["content-type"] == "application/pdf"
    assert got.headers["x-content-type-options"] == "nosniff"


def test_an_upload_over_the_size_limit_is_a_413(client, h, untouched):
    r = upload(client, h["ops"], b"\xff\xd8\xff" + b"\0" * MAX_UPLOAD, "big.jpg", "image/jpeg")
    assert problem(r, 413)["code"] == "payload_too_large"


def test_a_decompression_bomb_is_refused_before_it_is_decoded(client, h, untouched):
    """A small file that decodes to a vast bitmap (20000 × 20000 px: 400 MB of pixels)."""
    ops = h["ops"]
    bomb = png(20_000, 20_000)
    assert len(bomb) < MAX_UPLOAD
    problem(upload(client, ops, bomb, "bomb.png", "image/png"), 422)


def test_an_image_under_pillows_own_bomb_limit_but_far_beyond_a_photo_is_refused(client, h, untouched):
    """12000 × 12000 px is below Pillow's error threshold (2 × 89 MP) but no phone takes such a photo;
    decoding it for the thumbnail costs about half a gigabyte per request."""
    problem(upload(client, h["ops"], png(12_000, 12_000), "big.png", "image/png"), 422)


# --- MQTT ---------------------------------------------------------------------------------------


def test_a_poison_mqtt_message_does_not_stop_ingestion(db, world):
    """A deeply nested message is refused and acknowledged; the valid message after it is stored."""
    from sqlalchemy import func, select

    from countyos.sensing.bridge import Bridge
    from countyos.sensing.models import Observation
    from tests.sensing.broker import Broker, available, free_port, subscribed
    from tests.sensing.test_mqtt import publisher, wait_for

    if not available():
        pytest.skip("needs the mosquitto broker")
    broker = Broker(free_port(), Path(tempfile.mkdtemp(prefix="countyos-mqtt-")))
    broker.start()
    bridge = Bridge(db, broker.url, client_id="countyos-poison")
    listening = subscribed(bridge.client)
    bridge.start()
    try:
        assert listening.wait(20)
        pub = publisher(broker.port, "poison")
        pub.publish("county/sec-wl-01/telemetry", b"[" * 100_000 + b"]" * 100_000, qos=1)
        pub.publish("county/sec-wl-01/telemetry", b'{"a":' * 50_000 + b"1" + b"}" * 50_000, qos=1)
        pub.publish(
            "county/sec-wl-01/telemetry", orjson.dumps({"ts": int(time.time()) - 60, "water_level": 1.5}), qos=1
        )

        def stored() -> int:
            with db.reading() as s:
                return int(s.scalar(select(func.count()).select_from(Observation)) or 0)

        assert wait_for(lambda: stored() == 1, timeout=20), bridge.stats
        assert wait_for(lambda: bridge.stats.refused >= 2)
        pub.loop_stop()
    finally:
        bridge.stop()
        broker.stop()
