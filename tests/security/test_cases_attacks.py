"""Attacks on the cases domain: attachments, the public Open311 feed, image bombs, caching, bad input.

* an attachment is private unless the reporter sent it with a public report or staff published it
  (an audited action); public URLs carry a random token, never the sequential id;
* the public Open311 feed shows only reports the public made through public channels;
* a small image declaring a huge size is refused before any pixel is decoded, and decodes are bounded;
* case pages are never stored by browsers or proxies;
* bad dates and ids are 422/404, never 500; a permission failure is a 403, not a 409.
"""

from __future__ import annotations

import hashlib
import io
import re
import struct
import threading
import zlib

import pytest
from fastapi.testclient import TestClient
from PIL import Image, ImageFile
from sqlalchemy import select

from countyos.cases.lifecycle import Action
from countyos.cases.models import Attachment, Case
from countyos.cases.schemas import ActionIn
from countyos.cases.service import attachments, transitions
from countyos.core.errors import ValidationFailed
from countyos.org.models import AuditEvent
from tests.factories import csrf_from, login
from tests.security.world import World, new_case

O311 = "/open311/v2"


def _jpeg(size: tuple[int, int] = (64, 48), colour: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, "JPEG")
    return buf.getvalue()


def _png_bomb(width: int = 7000, height: int = 7000) -> bytes:
    """A valid PNG of a few KB that declares WIDTH × HEIGHT black-and-white pixels (all zero)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    row = b"\0" * (1 + (width + 7) // 8)  # filter byte + 1 bit a pixel
    idat = zlib.compress(row * height, 9)
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def _jpeg_claiming(width: int, height: int) -> bytes:
    """A small JPEG whose frame header (SOF0) is rewritten to claim WIDTH × HEIGHT."""
    data = bytearray(_jpeg((16, 16)))
    at = data.index(b"\xff\xc0")
    struct.pack_into(">HH", data, at + 5, height, width)
    return bytes(data)


@pytest.fixture
def no_decoding(monkeypatch):
    """Fails the test if any image is decoded (``load`` reads the pixels; ``open`` only the header)."""
    calls: list[tuple[int, int]] = []

    def load(self, *args, **kwargs):
        calls.append(self.size)
        raise AssertionError(f"decoded an image of {self.size}")

    monkeypatch.setattr(ImageFile.ImageFile, "load", load)
    return calls


def _attach_internal_photo(client, db, world: World, case_id: int) -> int:
    """The handler uploads a photo and attaches it to an internal comment; its id."""
    hdr = world.bearer(db, world.handler_works)
    up = client.post(
        "/api/v1/case-attachments", files={"file": ("fix.jpg", _jpeg(colour=(1, 2, 3)), "image/jpeg")}, headers=hdr
    )
    assert up.status_code == 201, up.text
    att_id = up.json()["id"]
    r = client.post(
        f"/api/v1/cases/{case_id}/actions",
        json={"action": "comment", "comment": "内部: 业主电话 13911112222", "attachment_ids": [att_id]},
        headers=hdr,
    )
    assert r.status_code == 200, r.text
    return att_id


def _open311_report(client, world: World, photo: bytes | None = None, text: str = "路边垃圾很多") -> str:
    data = {
        "api_key": world.open311_key,
        "service_code": "C01001",
        "lat": str(world.point_a[1]),
        "long": str(world.point_a[0]),
        "description": text,
        "first_name": "明",
        "last_name": "李",
        "phone": "13900009999",
    }
    files = {"media": ("p.jpg", photo, "image/jpeg")} if photo else None
    r = client.post(f"{O311}/requests.json", data=data, files=files)
    assert r.status_code == 200, r.text
    return r.json()[0]["service_request_id"]


# --- attachments are private unless published --------------------------------------------------


def test_an_internal_attachment_is_never_served_to_the_public(client, db, world: World):
    att_id = _attach_internal_photo(client, db, world, world.case_works)
    assert client.get(f"{O311}/media/{att_id}").status_code == 404
    for n in range(1, att_id + 3):  # no id of any attachment opens anything without a login
        assert client.get(f"{O311}/media/{n}").status_code == 404
    assert client.get(f"/api/v1/case-attachments/{att_id}").status_code == 401
    with db.reading() as s:
        att = s.get(Attachment, att_id)
        assert att.public is False and att.case_id == world.case_works
    # staff who may read the case still see it; those who may not, do not
    assert client.get(f"/api/v1/case-attachments/{att_id}", headers=world.bearer(db, world.intake)).status_code == 200
    other = world.bearer(db, world.handler_enforcement)
    assert client.get(f"/api/v1/case-attachments/{att_id}", headers=other).status_code == 404


def test_the_public_record_shows_the_reporters_photo_by_token_and_no_staff_file(client, db, world: World):
    number = _open311_report(client, world, photo=_jpeg(colour=(9, 9, 9)))
    with db.reading() as s:
        case_id = s.scalar(select(Case.id).where(Case.number == number))
        photo_row = s.scalars(select(Attachment).where(Attachment.case_id == case_id)).one()
        photo_id, photo_public, photo_token, photo_sha = (
            photo_row.id,
            photo_row.public,
            photo_row.public_token,
            photo_row.sha256,
        )
    for p, action in ((world.intake, "accept"), (world.shift, "register"), (world.dispatcher, "dispatch")):
        r = client.post(f"/api/v1/cases/{case_id}/actions", json={"action": action}, headers=world.bearer(db, p))
        assert r.status_code == 200, r.text
    staff_photo = _attach_internal_photo(client, db, world, case_id)
    row = client.get(f"{O311}/requests/{number}.json").json()[0]
    token = row["media_url"].rsplit("/", 1)[1]
    assert photo_public is True and token == photo_token
    assert len(token) >= 22 and not token.isdigit()
    photo = client.get(f"{O311}/media/{token}")
    public_copy = attachments.path_for(photo_sha).with_name(photo_sha + ".public.jpg")  # without EXIF
    assert photo.status_code == 200 and photo.content == public_copy.read_bytes()
    assert client.get(f"{O311}/media/{photo_id}").status_code == 404  # the id opens nothing
    with db.reading() as s:
        staff_token = s.get(Attachment, staff_photo).public_token
    assert client.get(f"{O311}/media/{staff_token}").status_code == 404
    listing = client.get(f"{O311}/requests.json").text
    assert staff_token not in listing and "13911112222" not in listing and "13900009999" not in listing


def test_staff_publish_an_attachment_by_an_audited_action(app, client, db, world: World):
    att_id = _attach_internal_photo(client, db, world, world.case_works)
    handler = world.bearer(db, world.handler_works)
    r = client.post(f"/api/v1/case-attachments/{att_id}/publish", json={"public": True}, headers=handler)
    assert r.status_code == 403 and r.json()["code"] == "permission_denied"
    intake = world.bearer(db, world.intake)
    r = client.post(f"/api/v1/case-attachments/{att_id}/publish", json={"public": True}, headers=intake)
    assert r.status_code == 200, r.text
    assert r.json()["public"] is True
    with db.reading() as s:
        att = s.get(Attachment, att_id)
        assert att.public is True
        token = att.public_token
        ev = s.scalars(select(AuditEvent).where(AuditEvent.action == "case.attachment.publish")).one()
        assert ev.target_id == str(att_id) and ev.detail["public"] is True
    assert client.get(f"{O311}/media/{token}").status_code == 404  # a grid case is never published
    # withdrawn from the case page (a form with the CSRF token)
    browser = TestClient(app)
    login(browser, world.intake)
    page = browser.get(f"/cases/{world.case_works}")
    assert f'action="/cases/{world.case_works}/attachments/{att_id}/publish"' in page.text
    r = browser.post(
        f"/cases/{world.case_works}/attachments/{att_id}/publish",
        data={"public": "0", "csrf_token": csrf_from(page.text)},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    with db.reading() as s:
        assert s.get(Attachment, att_id).public is False
        actions = [e.action for e in s.scalars(select(AuditEvent).where(AuditEvent.target_type == "case_attachment"))]
        assert actions.count("case.attachment.publish") == 1 and actions.count("case.attachment.unpublish") == 1


def test_every_upload_is_audited(client, db, world: World):
    hdr = world.bearer(db, world.worker_a)
    r = client.post("/api/v1/case-attachments", files={"file": ("a.jpg", _jpeg(), "image/jpeg")}, headers=hdr)
    assert r.status_code == 201
    number = _open311_report(client, world, photo=_jpeg(colour=(5, 6, 7)))
    with db.reading() as s:
        events = list(s.scalars(select(AuditEvent).where(AuditEvent.action == "case.attachment.upload")))
        assert [(e.target_type, e.detail["public"]) for e in events] == [
            ("case_attachment", False),
            ("case_attachment", True),
        ]
        assert events[0].target_id == str(r.json()["id"]) and events[0].detail["sha256"] == r.json()["sha256"]
        assert number


# --- the public Open311 feed ---------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_the_open311_feed_shows_only_what_the_public_reported(client, db, world: World, fmt):
    public_number = _open311_report(client, world, text="公众上报的问题")
    secret = new_case(db, world, world.intake, world.cat_garbage, world.point_b, "内部巡查: 某商户无证经营")
    with db.reading() as s:
        internal = [s.get(Case, cid).number for cid in (world.case_works, world.case_enforcement, secret)]
    listing = client.get(f"{O311}/requests.{fmt}")
    assert listing.status_code == 200
    assert public_number in listing.text
    for number in internal:
        assert number not in listing.text
        assert client.get(f"{O311}/requests/{number}.{fmt}").status_code == 404
        assert number not in client.get(f"{O311}/requests.{fmt}", params={"service_request_id": number}).text
    assert "内部巡查" not in listing.text and "井盖缺失" not in listing.text


def test_a_public_report_merged_into_an_internal_case_shows_no_internal_detail(client, db, world: World):
    number = _open311_report(client, world, text="井盖不见了")
    with db.reading() as s:
        cid = s.scalar(select(Case.id).where(Case.number == number))
        target = s.get(Case, world.case_works)
        target_number, target_desc = target.number, target.description
    r = client.post(
        f"/api/v1/cases/{cid}/actions",
        json={"action": "merge", "target_case_id": world.case_works},
        headers=world.bearer(db, world.dispatcher),
    )
    assert r.status_code == 200, r.text
    row = client.get(f"{O311}/requests/{number}.json").json()[0]
    assert row["service_request_id"] == number and row["description"] == "井盖不见了"
    assert row["status"] == "open"  # the case it joined is still being handled
    assert target_number not in str(row) and target_desc not in str(row)


# --- image bombs -----------------------------------------------------------------------------------


def test_a_small_png_declaring_49_megapixels_is_refused_before_decoding(app, client, db, world: World, no_decoding):
    bomb = _png_bomb()
    assert len(bomb) < 10_000
    hdr = world.bearer(db, world.worker_a)
    r = client.post("/api/v1/case-attachments", files={"file": ("b.png", bomb, "image/png")}, headers=hdr)
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    assert "49" in r.json()["detail"]
    data = {"api_key": world.open311_key, "service_code": "C01001", "lat": "28.6", "long": "119.27"}
    r = client.post(f"{O311}/requests.json", data=data, files={"media": ("b.png", bomb, "image/png")})
    assert r.status_code == 400 and "49" in r.json()[0]["description"]
    page = client.get("/report")
    r = client.post(
        "/report",
        data={
            "category_id": str(world.cat_manhole),
            "description": "x",
            "lon": str(world.point_a[0]),
            "lat": str(world.point_a[1]),
            "csrf_token": csrf_from(page.text),
        },
        files={"photos": ("b.png", bomb, "image/png")},
    )
    assert r.status_code == 422 and "49" in r.text
    assert no_decoding == []
    with db.reading() as s:
        assert s.scalar(select(Attachment.id).limit(1)) is None


def test_a_jpeg_is_decoded_at_reduced_scale_and_a_huge_one_not_at_all(db, world: World, monkeypatch):
    sizes: list[tuple[int, int]] = []
    real_load = ImageFile.ImageFile.load

    def load(self, *args, **kwargs):
        sizes.append(self.size)
        return real_load(self, *args, **kwargs)

    monkeypatch.setattr(ImageFile.ImageFile, "load", load)
    actor = world.actor(db, world.worker_a)
    with db.unit_of_work() as s:  # 81 MP: a phone's large mode is kept, decoded at 1/8 scale
        att = attachments.store(s, actor=actor, data=_jpeg_claiming(9000, 9000))
        assert (att.width, att.height, att.has_thumbnail) == (9000, 9000, True)
    assert set(sizes) == {(1125, 1125)}
    sizes.clear()
    with db.unit_of_work() as s, pytest.raises(ValidationFailed) as exc:
        attachments.store(s, actor=actor, data=_jpeg_claiming(20000, 20000))
    assert sizes == [] and exc.value.status == 422 and "120" in exc.value.message
    assert Image.MAX_IMAGE_PIXELS is not None and Image.MAX_IMAGE_PIXELS <= attachments.MAX_JPEG_PIXELS


def test_concurrent_decodes_are_bounded(settings, monkeypatch):
    inside, peak, lock = 0, 0, threading.Lock()
    release = threading.Event()
    real = attachments._thumbnail

    def slow(*args, **kwargs):
        nonlocal inside, peak
        with lock:
            inside += 1
            peak = max(peak, inside)
        release.wait(2)
        try:
            return real(*args, **kwargs)
        finally:
            with lock:
                inside -= 1

    monkeypatch.setattr(attachments, "_thumbnail", slow)
    photos = [_jpeg(colour=(i, i, i)) for i in range(8)]

    def upload(data: bytes) -> None:
        attachments._image(data, hashlib.sha256(data).hexdigest())

    threads = [threading.Thread(target=upload, args=(p,)) for p in photos]
    for t in threads:
        t.start()
    threading.Timer(0.5, release.set).start()
    for t in threads:
        t.join(10)
    assert 1 <= peak <= attachments.DECODE_SLOTS


# --- caching -----------------------------------------------------------------------------------------


def test_case_pages_are_never_stored(app, client, db, world: World):
    browser = TestClient(app)
    login(browser, world.ops_all)
    for url in (
        "/cases",
        "/cases/inbox",
        f"/cases/{world.case_works}",
        "/cases/map.geojson",
        "/cases/supervision",
        "/cases/evaluation",
        "/cases/notifications",
        "/m/tasks",
        "/m/report",
        "/cases/routing",
    ):
        r = browser.get(url)
        assert r.status_code == 200, url
        assert r.headers["cache-control"] == "no-store", url
    notice = client.post(
        f"{O311}/requests.json",
        data={"api_key": world.open311_key, "service_code": "C01001", "lat": "28.6", "long": "119.27"},
    ).json()[0]["service_notice"]
    r = client.get("/r/" + notice.rsplit("/", 1)[1])
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"


# --- bad input is never a 500 ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/api/v1/case-evaluation?start=2026-11-01&end=2026-12-01", 200),
        ("/api/v1/case-evaluation?start=2026-11-01T00:00:00%2B08:00&end=2026-12-01T00:00:00Z", 200),
        ("/api/v1/case-evaluation?start=2026-11-01T00:00:00&end=2026-12-01", 422),
        ("/api/v1/case-evaluation?start=0001-01-01&end=2026-12-01", 422),
        ("/api/v1/case-evaluation?start=tomorrow&end=2026-12-01", 422),
        ("/api/v1/cases?since=2026-11-01", 200),
        ("/api/v1/cases?since=2026-11-01T08:00:00", 422),
        ("/api/v1/cases?until=9999-12-31T23:59:59-12:00", 422),
        ("/api/v1/case-routing/overrides?since=2026-11-01&until=2026-11-02", 200),
        ("/api/v1/case-routing/overrides?since=2026-11-01T00:00", 422),
        ("/api/v1/cases/99999999999999999999", 422),
        ("/api/v1/case-attachments/99999999999999999999", 422),
        ("/api/v1/cases?category_id=99999999999999999999", 422),
    ],
)
def test_dates_and_ids_in_queries(client, db, world: World, url, status):
    r = client.get(url, headers=world.bearer(db, world.ops_all))
    assert r.status_code == status, r.text
    if status >= 400:
        assert r.headers["content-type"].startswith("application/problem+json")


def test_evaluation_page_dates_are_checked(app, db, world: World):
    browser = TestClient(app)
    login(browser, world.ops_all)
    assert browser.get("/cases/evaluation?start=2026-11-01&end=2026-12-01").status_code == 200
    assert browser.get("/cases/evaluation?start=2026-13-01").status_code == 422
    assert browser.get("/cases/evaluation?start=0001-01-01").status_code == 422
    assert browser.get("/cases/evaluation?subject=nobody").status_code == 422


# --- a permission failure is a 403 ---------------------------------------------------------------


def test_an_action_the_state_allows_but_not_for_you_is_403(client, db, world: World):
    cid = new_case(db, world, world.worker_a, world.cat_manhole, world.point_a)
    intake, shift = world.bearer(db, world.intake), world.bearer(db, world.shift)
    assert client.post(f"/api/v1/cases/{cid}/actions", json={"action": "accept"}, headers=intake).status_code == 200
    r = client.post(f"/api/v1/cases/{cid}/actions", json={"action": "request_void", "comment": "重复"}, headers=intake)
    assert r.status_code == 200, r.text
    r = client.post(f"/api/v1/cases/{cid}/actions", json={"action": "approve_void"}, headers=intake)
    assert r.status_code == 403 and r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == "permission_denied" and r.json()["allowed_actions"] == ["comment"]
    r = client.post(f"/api/v1/cases/{cid}/actions", json={"action": "dispatch"}, headers=shift)
    assert r.status_code == 409 and r.json()["code"] == "transition_not_allowed"  # no one may, in this state
    with db.reading() as s:
        actor = world.actor(db, world.handler_works)
        with pytest.raises(transitions.ActionForbidden):
            transitions.keep_apart(s, actor=actor, case_id=cid)


# --- concurrent merges into one case ---------------------------------------------------------------


def test_concurrent_merges_into_one_case_all_succeed(db, world: World):
    target = world.case_works
    sources = [new_case(db, world, world.worker_a, world.cat_manhole, world.point_a, f"同一井盖 {i}") for i in range(6)]
    actor = world.actor(db, world.dispatcher)
    barrier = threading.Barrier(len(sources))
    errors: list[BaseException] = []

    def merge(cid: int) -> None:
        try:
            barrier.wait(5)
            with db.unit_of_work() as s:
                transitions.apply(
                    s, actor=actor, case_id=cid, data=ActionIn(action=Action.MERGE, target_case_id=target)
                )
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=merge, args=(cid,)) for cid in sources]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    from countyos.cases.models import CaseEvent

    with db.reading() as s:
        seqs = list(s.scalars(select(CaseEvent.seq).where(CaseEvent.case_id == target).order_by(CaseEvent.seq)))
        merged_in = s.scalars(select(CaseEvent).where(CaseEvent.case_id == target, CaseEvent.action == "merged_in"))
        assert len(list(merged_in)) == len(sources)
        assert seqs == list(range(1, len(seqs) + 1))


# --- the page form is the API's model ------------------------------------------------------------


def test_a_bad_value_in_an_action_form_is_shown_beside_the_field(app, db, world: World):
    browser = TestClient(app)
    login(browser, world.handler_works)
    page = browser.get(f"/cases/{world.case_works}")
    csrf = csrf_from(page.text)
    r = browser.post(
        f"/cases/{world.case_works}/act",
        data={"action": "sign", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert r.status_code == 303
    page = browser.get(f"/cases/{world.case_works}")
    version = re.search(r'name="version" value="(\d+)"', page.text).group(1)
    r = browser.post(
        f"/cases/{world.case_works}/act",
        data={
            "action": "request_extension",
            "version": version,
            "amount": "lots",
            "comment": "材料未到 <b>x</b>",
            "csrf_token": csrf,
        },
        follow_redirects=False,
    )
    assert r.status_code == 422
    assert 'id="error-request_extension-amount"' in r.text
    assert 'value="lots"' in r.text and "材料未到 &lt;b&gt;x&lt;/b&gt;</textarea>" in r.text
    with db.reading() as s:
        assert s.get(Case, world.case_works).state == "handling"
