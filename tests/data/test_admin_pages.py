"""The catalogue's staff pages: describe, load, submit and review in the browser's forms; a refused form
comes back with what was typed and the message beside the field."""

from __future__ import annotations

import io

from sqlalchemy import select

from countyos.data.models import Resource
from tests.data.test_catalogue_and_loads import GOOD
from tests.factories import csrf_from, login


def _form(csrf, office, **changes):
    data = {
        "csrf_token": csrf,
        "title": "企业登记信息",
        "code": "331123-SCJG-0001",
        "name": "qiye-dengji",
        "provider_id": str(office.market),
        "summary": "本县企业",
        "share_type": "unconditional",
        "share_method": "platform",
        "open_type": "unconditional",
        "update_cycle": "monthly",
        "grade": "general",
        "sensitivity": "1",
        "licence": "CC-BY-4.0",
        "keywords": "企业、登记",
        "themes": "市场监管",
        "item-0-label": "企业名称", "item-0-name": "name", "item-0-type": "text", "item-0-open": "1",
        "item-0-shared": "1",
        "item-1-label": "统一社会信用代码", "item-1-name": "uscc", "item-1-type": "text", "item-1-open": "1",
        "item-1-shared": "1", "item-1-is_key": "1",
        "item-2-label": "成立日期", "item-2-name": "founded", "item-2-type": "date", "item-2-open": "1",
        "item-3-label": "法定代表人", "item-3-name": "legal_person", "item-3-type": "text", "item-3-sensitive": "1",
        "rule-0-kind": "uscc", "rule-0-column": "uscc", "rule-0-params": "",
    }  # fmt: skip
    data.update(changes)
    return data


def test_provider_describes_loads_and_submits_then_the_bureau_publishes(client, db, office) -> None:
    csrf = login(client, office.provider)
    page = client.get("/data/resources/new")
    assert page.status_code == 200 and 'id="resource-form"' in page.text
    bad = client.post("/data/resources/new", data=_form(csrf, office, share_type="conditional", name="Bad Name!"))
    assert bad.status_code == 422 and 'id="error-name"' in bad.text
    assert 'value="Bad Name!"' in bad.text and 'value="企业登记信息"' in bad.text  # what was typed is kept
    r = client.post("/data/resources/new", data=_form(csrf, office), follow_redirects=False)
    assert r.status_code == 303, r.text
    url = r.headers["location"]
    page = client.get(url)
    assert 'id="load-form"' in page.text and "法定代表人" in page.text
    files = {"file": ("qy.csv", io.BytesIO(GOOD.encode()), "text/csv")}
    r = client.post(f"{url}/load", data={"csrf_token": csrf}, files=files, follow_redirects=True)
    assert r.status_code == 200 and 'id="load-1"' in r.text
    with db.reading() as s:
        res = s.scalar(select(Resource))
        assert res.current_load_id is not None
        version = res.version
    r = client.post(f"{url}/action", data={"csrf_token": csrf, "action": "submit", "version": str(version)},
                    follow_redirects=True)  # fmt: skip
    assert 'id="resource-state"' in r.text and "resource-approve" not in r.text
    client.post("/logout", data={"csrf_token": csrf_from(r.text)})
    csrf = login(client, office.bureau)
    page = client.get("/data/resources", params={"state": "in_review"})
    assert "企业登记信息" in page.text
    page = client.get(url)
    assert 'id="resource-approve"' in page.text and 'id="resource-reject"' in page.text
    with db.reading() as s:
        version = s.scalar(select(Resource.version))
    r = client.post(f"{url}/action", data={"csrf_token": csrf, "action": "approve", "version": str(version)},
                    follow_redirects=True)  # fmt: skip
    with db.reading() as s:
        assert s.scalar(select(Resource.state)) == "published"
    assert "/open/datasets/qiye-dengji" in r.text
