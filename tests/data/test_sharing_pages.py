"""Sharing in the browser's forms: a consumer requests from the resource's page, the provider narrows and
approves, the key is shown once; a refused form keeps what was typed."""

from __future__ import annotations

import re
from datetime import date, timedelta

from sqlalchemy import select

from countyos.data.models import Grant, ShareRequest
from tests import factories
from tests.data.test_sharing import _conditional
from tests.factories import csrf_from, login


def test_request_and_decide_in_the_pages(client, db, office, tmp_path) -> None:
    rid = _conditional(db, tmp_path, office)
    consumer = factories.person(db, ["data_provider"], department_id=office.other)
    csrf = login(client, consumer)
    page = client.get(f"/data/resources/{rid}")
    assert 'id="resource-request"' in page.text
    page = client.get(f"/data/resources/{rid}/request")
    assert "内部备注" not in page.text  # not shared: not offered
    until = (date.today() + timedelta(days=60)).isoformat()
    bad = client.post(f"/data/resources/{rid}/request", data={"csrf_token": csrf, "purpose": "核查", "until": until})
    assert bad.status_code == 422 and 'id="error-fields"' in bad.text and "核查" in bad.text
    r = client.post(f"/data/resources/{rid}/request", follow_redirects=True, data={
        "csrf_token": csrf, "purpose": "核查学校周边经营主体", "until": until,
        "fields": ["name", "legal_person"]})  # fmt: skip
    assert r.status_code == 200 and "核查学校周边经营主体" in r.text
    client.post("/logout", data={"csrf_token": csrf_from(r.text)})
    csrf = login(client, office.provider)
    page = client.get("/data/sharing")
    with db.reading() as s:
        req_id, version = s.execute(select(ShareRequest.id, ShareRequest.version)).one()
    assert f"/data/requests/{req_id}" in page.text
    page = client.get(f"/data/requests/{req_id}")
    assert 'id="decide-form"' in page.text
    bad = client.post(
        f"/data/requests/{req_id}", data={"csrf_token": csrf, "decision": "refuse", "version": str(version)}
    )
    assert bad.status_code == 422  # a refusal needs a reason
    r = client.post(f"/data/requests/{req_id}", data={
        "csrf_token": csrf, "decision": "approve", "version": str(version), "fields": ["name"],
        "filter_column": "uscc", "filter_values": "91331123MA2000001J", "until": until,
        "quota_per_day": "50"})  # fmt: skip
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    key = re.search(r'id="grant-key" class="mono">([^<]+)<', r.text).group(1)
    with db.reading() as s:
        grant = s.scalar(select(Grant))
        assert (grant.fields, grant.row_filter, grant.quota_per_day) == (["name"], {"uscc": ["91331123MA2000001J"]}, 50)
    rows = client.get("/api/v1/data/shared/rows", headers={"X-Data-Key": key}).json()["records"]
    assert rows == [{"_id": 1, "name": "甲公司"}]
