"""/api/v1/services/matters: public reading of published matters, managed writes, problem+json."""

from __future__ import annotations

import io

from countyos.services.service import catalogue, excel
from tests.factories import login, person
from tests.services.conftest import ADMIN, guide

API = "/api/v1/services/matters"


def _body(shop, **changes):
    return guide(shop, **changes).model_dump(mode="json")


def test_public_reads_published_matters_only(client, db, shop) -> None:
    with db.unit_of_work() as s:
        pub = catalogue.create(s, actor=ADMIN, data=guide(shop))
        catalogue.publish(s, actor=ADMIN, matter_id=pub.id)
        draft = catalogue.create(s, actor=ADMIN, data=guide(shop, code="D-1", name="营业执照注销"))
    r = client.get(API, params={"q": "spjy"})
    assert r.status_code == 200
    assert [(i["id"], i["name"]) for i in r.json()["items"]] == [(pub.id, "食品经营许可（新办）")]
    assert client.get(API, params={"status": "draft"}).json()["total"] == 1  # status is ignored: published only
    r = client.get(f"{API}/{pub.id}")
    assert r.status_code == 200 and r.json()["current"]["materials"][1]["name"] == "营业执照"
    with db.reading() as s:  # each material carries the id an application's materials refer to
        version = catalogue.current(catalogue.get(s, matter_id=pub.id))
        assert [m["id"] for m in r.json()["current"]["materials"]] == [m.id for m in version.materials]
    r = client.get(f"{API}/{draft.id}")
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")
    assert client.post(API, json=_body(shop, code="N-1")).status_code in (401, 403)


def test_manager_creates_edits_publishes_and_sees_versions(client, db, shop) -> None:
    admin = person(db, ["services_admin"])
    csrf = login(client, admin)
    h = {"X-CSRF-Token": csrf}
    r = client.post(API, json=_body(shop), headers=h)
    assert r.status_code == 201, r.text
    mid = r.json()["id"]
    assert r.json()["status"] == "draft" and r.json()["current"]["number"] == 1
    r = client.put(f"{API}/{mid}", json=_body(shop, promised_limit=2), headers=h)
    assert r.status_code == 200 and r.json()["current"]["number"] == 2
    r = client.post(f"{API}/{mid}/publish", headers=h)
    assert r.status_code == 200 and r.json()["status"] == "published"
    r = client.post(f"{API}/{mid}/publish", headers=h)
    assert r.status_code == 409 and r.json()["code"] == "conflict"
    r = client.get(f"{API}/{mid}", params={"versions": "true"})
    assert [v["promised_limit"] for v in r.json()["versions"]] == [2, 5]
    r = client.get(API, params={"status": "draft"})
    assert r.json()["total"] == 0


def test_refusals_are_problem_json_with_fields(client, db, shop) -> None:
    csrf = login(client, person(db, ["services_admin"]))
    h = {"X-CSRF-Token": csrf}
    r = client.post(API, json=_body(shop, body_uscc="11331123000000101X"), headers=h)
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in r.json()["errors"]] == ["body_uscc"]
    bad = _body(shop)
    bad["audiences"] = ["martians"]
    r = client.post(API, json=bad, headers=h)
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")


def test_import_upload_reports_and_refuses_a_bad_file(client, db, shop) -> None:
    with db.unit_of_work() as s:
        catalogue.create(s, actor=ADMIN, data=guide(shop))
        data = excel.export_workbook(s)
        s.rollback()
    csrf = login(client, person(db, ["services_admin"]))
    h = {"X-CSRF-Token": csrf}
    files = {"file": ("m.xlsx", io.BytesIO(data))}
    r = client.post(f"{API}/import", files=files, headers=h)
    assert r.status_code == 200, r.text
    assert (r.json()["created"], r.json()["applied"]) == (1, True)
    r = client.post(f"{API}/import", files={"file": ("m.xlsx", io.BytesIO(data))}, headers=h)
    assert (r.json()["created"], r.json()["unchanged"]) == (0, 1)
    r = client.post(f"{API}/import", files={"file": ("x.xlsx", io.BytesIO(b"nope"))}, headers=h)
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    r = client.get(f"{API}/export.xlsx")
    assert r.status_code == 200 and r.content[:2] == b"PK"
