"""In a browser: a flood measured by a demo river gauge raises a critical alarm that opens a case;
the dispatcher sees the gauge on the device map and the alarm with its case in the alarm console."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from playwright.sync_api import expect

from countyos.sensing.demo import MACHINE, MACHINE_PASSWORD
from tests.browser.conftest import Browsing, browser, browsing, browsing_session, server, shoot  # noqa: F401

pytestmark = pytest.mark.browser


def test_flood_becomes_an_alarm_with_a_case_visible_in_the_browser(browsing: Browsing) -> None:  # noqa: F811
    base = browsing.server.url + "/sta/v1.1"
    auth = {"Authorization": "Basic " + base64.b64encode(f"{MACHINE}:{MACHINE_PASSWORD}".encode()).decode()}
    things = httpx.get(
        f"{base}/Things",
        params={"$filter": "endswith(name, '水位站01')",
                "$expand": "Datastreams($filter=unitOfMeasurement/symbol eq 'm')"},
    ).json()["value"]
    assert things and things[0]["Datastreams"]
    ds = things[0]["Datastreams"][0]["@iot.id"]
    now = datetime.now(UTC).replace(second=30, microsecond=0)  # off the demo history's 10-minute grid
    rows = [[(now - timedelta(minutes=20 - i)).strftime("%Y-%m-%dT%H:%M:%SZ"), 3.7] for i in range(16)]
    body = [{"Datastream": {"@iot.id": ds}, "components": ["phenomenonTime", "result"], "dataArray": rows}]
    r = httpx.post(f"{base}/CreateObservations", headers=auth, timeout=30, json=body)
    assert r.status_code == 201 and "error" not in r.json(), r.text

    page = browsing.as_user("dispatch")
    page.goto("/sensing/alarms")
    row = page.locator("#alarms-table tr.sev-critical").filter(has_text=things[0]["name"]).first
    expect(row).to_be_visible()
    case_link = row.locator("a[href^='/cases/']")
    expect(case_link).to_be_visible()
    shoot(page, "sensing-alarm-console")
    page.goto("/sensing")
    expect(page.locator("#sensing-map[data-ready]")).to_have_count(1, timeout=15000)
    assert int(page.locator("#sensing-map").get_attribute("data-ready") or 0) >= 30
    shoot(page, "sensing-device-map")
    page.goto(f"/sensing/devices/{things[0]['@iot.id']}")
    expect(page.locator(".sensing-chart[data-points]").first).to_be_visible(timeout=15000)
    problems = page.problems.take()  # type: ignore[attr-defined]
    assert not problems, problems
