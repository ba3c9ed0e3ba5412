"""The plans pages: a plan made and its draft edited as a form (refusals beside their fields, what was
typed kept) and as JSON, published, a version with the changes in words, files, exercises."""

from __future__ import annotations

import json

from countyos.safety.service import plans
from tests.factories import csrf_from, login, person, token_for
from tests.safety.plans_helpers import GAUGE, World, body, world

__all__ = ["world"]


def _form(**extra: str) -> dict[str, str]:
    data = {
        "IV_on": "on",
        "IV_criteria": "水位超过 4.0 米",
        "IV_t0_kind": "reading",
        "IV_t0_device": GAUGE.device_key,
        "IV_t0_metric": "water_level",
        "IV_t0_condition": json.dumps({"type": "threshold", "op": ">", "value": 4.0, "clear": 3.8}),
        "IV_t0_description": "测试水位超过 4.0 米",
        "IV_d0_department": "测试水利局",
        "IV_d0_duty": "加密监测",
        "IV_d0_deadline": "60",
        "first_minutes": "30",
        "followup_hours": "6",
        "final_hours": "72",
        "to": "市应急管理局",
    }
    data.update(extra)
    return data


def test_plan_draft_publish_and_version_pages(db, client, world: World):
    login(client, person(db, ["emergency_officer"]))
    page = client.get("/safety/plans/new")
    assert page.status_code == 200
    csrf = csrf_from(page.text)
    made = client.post(
        "/safety/plans/new",
        data={"csrf_token": csrf, "code": "T-FX", "name": "测试防汛预案", "type": "flood", "summary": "测试"},
        follow_redirects=False,
    )
    assert made.status_code == 303, made.text
    pid = int(made.headers["location"].rsplit("/", 1)[1])
    assert client.get(f"/safety/plans/{pid}").status_code == 200

    bad = client.post(
        f"/safety/plans/{pid}/draft",
        data={"csrf_token": csrf, **_form(IV_d0_department="不存在的局", IV_t0_device="no-such-gauge")},
    )
    assert bad.status_code == 422
    assert 'id="error-IV_d0_department"' in bad.text and 'id="error-IV_t0_device"' in bad.text
    assert "加密监测" in bad.text  # what was typed is kept
    dup = client.post(f"/safety/plans/{pid}/draft", data={"csrf_token": csrf, **_form(IV_d0_deadline="0")})
    assert dup.status_code == 422 and 'id="error-IV_d0_deadline"' in dup.text

    ok = client.post(f"/safety/plans/{pid}/draft", data={"csrf_token": csrf, **_form()}, follow_redirects=False)
    assert ok.status_code == 303, ok.text
    pub = client.post(f"/safety/plans/{pid}/publish", data={"csrf_token": csrf}, follow_redirects=False)
    assert pub.status_code == 303
    with db.reading() as s:
        plan = plans.get_plan(s, plan_id=pid)
        assert plans.published_body(s, plan) is not None

    changed = body().model_dump(mode="json")
    bad_json = client.post(f"/safety/plans/{pid}/draft/json", data={"csrf_token": csrf, "body_json": "{nope"})
    assert bad_json.status_code == 422 and 'id="error-body_json"' in bad_json.text
    done = client.post(
        f"/safety/plans/{pid}/draft/json",
        data={"csrf_token": csrf, "body_json": json.dumps(changed), "note": "增加Ⅲ级"},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    client.post(f"/safety/plans/{pid}/publish", data={"csrf_token": csrf})
    version = client.get(f"/safety/plans/{pid}/versions/2")
    assert version.status_code == 200
    assert "测试应急管理局" in version.text and 'id="version-changes"' in version.text
    assert client.get(f"/safety/plans/{pid}/versions/1").status_code == 200
    listing = client.get("/safety/plans")
    assert listing.status_code == 200 and "测试防汛预案" in listing.text

    pdf = b"%PDF-1.4\n%test\n"
    up = client.post(
        f"/safety/plans/{pid}/files",
        data={"csrf_token": csrf, "kind": "text"},
        files={"file": ("预案.pdf", pdf, "application/pdf")},
        follow_redirects=False,
    )
    assert up.status_code == 303, up.text
    refused = client.post(
        f"/safety/plans/{pid}/files",
        data={"csrf_token": csrf, "kind": "text"},
        files={"file": ("x.exe", b"MZ\x90\x00", "application/octet-stream")},
    )
    assert refused.status_code == 422 and 'id="error-file"' in refused.text
    files = client.get(f"/api/v1/safety/plans/{pid}/attachments").json()
    got = client.get(f"/safety/plans/files/{files[0]['id']}")
    assert got.status_code == 200 and got.content == pdf

    ex = client.post(
        "/safety/exercises",
        data={
            "csrf_token": csrf,
            "plan_id": str(pid),
            "held_on": "2026-06-01",
            "kind": "tabletop",
            "title": "汛前桌面推演",
            "participants": ["测试水利局"],
        },
        files={"file": ("纪要.pdf", pdf, "application/pdf")},
        follow_redirects=False,
    )
    assert ex.status_code == 303, ex.text
    page = client.get("/safety/exercises")
    assert page.status_code == 200 and "汛前桌面推演" in page.text and "纪要.pdf" in page.text
    assert client.get("/api/v1/safety/exercises/counts").json() == {"2026": 1}


def test_a_published_version_is_409_in_the_api(db, client, world: World):
    who = person(db, ["emergency_officer"])
    client.headers["Authorization"] = "Bearer " + token_for(
        db, who, ["safety.emergency.read", "safety.emergency.manage"]
    )
    made = client.post("/api/v1/safety/plans", json={"code": "T-API", "name": "接口预案", "type": "flood"})
    assert made.status_code == 201, made.text
    pid = made.json()["id"]
    payload = {"body": body().model_dump(mode="json"), "note": ""}
    assert client.put(f"/api/v1/safety/plans/{pid}/draft", json=payload).status_code == 200
    assert client.post(f"/api/v1/safety/plans/{pid}/publish").status_code == 200
    assert client.put(f"/api/v1/safety/plans/{pid}/versions/1", json=payload).status_code == 409
    bad = {"body": body().model_dump(mode="json") | {"levels": []}}
    assert client.put(f"/api/v1/safety/plans/{pid}/draft", json=bad).status_code == 422


def test_reader_cannot_write(db, client, world: World):
    who = person(db, ["dispatcher"])
    login(client, who)
    assert client.get("/safety/plans").status_code == 200
    client.headers["Authorization"] = "Bearer " + token_for(db, who, ["safety.emergency.read"])
    assert client.post("/api/v1/safety/plans", json={"code": "X", "name": "x", "type": "flood"}).status_code == 403
