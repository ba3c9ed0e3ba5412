"""The pages: the public catalogue and guide (no login), the staff list, edit form and import."""

from __future__ import annotations

import html
import io
import re

from countyos.services.models import MatterStatus
from countyos.services.service import catalogue, excel
from tests.factories import csrf_from, login, person
from tests.services.conftest import ADMIN, guide


def _published(db, shop, **changes):
    with db.unit_of_work() as s:
        m = catalogue.create(s, actor=ADMIN, data=guide(shop, **changes))
        catalogue.publish(s, actor=ADMIN, matter_id=m.id)
        return m.id


def test_public_catalogue_searches_by_pinyin_and_filters(client, db, shop) -> None:
    mid = _published(db, shop)
    other = _published(db, shop, code="B-1", name="残疾人两项补贴", theme="社会救助", audiences=["person"])
    page = client.get("/services", params={"q": "spjy"})
    assert page.status_code == 200
    assert f'href="/services/matters/{mid}"' in page.text and f"/services/matters/{other}" not in page.text
    page = client.get("/services", params={"theme": "社会救助"})
    assert f"/services/matters/{other}" in page.text and f'href="/services/matters/{mid}"' not in page.text
    page = client.get("/services", params={"audience": "person"})
    assert f"/services/matters/{other}" in page.text and f'href="/services/matters/{mid}"' not in page.text
    page = client.get("/services", params={"q": "spjy", "theme": "", "department_id": "", "audience": ""})
    assert page.status_code == 200 and f'href="/services/matters/{mid}"' in page.text  # a form's empty choices
    page = client.get("/services", params={"department_id": shop.market, "large": 1})
    assert "svc-large" in page.text and f"/services/matters/{mid}?large=1" in page.text


def test_guide_shows_materials_limits_fees_places_phones_steps(client, db, shop) -> None:
    mid = _published(db, shop, charged=True, fee_basis="《收费标准》每件 10 元")
    page = client.get(f"/services/matters/{mid}")
    assert page.status_code == 200
    text = page.text
    for expected in ("食品经营许可（新办）", "5 个工作日", "20 个工作日", "《收费标准》每件 10 元",
                     "县政务服务中心二楼 12 号窗口", "0578-8123456", "食品经营许可申请书", "审查决定",
                     "测试市场监督管理局", "无需到现场"):  # fmt: skip
        assert expected in text, expected
    with db.unit_of_work() as s:
        catalogue.withdraw(s, actor=ADMIN, matter_id=mid)
    assert client.get(f"/services/matters/{mid}").status_code == 404


def test_staff_edit_form_makes_a_new_version_and_keeps_what_was_typed(client, db, shop) -> None:
    with db.unit_of_work() as s:
        mid = catalogue.create(s, actor=ADMIN, data=guide(shop)).id
    admin = person(db, ["services_admin"])
    login(client, admin)
    page = client.get(f"/services/admin/matters/{mid}")
    assert page.status_code == 200 and 'name="step-1-name" maxlength="100" value="审查决定"' in page.text
    csrf = csrf_from(page.text)
    form = {k: html.unescape(v) for k, v in re.findall(r'<input name="([\w-]+)"[^>]*?value="([^"]*)"', page.text)}
    form |= {k: html.unescape(v) for k, v in re.findall(r'<textarea name="(\w+)"[^>]*>([^<]*)</textarea>', page.text)}
    form.update(
        {"csrf_token": csrf, "matter_type": "licensing", "level": "county", "body_nature": "statutory",
         "legal_limit_unit": "working_days", "promised_limit_unit": "working_days", "application_kind": "promised",
         "scope": "none", "department_id": str(shop.market), "online": "1", "step-0-department_id": str(shop.centre),
         "step-1-department_id": str(shop.market), "mat-0-required": "1", "mat-1-required": "1"}
    )  # fmt: skip
    data = [*form.items(), ("audiences", "enterprise"), ("audiences", "other_org"), ("handling_forms", "window"),
            ("handling_forms", "online_pc")]  # fmt: skip
    # the same guide: nothing changed
    r = client.post(f"/services/admin/matters/{mid}", content=_encode(data), headers=_form, follow_redirects=False)
    assert r.status_code == 303
    with db.reading() as s:
        v = catalogue.current(catalogue.get(s, matter_id=mid))
        assert v.number == 1, catalogue.payload(v)
    changed = [(k, "3" if k == "promised_limit" else v) for k, v in data]
    r = client.post(f"/services/admin/matters/{mid}", content=_encode(changed), headers=_form, follow_redirects=False)
    assert r.status_code == 303
    with db.reading() as s:
        m = catalogue.get(s, matter_id=mid)
        assert catalogue.current(m).number == 2 and catalogue.current(m).promised_limit == 3
    bad = [(k, "11331123000000101X" if k == "body_uscc" else ("abc" if k == "visits" else v)) for k, v in changed]
    r = client.post(f"/services/admin/matters/{mid}", content=_encode(bad), headers=_form)
    assert r.status_code == 422
    assert re.search(r'id="error-visits">[^<]+<', r.text)
    assert 'value="11331123000000101X"' in r.text  # what was typed stays
    r = client.post(f"/services/admin/matters/{mid}/status", data={"csrf_token": csrf, "action": "publish"},
                    follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    with db.reading() as s:
        assert catalogue.get(s, matter_id=mid).status == MatterStatus.PUBLISHED
    assert client.get("/services/admin/matters", params={"q": "", "status": "", "department_id": ""}).status_code == 200
    versions = client.get(f"/services/admin/matters/{mid}").text.split('id="matter-versions"')[1]
    assert f"测试{admin.username}" in versions  # the person who saved version 2, by name


_form = {"content-type": "application/x-www-form-urlencoded"}


def _encode(pairs) -> bytes:
    from urllib.parse import urlencode

    return urlencode(pairs).encode()


def test_the_guide_of_a_bad_uscc_is_refused_beside_its_field(client, db, shop) -> None:
    login(client, person(db, ["services_admin"]))
    page = client.get("/services/admin/matters/new")
    csrf = csrf_from(page.text)
    pairs = [("csrf_token", csrf), ("code", "N-1"), ("name", "测试事项"), ("matter_type", "licensing"),
             ("level", "county"), ("body_name", "测试局"), ("body_uscc", "123"), ("body_nature", "statutory"),
             ("promised_limit", "5"), ("promised_limit_unit", "working_days"), ("legal_limit_unit", "working_days"),
             ("application_kind", "promised"), ("scope", "none"), ("visits", "1"), ("audiences", "person"),
             ("handling_forms", "window"), ("step-0-name", "受理"), ("step-0-department_id", "999999")]  # fmt: skip
    r = client.post("/services/admin/matters/new", content=_encode(pairs), headers=_form)
    assert r.status_code == 422
    assert re.search(r'id="error-body_uscc">不是有效的统一社会信用代码<', r.text)
    assert re.search(r'id="error-steps">没有此部门<', r.text)
    assert 'name="step-0-name" maxlength="100" value="受理"' in r.text
    ok = [(k, v) for k, v in pairs if k not in ("body_uscc", "step-0-department_id")]
    r = client.post("/services/admin/matters/new", content=_encode(ok), headers=_form, follow_redirects=False)
    assert r.status_code == 303


def test_import_page_shows_the_per_row_report(client, db, shop) -> None:
    with db.unit_of_work() as s:
        catalogue.create(s, actor=ADMIN, data=guide(shop))
        data = excel.export_workbook(s)
        s.rollback()
    login(client, person(db, ["services_admin"]))
    page = client.get("/services/admin/import")
    csrf = csrf_from(page.text)
    r = client.post("/services/admin/import", data={"csrf_token": csrf}, files={"file": ("m.xlsx", io.BytesIO(data))})
    assert r.status_code == 200 and 'id="import-rows"' in r.text and "新建" in r.text
    r = client.post("/services/admin/import", data={"csrf_token": csrf}, files={"file": ("m.xlsx", io.BytesIO(b"x"))})
    assert r.status_code == 422 and 'id="import-error"' in r.text


def test_staff_pages_need_the_permission(client, db) -> None:
    assert client.get("/services/admin/matters", follow_redirects=False).status_code in (303, 401)
    login(client, person(db, ["intake"]))
    assert client.get("/services/admin/matters").status_code == 403
