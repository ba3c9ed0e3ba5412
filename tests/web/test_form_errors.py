"""Forms keep what was typed on any error and show each error beside its field in the interface
language; the generic error page of a refused form never offers 登录 to a signed-in person and leads
back to the form."""

from __future__ import annotations

import json
import re

from tests.factories import login, person


def test_refused_form_page_is_the_persons_shell_with_the_errors_in_chinese(client, db):
    admin = person(db, ["sysadmin"])
    csrf = login(client, admin)
    other = person(db, ["handler"])
    # a field refused before the route runs (the form's own bound): the generic 422 page
    r = client.post(
        f"/admin/users/{other.id}/action", data={"csrf_token": csrf, "action": "reset_password", "password": "x" * 300}
    )
    assert r.status_code == 422, r.status_code
    assert 'class="topbar"' in r.text  # the signed-in shell
    assert 'href="/login"' not in r.text and "登录" not in r.text.split('id="error-card"')[1]
    assert 'id="back-to-form"' in r.text and 'data-form-refused="1"' in r.text
    fields = json.loads(re.search(r"data-fields='([^']*)'", r.text).group(1))
    assert fields == [{"field": "password", "message": "太长"}] or fields[0]["field"] == "password", fields
    assert all(not re.search(r"[A-Za-z]{4,}", f["message"]) for f in fields), fields  # Chinese, not pydantic English


def test_not_signed_in_error_page_offers_login(client, db):
    r = client.get("/r/not-a-token-at-all")
    assert r.status_code == 404 and 'href="/login"' in r.text and 'class="topbar"' not in r.text


def test_new_user_form_keeps_what_was_typed_and_marks_the_field(client, db):
    admin = person(db, ["sysadmin"])
    csrf = login(client, admin)
    r = client.post(
        "/admin/users/new",
        data={
            "csrf_token": csrf,
            "username": "zhangsan",
            "display_name": "张" * 61,  # too long
            "password": "Temp@pass2026x",
            "phone": "12",
        },
    )
    assert r.status_code == 422
    assert 'value="zhangsan"' in r.text and 'id="error-display_name"' in r.text
    assert re.search(r'id="error-display_name">[^<]*太长|id="error-display_name">[^<]*过长', r.text), r.text[:0]
    assert "Temp@pass2026x" not in r.text  # never the password


def test_new_user_service_refusal_is_beside_the_phone_field(client, db):
    admin = person(db, ["sysadmin"])
    csrf = login(client, admin)
    r = client.post(
        "/admin/users/new",
        data={
            "csrf_token": csrf,
            "username": "lisi",
            "display_name": "李四",
            "password": "Temp@pass2026x",
            "phone": "abc",
        },
    )
    assert r.status_code == 422
    assert 'id="error-phone"' in r.text and 'value="abc"' in r.text and 'value="李四"' in r.text


def test_user_edit_keeps_what_was_typed(client, db):
    admin = person(db, ["sysadmin"])
    other = person(db, ["handler"])
    csrf = login(client, admin)
    r = client.post(
        f"/admin/users/{other.id}", data={"csrf_token": csrf, "display_name": "王五", "phone": "not-a-phone"}
    )
    assert r.status_code == 422
    assert 'value="王五"' in r.text and 'value="not-a-phone"' in r.text and 'id="error-phone"' in r.text
    r = client.post(f"/admin/users/{other.id}", data={"csrf_token": csrf, "display_name": "", "phone": ""})
    assert r.status_code == 422 and 'id="error-display_name"' in r.text
    r = client.post(
        f"/admin/users/{other.id}",
        data={"csrf_token": csrf, "display_name": "王五", "phone": ""},
        follow_redirects=False,
    )
    assert r.status_code == 303


def test_a_signed_in_person_on_a_missing_page_is_not_offered_login(client, db):
    login(client, person(db, ["handler"]))
    r = client.get("/no/such/page")
    assert r.status_code == 404 and 'class="topbar"' in r.text and 'href="/login"' not in r.text


def test_new_role_form_keeps_what_was_typed_and_marks_the_code(client, db):
    security = person(db, ["secadmin"])
    csrf = login(client, security)
    r = client.post(
        "/admin/roles/new",
        data={"csrf_token": csrf, "code": "Bad Code", "name": "夜间巡查", "description": "夜里巡查的人"},
    )
    assert r.status_code == 422
    assert 'id="error-role-code"' in r.text and 'id="error-role-name"' not in r.text
    assert 'value="Bad Code"' in r.text and 'value="夜间巡查"' in r.text and 'value="夜里巡查的人"' in r.text
    message = re.search(r'id="error-role-code">([^<]*)<', r.text).group(1)
    assert message and not re.search(r"[A-Za-z]{4,}", message), message  # Chinese, not pydantic English


def test_token_form_keeps_what_was_typed_and_marks_the_field(client, db):
    admin = person(db, ["sysadmin"])
    machine = person(db, ["intake"], is_machine=True)
    csrf = login(client, admin)
    r = client.post(
        "/admin/tokens",
        data={
            "csrf_token": csrf,
            "name": "热线系统",
            "user_id": str(machine.id),
            "scopes": "case.intake",
            "days": "9999",
        },
    )
    assert r.status_code == 422
    assert 'id="error-token-days"' in r.text and 'value="9999"' in r.text
    assert 'value="热线系统"' in r.text and 'value="case.intake"' in r.text
    assert f'<option value="{machine.id}" selected>' in r.text
