"""The exchange API: 表5–表8 records of a period for supervisors (personal fields masked without the PII
permission, bounded period and page), certificates read and revoked."""

from __future__ import annotations

from tests.factories import login, person, token_for
from tests.services.service.test_certificates import world

URL = "/api/v1/services/exchange/applications"


def bearer(db, p, perms: list[str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(db, p, perms)}"}


def test_supervisors_read_the_records_of_a_period_masked(client, db, shop) -> None:
    w = world(db, shop)
    sup = bearer(db, w.people["supervisor"], ["services.application.supervise"])
    r = client.get(URL, params={"from": "2026-12-01", "to": "2026-12-31"}, headers=sup)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["数据集"], body["total"], body["limit"], body["offset"]) == ("办事申请", 1, 50, 0)
    assert (body["开始时间"], body["结束时间"]) == ("2026-12-01T00:00:00+08:00", "2027-01-01T00:00:00+08:00")
    (rec,) = body["records"]
    assert (rec["申请者证件号码"], rec["联系人手机号码"], rec["通讯地址"]) == (
        "331***********123X",
        "139****1234",
        None,
    )
    assert (rec["办件类型代码"], rec["办件状态代码"], rec["办结结果"]) == ("2", "3", "准予")
    assert [x["环节名称"] for x in rec["事项办理"]] == ["受理", "审查决定"]
    # the page is bounded; past the records is empty
    r = client.get(URL, params={"from": "2026-12-01", "to": "2026-12-31", "offset": 1}, headers=sup)
    assert r.json()["total"] == 1 and r.json()["records"] == []


def test_with_the_pii_permission_the_records_are_in_full(client, db, shop) -> None:
    w = world(db, shop)
    p = person(db, ["services_admin", "services_window"])
    headers = bearer(db, p, ["services.application.supervise", "services.application.pii"])
    (rec,) = client.get(URL, params={"from": "2026-12-01", "to": "2026-12-01"}, headers=headers).json()["records"]
    assert (rec["申请者证件号码"], rec["联系人手机号码"]) == ("33112519600101123X", "13905781234")
    assert w.app_id


def test_the_period_is_required_and_bounded_and_only_for_supervisors(client, db, shop) -> None:
    w = world(db, shop)
    sup = bearer(db, w.people["supervisor"], ["services.application.supervise"])
    assert client.get(URL, headers=sup).status_code == 422
    r = client.get(URL, params={"from": "2026-01-01", "to": "2026-12-31"}, headers=sup)
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    r = client.get(URL, params={"from": "2026-12-31", "to": "2026-12-01"}, headers=sup)
    assert r.status_code == 422
    window = bearer(db, w.people["window"], ["services.application.window", "services.application.pii"])
    assert client.get(URL, params={"from": "2026-12-01", "to": "2026-12-31"}, headers=window).status_code == 403


def test_certificates_are_read_and_revoked_through_the_api(client, db, shop) -> None:
    w = world(db, shop)
    url = f"/api/v1/services/applications/{w.app_id}/certificate"
    login(client, w.people["resident"])  # the applicant's own account reads it
    r = client.get(url)
    assert r.status_code == 200, r.text
    cert = r.json()
    assert (cert["name"], cert["number"], cert["status"], cert["revoked_at"]) == (
        "食品经营许可证",
        "JY13311250001234",
        "valid",
        None,
    )
    assert cert["verification_url"].startswith("http://127.0.0.1:8000/services/verify/")
    client.cookies.clear()
    market = bearer(db, w.people["market"], ["services.application.handle"])  # reads it, may not revoke
    assert client.get(url, headers=market).status_code == 200
    assert client.post(url + "/revoke", json={"reason": "冒用"}, headers=market).status_code == 403
    login(client, w.people["stranger"])
    assert client.get(url).status_code == 404
    client.cookies.clear()
    window = bearer(db, w.people["window"], ["services.application.window"])
    assert client.post(url + "/revoke", json={"reason": "x"}, headers=window).status_code == 422
    r = client.post(url + "/revoke", json={"reason": "以欺骗手段取得"}, headers=window)
    assert r.status_code == 200 and r.json()["status"] == "revoked"
    assert r.json()["revoked_reason"] == "以欺骗手段取得"
    again = client.post(url + "/revoke", json={"reason": "再次撤销"}, headers=window)
    assert again.status_code == 409
