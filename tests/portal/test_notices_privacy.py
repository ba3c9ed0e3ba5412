"""村务公开 never shows what is masked: a 惠农补贴名单 uploaded with full names, ID numbers and phone numbers
is published masked — the raw values are nowhere: not on the public page, in the API, in the database
row, in the audit log or in the residents' messages."""

from __future__ import annotations

import io
import json

from openpyxl import Workbook
from sqlalchemy import select

from countyos.org.models import AuditEvent
from countyos.portal.models import Message, Notice
from countyos.portal.service import subscriptions
from tests.factories import csrf_from, login, person
from tests.portal.notices_world import NoticesWorld
from tests.portal.test_subscriptions import resident_actor

RAW = {
    "names": ["张小三", "欧阳娜娜", "李四"],
    "ids": ["332527196501011234", "33252719700202567X", "332527198003034321"],
    "phones": ["13805781234", "13905785678", "15857801111"],
}
MASKED = ["张*三", "欧**娜", "李*", "332***********1234", "332***********567X", "138****1234", "158****1111"]
CSV = (
    "户主姓名,身份证号,联系电话,补贴项目,金额（元）\n"
    + "\n".join(
        f"{n},{i},{p},耕地地力保护补贴,{100 * (k + 1)}.50"
        for k, (n, i, p) in enumerate(zip(RAW["names"], RAW["ids"], RAW["phones"], strict=True))
    )
).encode("utf-8")


def raw_values() -> list[str]:
    return [v for vs in RAW.values() for v in vs]


def publish_subsidy_list(client, db, w: NoticesWorld, *, data: bytes, filename: str) -> int:
    login(client, w.village_publisher)
    csrf = csrf_from(client.get("/portal/publish/new").text)
    r = client.post(
        "/portal/publish/new",
        data={
            "csrf_token": csrf,
            "kind": "subsidy",
            "division_code": w.village,
            "title": "2026年耕地地力保护补贴发放名单公示",
            "body": "公示期七天。\n如有异议，请向村务监督委员会反映。",
        },
        files={"table_file": (filename, data, "text/csv")},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    notice_id = int(r.headers["location"].rsplit("/", 1)[1])
    page = client.get(r.headers["location"])
    # the publisher already sees the list masked (the guessed marks) before publishing
    for raw in raw_values():
        assert raw not in page.text
    r = client.post(f"/portal/publish/{notice_id}/publish", data={"csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303, r.text
    return notice_id


def test_a_subsidy_list_is_published_masked_everywhere(client, db, notices_world: NoticesWorld) -> None:
    w = notices_world
    resident = person(db, ["resident"])
    with db.unit_of_work() as s:
        subscriptions.follow(s, actor=resident_actor(resident), division_code=w.village)
    notice_id = publish_subsidy_list(client, db, w, data=CSV, filename="名单.csv")

    with db.unit_of_work() as s:
        notice = s.get_one(Notice, notice_id)
        token = notice.token
        row = json.dumps(
            {c.name: getattr(notice, c.key) for c in Notice.__table__.columns}, ensure_ascii=False, default=str
        )
        (message,) = s.scalars(select(Message).where(Message.user_id == resident.id))
        sent = json.dumps([message.title, message.body, message.link, message.extra], ensure_ascii=False)
        audited = json.dumps(
            [e.detail for e in s.scalars(select(AuditEvent).where(AuditEvent.target_type == "portal_notice"))],
            ensure_ascii=False,
        )
        labels = [c["label"] for c in notice.table["columns"]]
        marks = [c["mask"] for c in notice.table["columns"]]
    assert labels == ["户主姓名", "身份证号", "联系电话", "补贴项目", "金额（元）"]
    assert marks == ["name", "id_number", "phone", "shown", "shown"]

    client.cookies.clear()
    page = client.get(f"/portal/notices/{token}")
    assert page.status_code == 200
    api = client.get(f"/api/v1/portal/notices/{token}").text
    listed = client.get("/api/v1/portal/notices", params={"area": w.village, "affairs": "true"}).text
    for raw in raw_values():
        for where, text in (("page", page.text), ("api", api), ("list", listed), ("row", row)):
            assert raw not in text, (where, raw)
        assert raw not in sent and raw not in audited
    for masked in MASKED:
        assert masked in page.text and masked in api
    assert "耕地地力保护补贴" in page.text and "300.50" in page.text
    assert "公示期七天。\n如有异议" in page.text  # the body as text, its line breaks kept


def test_a_column_marked_shown_that_holds_id_numbers_is_masked_all_the_same(client, db, notices_world) -> None:
    """An XLSX whose personal columns have unhelpful headers: the values give them away."""
    w = notices_world
    wb = Workbook()
    ws = wb.active
    ws.append(["序号", "户主", "证号", "号码", "金额"])
    for k, (n, i, p) in enumerate(zip(RAW["names"], RAW["ids"], RAW["phones"], strict=True)):
        ws.append([k + 1, n, i, p, 200])
    buf = io.BytesIO()
    wb.save(buf)
    notice_id = publish_subsidy_list(client, db, w, data=buf.getvalue(), filename="名单.xlsx")
    with db.unit_of_work() as s:
        table = s.get_one(Notice, notice_id).table
    stored = json.dumps(table, ensure_ascii=False)
    for raw in RAW["ids"] + RAW["phones"]:
        assert raw not in stored
    assert [c["mask"] for c in table["columns"]][2:4] == ["id_number", "phone"]


def test_marks_only_hide_more(client, db, notices_world) -> None:
    """The publisher leaves a column out and masks another after the upload; a masked column stays
    masked when marked "shown"."""
    w = notices_world
    login(client, w.village_publisher)
    csrf = csrf_from(client.get("/portal/publish/new").text)
    r = client.post(
        "/portal/publish/new",
        data={"csrf_token": csrf, "kind": "subsidy", "division_code": w.village, "title": "补贴名单"},
        files={"table_file": ("a.csv", CSV, "text/csv")},
        follow_redirects=False,
    )
    notice_id = int(r.headers["location"].rsplit("/", 1)[1])
    marks = {"mark_0": "shown", "mark_1": "id_number", "mark_2": "omitted", "mark_3": "name", "mark_4": "shown"}
    r = client.post(f"/portal/publish/{notice_id}/table", data={"csrf_token": csrf, **marks}, follow_redirects=False)
    assert r.status_code == 303, r.text
    with db.unit_of_work() as s:
        table = s.get_one(Notice, notice_id).table
    assert [(c["label"], c["mask"]) for c in table["columns"]] == [
        ("户主姓名", "name"),
        ("身份证号", "id_number"),
        ("补贴项目", "name"),
        ("金额（元）", "shown"),
    ]
    assert table["rows"][0] == ["张*三", "332***********1234", "耕地****补贴", "100.50"]
