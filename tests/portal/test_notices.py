"""Notices: publishing delivers one message per subscribed resident; drafts and withdrawn notices stay
off the public pages with their files; a publisher publishes for their own area only; bad input comes
back beside its field with what was typed."""

from __future__ import annotations

from sqlalchemy import func, select

from countyos.org.models import AuditEvent, User
from countyos.portal.models import Message, Notice, NoticeKind, NoticeState
from countyos.portal.service import notices, subscriptions
from tests.factories import csrf_from, login, person
from tests.portal.notices_world import NoticesWorld, actor_of
from tests.portal.test_subscriptions import resident_actor

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def messages_by_user(db) -> dict[int, int]:
    with db.unit_of_work() as s:
        return dict(s.execute(select(Message.user_id, func.count()).group_by(Message.user_id)).all())


def test_publishing_tells_each_subscribed_resident_once(db, notices_world: NoticesWorld) -> None:
    w = notices_world
    follows = {
        "county_all": [(w.county, [])],
        "town_roadworks": [(w.town, ["roadwork"])],
        "village_and_town": [(w.village, []), (w.town, [])],  # two matching subscriptions: one message
        "town_floods_only": [(w.town, ["flood"])],
        "other_village": [(w.other_village, [])],
        "sister_village": [(w.village2, [])],
    }
    people = {name: person(db, ["resident"]) for name in follows}
    with db.unit_of_work() as s:
        for name, subs in follows.items():
            for code, kinds in subs:
                subscriptions.follow(
                    s, actor=resident_actor(people[name]), division_code=code, kinds=[NoticeKind(k) for k in kinds]
                )
    publisher = actor_of(db, w.village_publisher)
    with db.unit_of_work() as s:
        n = notices.create(
            s, actor=publisher, kind=NoticeKind.ROADWORK, division_code=w.village, title="村道硬化施工，绕行提示"
        )
        done = notices.publish(s, actor=publisher, notice_id=n.id)
        notice_id, token = n.id, n.token
    assert done.messages == 3
    got = messages_by_user(db)
    assert {name for name, p in people.items() if got.get(p.id)} == {"county_all", "town_roadworks", "village_and_town"}
    assert all(got[people[name].id] == 1 for name in ("county_all", "town_roadworks", "village_and_town"))
    with db.unit_of_work() as s:
        (m,) = s.scalars(select(Message).where(Message.user_id == people["county_all"].id))
        assert (m.title, m.link, m.dedupe_key) == ("村道硬化施工，绕行提示", f"/portal/notices/{token}", m.dedupe_key)
        assert m.dedupe_key.startswith(f"notice:{notice_id}:")
        # publishing again is refused by the transition table and sends nothing
        try:
            notices.publish(s, actor=publisher, notice_id=notice_id)
        except Exception as exc:
            assert getattr(exc, "status", None) == 409
        else:
            raise AssertionError("published twice")
        s.rollback()
    assert messages_by_user(db) == got
    with db.unit_of_work() as s:
        actions = set(
            s.scalars(
                select(AuditEvent.action).where(
                    AuditEvent.target_id == str(notice_id), AuditEvent.target_type == "portal_notice"
                )
            )
        )
    assert {"portal.notice.create", "portal.notice.publish"} <= actions


def draft_with_file(client, w: NoticesWorld, **fields: str) -> tuple[int, str]:
    login(client, w.village_publisher)
    csrf = csrf_from(client.get("/portal/publish/new").text)
    data = {"csrf_token": csrf, "kind": "water_power", "division_code": w.village, "title": "停水通知", **fields}
    r = client.post(
        "/portal/publish/new",
        data=data,
        files={"files": ("停水范围.pdf", PDF, "application/pdf")},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    return int(r.headers["location"].rsplit("/", 1)[1]), csrf


def test_drafts_and_withdrawn_notices_are_not_public_nor_their_files(client, db, notices_world: NoticesWorld) -> None:
    w = notices_world
    notice_id, csrf = draft_with_file(
        client,
        w,
        body="因管道抢修，明日8:00至18:00停水。\n请提前储水。",
        starts_at="2026-12-05T08:00",
        ends_at="2026-12-05T18:00",
    )
    with db.unit_of_work() as s:
        n = s.get_one(Notice, notice_id)
        token, file_token = n.token, n.attachments[0].token
        assert n.state is NoticeState.DRAFT
        assert n.starts_at.isoformat() == "2026-12-05T00:00:00+00:00"  # 08:00 county time, stored in UTC
    page_url, file_url = f"/portal/notices/{token}", f"/portal/notices/{token}/files/{file_token}"
    # the publisher sees the draft's file; nobody else does
    assert client.get(f"/portal/publish/{notice_id}/files/{n.attachments[0].id}").content == PDF
    anon = client.__class__(client.app)
    assert anon.get(page_url).status_code == 404
    assert anon.get(file_url).status_code == 404
    assert anon.get(f"/api/v1/portal/notices/{token}").status_code == 404
    assert "停水通知" not in anon.get("/portal/notices").text

    r = client.post(f"/portal/publish/{notice_id}/publish", data={"csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303, r.text
    page = anon.get(page_url)
    assert page.status_code == 200 and "请提前储水" in page.text and "2026-12-05 08:00" in page.text
    got = anon.get(file_url)
    assert got.status_code == 200 and got.content == PDF and got.headers["content-type"] == "application/pdf"
    assert "停水通知" in anon.get("/portal/notices", params={"area": w.village}).text
    assert anon.get(f"/api/v1/portal/notices/{token}").json()["attachments"][0]["url"] == file_url

    page = client.get(f"/portal/publish/{notice_id}")
    r = client.post(f"/portal/publish/{notice_id}/withdraw", data={"csrf_token": csrf, "reason": "抢修提前完成"})
    assert r.status_code == 200, r.text
    page = anon.get(page_url)
    assert page.status_code == 404
    assert 'id="pt-withdrawn"' in page.text and "抢修提前完成" in page.text and "请提前储水" not in page.text
    assert anon.get(file_url).status_code == 404
    assert anon.get(f"/api/v1/portal/notices/{token}").status_code == 404
    assert "停水通知" not in anon.get("/portal/notices").text
    with db.unit_of_work() as s:
        assert s.scalars(select(AuditEvent.action).where(AuditEvent.action == "portal.notice.withdraw")).first()
        withdrawn = s.get_one(Notice, notice_id)
        assert withdrawn.withdrawn_at is not None and withdrawn.withdrawn_by_id is not None
        by = s.get_one(User, withdrawn.withdrawn_by_id).display_name
    mine = client.get(f"/portal/publish/{notice_id}")  # the publisher's page names who withdrew it, and when
    assert mine.text.count(">已撤回</dt>") == 1
    withdrawn_row = mine.text.split(">已撤回</dt>")[1].split("</dd>")[0]
    assert by in withdrawn_row and "抢修提前完成" in withdrawn_row


def test_a_publisher_publishes_for_their_own_area_only(client, db, notices_world: NoticesWorld) -> None:
    w = notices_world
    login(client, w.village_publisher)
    csrf = csrf_from(client.get("/portal/publish/new").text)
    typed = {
        "kind": "decision",
        "division_code": w.other_village,
        "title": "关于村集体林地流转的决议",
        "body": "经村民代表会议表决通过。",
    }
    r = client.post("/portal/publish/new", data={"csrf_token": csrf, **typed})
    assert r.status_code == 422
    assert 'id="e-division_code"' in r.text
    assert "关于村集体林地流转的决议" in r.text and "经村民代表会议表决通过。" in r.text  # what was typed is kept
    # the form offers only the village itself
    assert f'value="{w.village}"' in r.text and f'value="{w.village2}"' not in r.text
    # the API says the same
    r = client.post("/api/v1/portal/notices", json=typed, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["errors"][0]["field"] == "division_code"
    with db.unit_of_work() as s:
        assert s.scalar(select(func.count()).select_from(Notice)) == 0

    town = actor_of(db, w.town_publisher)
    county = actor_of(db, w.county_publisher)
    with db.unit_of_work() as s:
        assert {d.code for d in notices.areas_for(s, actor=town)} >= {w.town, w.village, w.village2}
        assert w.other_village not in {d.code for d in notices.areas_for(s, actor=town)}
        notices.create(s, actor=town, kind=NoticeKind.FLOOD, division_code=w.village2, title="防汛预警")
        n = notices.create(s, actor=county, kind=NoticeKind.FLOOD, division_code=w.other_village, title="防汛预警")
        other_id = n.id
    # another department's notice cannot be published (nor seen) by this publisher
    r = client.post(f"/portal/publish/{other_id}/publish", data={"csrf_token": csrf})
    assert r.status_code == 404
    assert client.get(f"/portal/publish/{other_id}").status_code == 404


def test_bad_input_comes_back_beside_its_field(client, db, notices_world: NoticesWorld) -> None:
    w = notices_world
    login(client, w.village_publisher)
    csrf = csrf_from(client.get("/portal/publish/new").text)
    typed = {
        "kind": "water_power",
        "division_code": w.village,
        "title": "停",
        "body": "<b>不是HTML</b>",
        "starts_at": "2026-12-05T18:00",
        "ends_at": "2026-12-05T08:00",
    }
    r = client.post("/portal/publish/new", data={"csrf_token": csrf, **typed})
    assert r.status_code == 422
    assert 'id="e-title"' in r.text and 'value="停"' in r.text
    assert "&lt;b&gt;不是HTML&lt;/b&gt;" in r.text and "<b>不是HTML" not in r.text
    r = client.post("/portal/publish/new", data={"csrf_token": csrf, **typed, "title": "停水通知"})
    assert r.status_code == 422 and 'id="pt-form-error"' in r.text  # the end before the start
    assert 'value="2026-12-05T18:00"' in r.text
    # a file that is not a PDF, JPEG or PNG
    r = client.post(
        "/portal/publish/new",
        data={"csrf_token": csrf, **typed, "title": "停水通知", "ends_at": ""},
        files={"files": ("x.exe", b"MZ\x90\x00", "application/octet-stream")},
    )
    assert r.status_code == 422 and 'id="e-files"' in r.text and 'value="停水通知"' in r.text
    # a table for a kind that carries none
    r = client.post(
        "/portal/publish/new",
        data={"csrf_token": csrf, **typed, "title": "停水通知", "ends_at": ""},
        files={"table_file": ("a.csv", "姓名,金额\n张三,1\n".encode(), "text/csv")},
    )
    assert r.status_code == 422 and 'id="e-table_file"' in r.text
    with db.unit_of_work() as s:
        assert s.scalar(select(func.count()).select_from(Notice)) == 0
    # a withdrawal needs a reason
    notice_id, csrf = draft_with_file(client, w)
    client.post(f"/portal/publish/{notice_id}/publish", data={"csrf_token": csrf})
    r = client.post(f"/portal/publish/{notice_id}/withdraw", data={"csrf_token": csrf, "reason": ""})
    assert r.status_code == 422 and 'id="e-reason"' in r.text


def test_public_lists_by_area_kind_and_village_affairs(client, db, notices_world: NoticesWorld) -> None:
    w = notices_world
    county, town, village = (actor_of(db, p) for p in (w.county_publisher, w.town_publisher, w.village_publisher))
    made = [
        (county, NoticeKind.WEATHER, w.county, "寒潮蓝色预警"),
        (town, NoticeKind.ROADWORK, w.town, "集镇道路施工"),
        (village, NoticeKind.DECISION, w.village, "村务决策事项公开"),
        (town, NoticeKind.FINANCE, w.village2, "邻村财务公开"),
    ]
    with db.unit_of_work() as s:
        for actor, kind, code, title in made:
            n = notices.create(s, actor=actor, kind=kind, division_code=code, title=title)
            notices.publish(s, actor=actor, notice_id=n.id)
    anon = client

    def titles(**params: str) -> set[str]:
        return {x["title"] for x in anon.get("/api/v1/portal/notices", params=params).json()["items"]}

    assert titles() == {t for *_, t in made}
    # a village sees its own and the township's and the county's, not the neighbour's
    assert titles(area=w.village) == {"寒潮蓝色预警", "集镇道路施工", "村务决策事项公开"}
    assert titles(area=w.village, kind="weather") == {"寒潮蓝色预警"}
    assert titles(area=w.village, affairs="true") == {"村务决策事项公开"}
    assert titles(area=w.town, affairs="true") == {"村务决策事项公开", "邻村财务公开"}
    assert anon.get("/api/v1/portal/notices", params={"limit": 51}).status_code == 422
    page = anon.get("/portal/notices", params={"affairs": "1", "area": w.village})
    assert page.status_code == 200 and "村务决策事项公开" in page.text and "寒潮蓝色预警" not in page.text
    page = anon.get("/portal/notices", params={"area": w.town})
    assert w.names[w.village] in page.text  # the village picker below the township
    assert "集镇道路施工" in page.text and "邻村财务公开" in page.text
