"""The web shell: health, metrics, security headers, errors, language switch."""

from __future__ import annotations

from tests.factories import login, person, token_for


def test_healthz_reports_the_database(client, db):
    r = client.get("/healthz")
    assert r.status_code == 200 and r.json()["checks"]["database"] == "ok"


def test_metrics_need_a_token_with_system_manage(client, db):
    assert client.get("/metrics").status_code == 401
    admin = person(db, ["sysadmin"])
    tok = token_for(db, admin, ["system.manage"])
    client.get("/healthz")
    r = client.get("/metrics", headers={"Authorization": f"Bearer {tok}"})
    assert r.status_code == 200
    assert 'countyos_http_requests_total{method="GET",route="/healthz",status="200"}' in r.text
    assert "countyos_group_commit_transactions_total 0.0" in r.text  # nothing posted through it yet


def test_security_headers_on_pages_and_api(client, db):
    for path in ("/login", "/api/v1/me", "/healthz"):
        h = client.get(path).headers
        assert "script-src 'self'" in h["content-security-policy"]
        assert "'unsafe-inline'" not in h["content-security-policy"].split("script-src")[1].split(";")[0]
        assert "frame-ancestors 'none'" in h["content-security-policy"]
        assert h["x-content-type-options"] == "nosniff"
        assert "strict-transport-security" not in h  # no TLS in tests


def test_pages_contain_no_inline_script(client, db):
    p = person(db, ["sysadmin"])
    login(client, p)
    for path in ("/", "/account", "/admin/users", "/admin/departments", "/admin/tokens", "/login"):
        html = client.get(path).text
        for chunk in html.split("<script")[1:]:
            assert "src=" in chunk.split(">")[0], f"inline script on {path}"
        assert " on" + "click=" not in html


def test_unknown_paths_and_methods_get_problem_json(client, db):
    r = client.get("/api/v1/nothing-here")
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")
    r = client.delete("/healthz")
    assert r.status_code == 405 and r.json()["code"] == "method_not_allowed"
    r = client.get("/no-such-page", headers={"accept": "text/html"})
    assert r.status_code == 404 and "<html" in r.text


def test_oversized_body_is_refused_before_reading(client, db):
    r = client.post(
        "/api/v1/departments",
        content=b"x",
        headers={"content-length": str(100_000_000), "content-type": "application/json"},
    )
    assert r.status_code == 413 and r.json()["code"] == "payload_too_large"


def test_language_switch_is_remembered_on_the_account(client, db):
    p = person(db, ["intake"])
    csrf = login(client, p)
    assert "退出" in client.get("/").text
    client.post("/lang", data={"locale": "en", "next": "/", "csrf_token": csrf})
    html = client.get("/").text
    assert "Log out" in html and "退出" not in html
    client.cookies.delete("countyos_lang")
    assert client.get("/api/v1/me").json()["locale"] == "en"
    r = client.get("/api/v1/departments/999999")
    assert r.json()["detail"] == "Department 999999 does not exist"


def test_anonymous_language_choice_uses_a_cookie(client, db):
    page = client.get("/login")
    from tests.factories import csrf_from

    client.post("/lang", data={"locale": "en", "next": "/login", "csrf_token": csrf_from(page.text)})
    assert "User name" in client.get("/login").text


def test_home_shows_system_status_to_the_system_administrator_only(client, db):
    person(db, ["secadmin"], totp=False)  # an administrator who has not enrolled yet
    admin = person(db, ["sysadmin"])
    login(client, admin)
    html = client.get("/").text
    assert 'id="system-status"' in html
    assert ("sqlite" in html) or ("postgresql" in html)
    assert "未启用第二因素的管理员：1 人" in html
    client.cookies.clear()
    login(client, person(db, ["dispatcher"]))
    assert 'id="system-status"' not in client.get("/").text


def test_page_titles_are_plain_text(client, db):
    login(client, person(db, ["sysadmin"]))
    html = client.get("/").text
    title = html.split("<title>")[1].split("</title>")[0]
    assert "<" not in title and len(title) < 80
