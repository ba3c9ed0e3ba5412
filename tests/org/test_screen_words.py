"""The audit log names actions and objects in the interface language: 'Signed in', 'User 张三',
never 'auth.login' or 'user 12'."""

from __future__ import annotations

from tests.factories import csrf_from, department, login, person
from tests.web.visible import raw_marks, visible_text


def test_audit_log_shows_action_names_and_object_names(client, db):
    water = department(db, "县水利局")
    clerk = person(db, ["dispatcher"], department_id=water)
    auditor = person(db, ["auditadmin"])
    login(client, clerk)
    client.cookies.clear()
    login(client, auditor)
    page = client.get("/admin/audit?limit=500")
    texts = visible_text(page.text)
    assert "登录成功" in texts and "auth.login" not in texts
    assert "新建用户" in texts and f"用户 测试{clerk.username}" in texts
    assert "部门 县水利局" in texts
    assert not any(t.startswith("user ") for t in texts)
    # the collapsed "details" column keeps the stored JSON for auditors (code-ref); the rest reads as words
    assert raw_marks(texts) == []
    client.post("/lang", data={"locale": "en", "csrf_token": csrf_from(page.text), "next": "/"})
    texts = visible_text(client.get("/admin/audit?limit=500").text)
    assert "Signed in" in texts and f"User 测试{clerk.username}" in texts and "Department 县水利局" in texts
