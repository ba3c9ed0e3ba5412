"""Evidence photos: the stage of each photo (report = before; feedback, check = after), when and where it
was taken (EXIF, else the browser's position), photos required by category at feedback and check, and
before/after on the case page, the inspector's task page, the citizen's page and the API."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from PIL import ExifTags, Image
from sqlalchemy import select

from countyos.cases.lifecycle import Action, State
from countyos.cases.models import Attachment, AttachmentStage, Case, Category, Channel, PositionSource
from countyos.cases.schemas import ActionIn
from countyos.cases.service import attachments, cases, transitions
from countyos.core.errors import ValidationFailed
from tests.cases.conftest import actor_of
from tests.cases.test_api import h
from tests.cases.test_lifecycle import T0, act, report
from tests.factories import login


def jpeg(colour: tuple[int, int, int] = (200, 30, 30), *, gps: bool = False) -> bytes:
    """A small JPEG; with GPS: EXIF position 119.27, 28.59 and time 2026-03-02 10:30 +08:00."""
    im = Image.new("RGB", (64, 48), colour)
    exif = im.getexif()
    if gps:
        exif.get_ifd(ExifTags.IFD.GPSInfo).update({1: "N", 2: (28.0, 35.0, 24.0), 3: "E", 4: (119.0, 16.0, 12.0)})
        exif.get_ifd(ExifTags.IFD.Exif).update({36867: "2026:03:02 10:30:00", 36881: "+08:00"})
    buf = io.BytesIO()
    im.save(buf, "JPEG", exif=exif)
    return buf.getvalue()


def require_photos(db, category_id: int, *, feedback: bool = False, check: bool = False) -> None:
    with db.unit_of_work() as s:
        cat = s.get(Category, category_id)
        cat.feedback_photo_required, cat.check_photo_required = feedback, check


def handling(db, world) -> int:
    """A case of the manhole category (住建局) being handled."""
    cid, _ = report(db, world)
    act(db, world.intake, cid, Action.ACCEPT, T0 + timedelta(minutes=5))
    act(db, world.shift, cid, Action.REGISTER, T0 + timedelta(minutes=10))
    act(db, world.dispatcher, cid, Action.DISPATCH, T0 + timedelta(minutes=15))
    act(db, world.handler, cid, Action.SIGN, T0 + timedelta(minutes=20))
    return cid


def upload(db, person, data: bytes, stamp: attachments.Stamp | None = None) -> int:
    with db.unit_of_work() as s:
        return attachments.store(s, actor=actor_of(db, person), data=data, name="p.jpg", stamp=stamp).id


def test_exif_position_and_time_win_over_the_browser(db, world):
    browser = attachments.Stamp(119.2, 28.5, 12.0, datetime(2026, 3, 2, 3, 0, tzinfo=UTC))
    with_exif = upload(db, world.handler, jpeg(gps=True), browser)
    without = upload(db, world.handler, jpeg((1, 2, 3)), browser)
    bare = upload(db, world.handler, jpeg((4, 5, 6)))
    with db.reading() as s:
        a = s.get(Attachment, with_exif)
        assert (a.lon, a.lat, a.position_source, a.accuracy_m) == (119.27, 28.59, PositionSource.EXIF, None)
        assert a.taken_at == datetime(2026, 3, 2, 2, 30, tzinfo=UTC)  # 10:30 at +08:00
        b = s.get(Attachment, without)
        assert (b.lon, b.lat, b.position_source, b.accuracy_m) == (119.2, 28.5, PositionSource.DEVICE, 12.0)
        assert b.taken_at == datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
        c = s.get(Attachment, bare)
        assert (c.lon, c.lat, c.position_source, c.taken_at, c.stage) == (
            None,
            None,
            None,
            None,
            AttachmentStage.REPORT,
        )


def test_impossible_exif_is_left_out():
    im = Image.new("RGB", (8, 8))
    exif = im.getexif()
    exif.get_ifd(ExifTags.IFD.GPSInfo).update({1: "N", 2: (95.0, 0.0, 0.0), 3: "E", 4: (119.0, 0.0, 0.0)})
    exif.get_ifd(ExifTags.IFD.Exif).update({36867: "1980:01:01 00:00:00"})
    buf = io.BytesIO()
    im.save(buf, "JPEG", exif=exif)
    assert attachments.read_exif(buf.getvalue()) == attachments.Stamp()


def test_feedback_without_a_required_photo_is_refused(db, world):
    require_photos(db, world.cat_manhole, feedback=True)
    cid = handling(db, world)
    with db.unit_of_work() as s, pytest.raises(ValidationFailed) as err:
        transitions.apply(s, actor=actor_of(db, world.handler), case_id=cid, data=ActionIn(action=Action.FEEDBACK))
    assert err.value.errors == [{"field": "photos", "message": attachments.PHOTO_REQUIRED}]
    pdf = upload(db, world.handler, b"%PDF-1.4 a document, not a photo")
    with db.unit_of_work() as s, pytest.raises(ValidationFailed):  # a PDF is no photo
        transitions.apply(
            s,
            actor=actor_of(db, world.handler),
            case_id=cid,
            data=ActionIn(action=Action.FEEDBACK, attachment_ids=[pdf]),
        )
    photo = upload(db, world.handler, jpeg((10, 200, 10)))
    assert act(db, world.handler, cid, Action.FEEDBACK, T0 + timedelta(hours=2), attachment_ids=[photo])[0] == (
        State.FEEDBACK
    )
    with db.reading() as s:
        att = s.get(Attachment, photo)
        assert (att.case_id, att.stage, att.is_after) == (cid, AttachmentStage.FEEDBACK, True)


def test_check_needs_a_photo_when_the_category_says_so_and_not_otherwise(db, world):
    cid = handling(db, world)
    act(db, world.handler, cid, Action.FEEDBACK, T0 + timedelta(hours=2))  # no photo needed yet
    act(db, world.intake, cid, Action.SEND_CHECK, T0 + timedelta(hours=3))
    require_photos(db, world.cat_manhole, check=True)
    with db.unit_of_work() as s, pytest.raises(ValidationFailed):
        transitions.apply(s, actor=actor_of(db, world.inspector), case_id=cid, data=ActionIn(action=Action.CHECK_PASS))
    photo = upload(db, world.inspector, jpeg((0, 0, 200)))
    assert act(db, world.inspector, cid, Action.CHECK_PASS, T0 + timedelta(hours=4), attachment_ids=[photo])[0] == (
        State.CHECKED
    )
    with db.reading() as s:
        assert s.get(Attachment, photo).stage is AttachmentStage.CHECK


def test_before_and_after_are_listed_apart(db, world):
    before = upload(db, world.inspector, jpeg((1, 1, 1)))
    with db.unit_of_work() as s:
        new = cases.NewCase(
            channel=Channel.GRID,
            category_id=world.cat_manhole,
            description="井盖缺失",
            lon=119.27,
            lat=28.59,
            attachment_ids=[before],
            reporter=cases.ReporterIn(user_id=world.inspector.id),
        )
        cid = cases.create(s, actor=actor_of(db, world.inspector), new=new, now=T0)[0].id
    for step in (Action.ACCEPT, Action.REGISTER, Action.DISPATCH, Action.SIGN):
        who = {Action.ACCEPT: world.intake, Action.REGISTER: world.shift, Action.DISPATCH: world.dispatcher}
        act(db, who.get(step, world.handler), cid, step, T0 + timedelta(minutes=5))
    after = upload(db, world.handler, jpeg((2, 2, 2)))
    act(db, world.handler, cid, Action.FEEDBACK, T0 + timedelta(hours=1), attachment_ids=[after, before])
    with db.reading() as s:
        ev = attachments.before_after(s, case_id=cid)
        assert ([a.id for a in ev.before], [a.id for a in ev.after]) == (
            [before],
            [after],
        )  # the report's keeps its stage
        assert attachments.before_after(s, case_id=cid, public=True) == attachments.Evidence([], [])


# -- pages -------------------------------------------------------------------------------------------


def test_case_page_refuses_feedback_without_photo_beside_the_field_and_keeps_the_comment(client, db, world):
    require_photos(db, world.cat_manhole, feedback=True)
    cid = handling(db, world)
    csrf = login(client, world.handler)
    page = client.get(f"/cases/{cid}")
    assert 'id="needs-photo-feedback"' in page.text and 'enctype="multipart/form-data"' in page.text
    with db.reading() as s:
        version = s.get(Case, cid).version
    r = client.post(
        f"/cases/{cid}/act",
        data={"csrf_token": csrf, "action": "feedback", "version": version, "comment": "已更换井盖"},
    )
    assert r.status_code == 422
    assert re.search(r'<p class="field-error" role="alert" id="error-feedback-photos">[^<]+</p>', r.text)
    assert ">已更换井盖</textarea>" in r.text  # what was typed is kept
    assert re.search(r'<section class="action-panel" id="form-feedback" data-action-panel="feedback"[^>]*>', r.text)
    assert 'id="form-feedback" data-action-panel="feedback" aria-labelledby="act-feedback" hidden' not in r.text
    ok = client.post(
        f"/cases/{cid}/act",
        data={
            "csrf_token": csrf,
            "action": "feedback",
            "version": version,
            "comment": "已更换井盖",
            "photo_lon": "119.2701",
            "photo_lat": "28.5901",
            "photo_accuracy": "8",
            "photo_taken_at": "2026-03-02T03:00:00Z",
        },
        files=[
            ("photos", ("a.jpg", jpeg((9, 9, 9)), "image/jpeg")),
            ("photos", ("b.jpg", jpeg((8, 8, 8)), "image/jpeg")),
        ],
        follow_redirects=False,
    )
    assert ok.status_code == 303, ok.text
    with db.reading() as s:
        photos = list(s.scalars(select(Attachment).where(Attachment.case_id == cid).order_by(Attachment.id)))
        ids = [p.id for p in photos]
        assert [(p.stage, p.position_source, p.lon, p.accuracy_m) for p in photos] == [
            (AttachmentStage.FEEDBACK, PositionSource.DEVICE, 119.2701, 8.0)
        ] * 2
        assert s.get(Case, cid).state == State.FEEDBACK
    detail = client.get(f"/cases/{cid}").text
    after = detail[detail.index('id="evidence-after"') : detail.index('id="actions"')]
    assert len(ids) == 2 and all(f'id="photo-{i}"' in after for i in ids)
    assert '<p class="muted">' not in after  # no "no photo yet"


def test_too_many_or_wrong_photos_are_refused_beside_the_field(client, db, world):
    cid = handling(db, world)
    csrf = login(client, world.handler)
    with db.reading() as s:
        version = s.get(Case, cid).version
    many = [("photos", (f"{i}.jpg", jpeg((i, i, i)), "image/jpeg")) for i in range(attachments.MAX_ACTION_PHOTOS + 1)]
    r = client.post(
        f"/cases/{cid}/act", data={"csrf_token": csrf, "action": "feedback", "version": version}, files=many
    )
    assert r.status_code == 422 and 'id="error-feedback-photos"' in r.text
    gif = io.BytesIO()
    Image.new("RGB", (4, 4)).save(gif, "GIF")
    r = client.post(
        f"/cases/{cid}/act",
        data={"csrf_token": csrf, "action": "feedback", "version": version},
        files=[("photos", ("x.gif", gif.getvalue(), "image/gif"))],
    )
    assert r.status_code == 422 and 'id="error-feedback-photos"' in r.text
    with db.reading() as s:
        assert s.get(Case, cid).state == State.HANDLING
        assert s.scalars(select(Attachment).where(Attachment.case_id == cid)).first() is None


def test_category_page_sets_the_photo_rules(client, db, world):
    csrf = login(client, world.shift)
    page = client.get(f"/cases/categories/{world.cat_garbage}")
    assert 'id="feedback_photo_required"' in page.text and 'id="check_photo_required"' in page.text
    r = client.post(
        f"/cases/categories/{world.cat_garbage}",
        data={"csrf_token": csrf, "default_priority": "normal", "public": "1", "check_photo_required": "1"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    with db.reading() as s:
        cat = s.get(Category, world.cat_garbage)
        assert (cat.feedback_photo_required, cat.check_photo_required) == (False, True)
    assert re.search(
        r'id="check_photo_required" name="check_photo_required" value="1" checked',
        client.get(f"/cases/categories/{world.cat_garbage}").text,
    )


def _checking(db, world) -> int:
    cid = handling(db, world)
    photo = upload(db, world.handler, jpeg((50, 50, 50)))
    act(db, world.handler, cid, Action.FEEDBACK, T0 + timedelta(hours=2), attachment_ids=[photo])
    act(db, world.intake, cid, Action.SEND_CHECK, T0 + timedelta(hours=3), assignee_id=world.inspector.id)
    return cid


def test_inspector_task_shows_before_after_and_needs_a_photo(client, db, world):
    cid = _checking(db, world)
    require_photos(db, world.cat_manhole, check=True)
    csrf = login(client, world.inspector)
    page = client.get("/m/tasks")
    assert page.status_code == 200 and f'id="evidence-{cid}-after"' in page.text
    assert f'id="needs-photo-task-{cid}"' in page.text
    with db.reading() as s:
        version = s.get(Case, cid).version
        feedback_photo = s.scalar(select(Attachment.id).where(Attachment.case_id == cid))
    after = page.text[page.text.index(f'id="evidence-{cid}-after"') :]
    assert f'id="photo-{feedback_photo}"' in after[: after.index("</section>")]
    form = {"csrf_token": csrf, "action": "check_pass", "version": version, "comment": "已修好", "back": "/m/tasks"}
    r = client.post(f"/cases/{cid}/act", data=form)
    assert r.status_code == 422 and f'id="error-task-{cid}-photos"' in r.text and 'value="已修好"' in r.text
    ok = client.post(
        f"/cases/{cid}/act",
        data=form,
        files=[("photos", ("c.jpg", jpeg(gps=True), "image/jpeg"))],
        follow_redirects=False,
    )
    assert ok.status_code == 303 and ok.headers["location"] == "/m/tasks"
    with db.reading() as s:
        assert s.get(Case, cid).state == State.CHECKED
        check = s.scalar(select(Attachment).where(Attachment.case_id == cid, Attachment.stage == AttachmentStage.CHECK))
        assert (check.lon, check.lat, check.position_source) == (119.27, 28.59, PositionSource.EXIF)


def test_citizen_sees_public_photos_only_before_and_after(client, db, world):
    from countyos.cases.models import Reporter

    before = upload(db, world.inspector, jpeg((3, 3, 3)))
    with db.unit_of_work() as s:
        s.get(Attachment, before).public = True  # as the citizen's own photo of a public report
    with db.unit_of_work() as s:
        new = cases.NewCase(
            channel=Channel.WEB,
            category_id=world.cat_manhole,
            description="井盖缺失",
            lon=119.27,
            lat=28.59,
            attachment_ids=[],
            public_report=True,
            reporter=cases.ReporterIn(name="张三"),
        )
        case = cases.create(s, actor=actor_of(db, world.intake), new=new, now=T0)[0]
        s.get(Attachment, before).case_id = case.id
        cid = case.id
    act(db, world.intake, cid, Action.ACCEPT, T0 + timedelta(minutes=5))
    act(db, world.shift, cid, Action.REGISTER, T0 + timedelta(minutes=6))
    act(db, world.dispatcher, cid, Action.DISPATCH, T0 + timedelta(minutes=7))
    act(db, world.handler, cid, Action.SIGN, T0 + timedelta(minutes=8))
    after = upload(db, world.handler, jpeg((4, 4, 4)))
    act(db, world.handler, cid, Action.FEEDBACK, T0 + timedelta(hours=1), attachment_ids=[after])
    with db.reading() as s:
        token = s.scalar(select(Reporter.public_token).where(Reporter.case_id == cid))
    page = client.get(f"/r/{token}").text
    assert f'id="photo-{before}"' in page and f'id="photo-{after}"' not in page  # after-photos private until published
    assert client.get(f"/r/{token}/photo/{after}").status_code == 404
    with db.unit_of_work() as s:
        attachments.publish(s, actor=actor_of(db, world.intake), attachment_id=after, public=True)
    page = client.get(f"/r/{token}").text
    assert f'id="photo-{after}"' in page[page.index('id="public-evidence-after"') :]
    assert client.get(f"/r/{token}/photo/{after}").status_code == 200


def test_the_public_gets_published_photos_without_their_exif(client, db, world):
    """Staff keep the original with the phone's GPS and time as evidence; the reporter's page and the
    Open311 media URL serve a copy without any metadata."""
    from countyos.cases.models import Reporter

    cid = handling(db, world)
    after = upload(db, world.handler, jpeg(gps=True))
    act(db, world.handler, cid, Action.FEEDBACK, T0 + timedelta(hours=1), attachment_ids=[after])
    with db.unit_of_work() as s:
        attachments.publish(s, actor=actor_of(db, world.intake), attachment_id=after, public=True)
        s.add(Reporter(case_id=cid, original_case_id=cid, channel=Channel.WEB, public_token="t" * 32))
        case = s.get(Case, cid)
        case.channel, case.public_report = Channel.WEB, True  # a citizen's report, listed in Open311
    with db.reading() as s:
        att = s.get(Attachment, after)
        original = attachments.path_for(att.sha256).read_bytes()
        media_token = att.public_token
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the evidence kept
    served = [
        client.get(f"/r/{'t' * 32}/photo/{after}?thumb=false"),
        client.get(f"/open311/v2/media/{media_token}"),
    ]
    for r in served:
        assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
        im = Image.open(io.BytesIO(r.content))
        assert (im.size, dict(im.getexif()), im.info.get("exif")) == ((64, 48), {}, None)


# -- API ---------------------------------------------------------------------------------------------


def test_api_takes_an_action_with_photos_as_multipart(client, db, world):
    require_photos(db, world.cat_manhole, feedback=True)
    cid = handling(db, world)
    hdr = h(db, world.handler)
    refused = client.post(f"/api/v1/cases/{cid}/actions", json={"action": "feedback"}, headers=hdr)
    assert refused.status_code == 422 and refused.json()["errors"] == [
        {"field": "photos", "message": "This category needs a photo"}
    ]
    r = client.post(
        f"/api/v1/cases/{cid}/actions/multipart",
        data={"action": "feedback", "comment": "已处理", "photo_lon": "119.3", "photo_lat": "28.6"},
        files=[("photos", ("a.jpg", jpeg((7, 7, 7)), "image/jpeg"))],
        headers=hdr,
    )
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "feedback"
    detail = client.get(f"/api/v1/cases/{cid}", headers=hdr).json()
    assert [(x["stage"], x["lon"], x["position_source"]) for x in detail["attachments"]] == [
        ("feedback", 119.3, "device")
    ]
    assert (
        detail["timeline"][-1]["context"]["stage"] == "feedback" and len(detail["timeline"][-1]["attachment_ids"]) == 1
    )


def test_api_upload_with_a_position_then_action_by_id(client, db, world):
    cid = handling(db, world)
    hdr = h(db, world.handler)
    up = client.post(
        "/api/v1/case-attachments",
        files={"file": ("a.jpg", jpeg((6, 6, 6)), "image/jpeg")},
        data={
            "photo_lon": "119.28",
            "photo_lat": "28.6",
            "photo_accuracy": "5",
            "photo_taken_at": "2026-03-02T09:00:00+08:00",
        },
        headers=hdr,
    )
    assert up.status_code == 201, up.text
    body = up.json()
    assert (body["lon"], body["lat"], body["position_source"], body["taken_at"]) == (
        119.28,
        28.6,
        "device",
        "2026-03-02T01:00:00+00:00",
    )
    bad = client.post(
        "/api/v1/case-attachments",
        files={"file": ("a.jpg", jpeg(), "image/jpeg")},
        data={"photo_lat": "91"},
        headers=hdr,
    )
    assert bad.status_code == 422
    r = client.post(
        f"/api/v1/cases/{cid}/actions", json={"action": "feedback", "attachment_ids": [body["id"]]}, headers=hdr
    )
    assert r.status_code == 200
    with db.reading() as s:
        assert s.get(Attachment, body["id"]).stage is AttachmentStage.FEEDBACK


def test_on_site_verification_takes_photos_of_the_problem_as_found(client, db, world):
    """A call gives no photo: the inspector sent to verify it photographs the problem, which is the
    case's "before" photo; the category's check rule does not apply to verification."""
    cid, _ = report(db, world)
    require_photos(db, world.cat_manhole, check=True)
    act(db, world.intake, cid, Action.ACCEPT, T0 + timedelta(minutes=5))
    act(db, world.intake, cid, Action.SEND_VERIFY, T0 + timedelta(minutes=6), assignee_id=world.inspector.id)
    csrf = login(client, world.inspector)
    page = client.get("/m/tasks")
    assert page.status_code == 200
    assert f'id="photos-task-{cid}"' in page.text and f'id="needs-photo-task-{cid}"' not in page.text
    with db.reading() as s:
        version = s.get(Case, cid).version
    form = {"csrf_token": csrf, "action": "verify", "result": "1", "version": version, "back": "/m/tasks"}
    ok = client.post(
        f"/cases/{cid}/act",
        data=form,
        files=[("photos", ("v.jpg", jpeg(gps=True), "image/jpeg"))],
        follow_redirects=False,
    )
    assert ok.status_code == 303 and ok.headers["location"] == "/m/tasks"
    with db.reading() as s:
        assert s.get(Case, cid).state == State.ACCEPTED
        stages = s.scalars(select(Attachment.stage).where(Attachment.case_id == cid)).all()
    assert list(stages) == [AttachmentStage.REPORT]
