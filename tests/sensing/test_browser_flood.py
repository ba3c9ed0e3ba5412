"""In a browser, the whole flood story of the demo county: a river gauge measures a flood (through the
SensorThings API, as a gateway would send it), the rule raises a critical alarm that opens a case; the
dispatcher sees the alarm with its case in the alarm console and the gauge on the device map, opens
the case, dispatches it to a department, finds it on the console's map at the gauge's position; the
water falls back, the alarm clears by itself and the case's timeline says so."""

from __future__ import annotations

import base64
import json
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
        params={
            "$filter": "endswith(name, '水位站01')",
            "$expand": "Datastreams($filter=unitOfMeasurement/symbol eq 'm'),Locations",
        },
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
    expect(page.locator("#sensing-map[data-ready='1']")).to_have_count(1, timeout=60_000)
    assert int(page.locator("#sensing-map").get_attribute("data-devices") or 0) >= 30
    shoot(page, "sensing-device-map")
    page.goto(f"/sensing/devices/{things[0]['@iot.id']}")
    expect(page.locator(".sensing-chart[data-points]").first).to_be_visible(timeout=15000)

    # The case, opened by the alarm, goes through the centre's steps, each person on their own page:
    # intake accepts it (受理), the shift leader registers it (立案), the dispatcher dispatches it (派遣).
    page.goto("/sensing/alarms")
    page.locator("#alarms-table tr.sev-critical").filter(has_text=things[0]["name"]).first.locator(
        "a[href^='/cases/']"
    ).click()
    page.wait_for_load_state()
    case_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
    expect(page.locator("#timeline")).to_contain_text("Alarm #")
    for user, action in (("intake", "accept"), ("shift", "register"), ("dispatch", "dispatch")):
        step = browsing.as_user(user)
        step.goto(f"/cases/{case_id}")
        if not step.locator(f"#do-{action}").is_visible():  # the first action's form is open already
            step.locator(f"#act-{action}").click()
        step.locator(f"#do-{action}").click()
        step.wait_for_load_state()
        expect(step.locator(f"#act-{action}")).to_have_count(0)
        if action != "dispatch":
            assert not step.problems.take()  # type: ignore[attr-defined]
            step.context.close()
    page = step
    expect(page.locator("#case-state")).to_have_text("已派遣")
    shoot(page, "sensing-flood-case-dispatched")

    # On the console's map, at the gauge.
    page.goto("/cases?queue=all")
    expect(page.locator(f"tr[data-case='{case_id}']")).to_be_visible()
    expect(page.locator("#cases-map canvas.maplibregl-canvas")).to_be_visible(timeout=15000)
    features = page.evaluate(  # what the map shows: the console queue's GeoJSON, with this browser's session
        "async () => (await (await fetch('/cases/map.geojson?queue=all')).json()).features"
    )
    ours = [f for f in features if f["properties"]["id"] == case_id]
    gauge = things[0]["Locations"][0]["location"]["coordinates"]
    assert ours and ours[0]["geometry"]["coordinates"] == pytest.approx(gauge, abs=1e-6), (ours, gauge)
    shoot(page, "sensing-flood-case-on-map")

    # The water falls back below the clearing level: the alarm clears itself, noted on the case.
    rows = [[(now - timedelta(minutes=4 - i)).strftime("%Y-%m-%dT%H:%M:%SZ"), 2.5] for i in range(3)]
    body = [{"Datastream": {"@iot.id": ds}, "components": ["phenomenonTime", "result"], "dataArray": rows}]
    r = httpx.post(f"{base}/CreateObservations", headers=auth, timeout=30, json=body)
    assert r.status_code == 201 and "error" not in r.json(), r.text
    page.goto("/sensing/alarms?state=cleared")
    expect(page.locator("#alarms-table tr.sev-critical").filter(has_text=things[0]["name"]).first).to_be_visible()
    page.goto(f"/cases/{case_id}")
    expect(page.locator("#timeline")).to_contain_text("Alarm cleared")
    problems = page.problems.take()  # type: ignore[attr-defined]
    assert not problems, problems


def test_rule_form_writes_the_json_and_previews_in_the_browser(browsing: Browsing) -> None:  # noqa: F811
    """The data administrator builds "above 3.2 m for 15 minutes, clears at 3.0" with the form: the JSON
    under it follows as they type, the preview runs over real data, and the saved rule reopens on the form."""
    page = browsing.as_user("data")
    page.goto("/sensing/rules/new")
    page.fill("input[name=name]", "河道水位超保证")
    page.select_option("#rule-datastream", index=1)
    page.select_option("#c-kind", "threshold")
    page.select_option("#c-op", ">")
    page.fill("#c-value", "3.2")
    page.fill("#c-clear", "3.0")
    page.fill("#c-minutes", "15")
    expect(page.locator("#c-intervals")).to_be_hidden()
    condition = {"type": "duration", "seconds": 900, "of": {"type": "threshold", "op": ">", "value": 3.2, "clear": 3}}
    expect(page.locator("#rule-condition")).to_have_value(json.dumps(condition, indent=2).replace(", ", ","))
    page.click("#rule-preview")
    expect(page.locator("#rule-preview-result[data-fired]")).to_have_count(1)
    page.click("#rule-form button[type=submit]")
    page.wait_for_load_state()
    expect(page.locator("input[name=mode][value=form]")).to_be_checked()
    expect(page.locator("#c-minutes")).to_have_value("15")
    page.locator("input[name=mode][value=json]").check()
    expect(page.locator("#rule-builder")).to_be_hidden()
    expect(page.locator("#rule-condition")).to_be_editable()
    problems = page.problems.take()  # type: ignore[attr-defined]
    assert not problems, problems
