from __future__ import annotations

import pytest

from countyos.org.service import uscc
from tests.factories import login, person


@pytest.mark.parametrize(
    ("code", "valid"),
    [
        ("91350100M000100Y43", True),
        ("91110108551385082Q", True),
        ("91350100M000100Y44", False),
        ("9135010OM000100Y43", False),  # letter O is not in the alphabet
        ("123", False),
    ],
)
def test_uscc_check_character(code, valid):
    assert uscc.is_valid(code) is valid


def test_department_api_create_list_filter_page_and_errors(client, db):
    admin = person(db, ["sysadmin"])
    h = {"X-CSRF-Token": login(client, admin)}
    parent = client.post("/api/v1/departments", json={"name": "北界镇人民政府", "kind": "township"}, headers=h).json()
    for i in range(3):
        r = client.post(
            "/api/v1/departments",
            json={"name": f"北界镇第{i}村村民委员会", "kind": "village", "parent_id": parent["id"]},
            headers=h,
        )
        assert r.status_code == 201
    r = client.get("/api/v1/departments", params={"kind": "village", "limit": 2})
    body = r.json()
    assert body["total"] == 3 and len(body["items"]) == 2 and body["limit"] == 2
    assert client.get("/api/v1/departments", params={"kind": "village", "offset": 2}).json()["items"][0]["name"]
    dup = client.post("/api/v1/departments", json={"name": "北界镇人民政府", "kind": "township"}, headers=h)
    assert dup.status_code == 409 and dup.json()["code"] == "conflict"
    bad = client.post("/api/v1/departments", json={"name": "x", "kind": "nonsense"}, headers=h)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "kind"
    cycle = client.patch(f"/api/v1/departments/{parent['id']}", json={"parent_id": parent["id"]}, headers=h)
    assert cycle.status_code == 422
    assert client.get("/api/v1/departments", params={"limit": 0}).status_code == 422
    assert client.get("/api/v1/departments/999999").status_code == 404


def test_department_page_form_shows_errors_and_saves(client, db):
    admin = person(db, ["sysadmin"])
    csrf = login(client, admin)
    r = client.post(
        "/admin/departments/save",
        data={"name": "县统计局", "kind": "department", "uscc": "11331123000000001X", "csrf_token": csrf},
    )
    assert r.status_code == 422 and "县统计局" in r.text  # the form keeps what was typed
    r = client.post(
        "/admin/departments/save",
        data={"name": "县统计局", "kind": "department", "csrf_token": csrf},
        follow_redirects=True,
    )
    assert r.status_code == 200 and "县统计局" in r.text
