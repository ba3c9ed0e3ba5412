"""好差评 in the browser: a resident gives a 差评 on a phone, the rated department (scjg) records 核实 and
整改, the supervisor (zwfw) records 回访, and the statistics on the ratings page change by exactly
that rating."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import DEMO_PASSWORD, PHONE, Browsing, Server, log_in, shoot

pytestmark = pytest.mark.browser

# Run inside the served county (same settings, keys and database): a resident account and a concluded
# online application of theirs for 食品经营许可（新办） (县市场监督管理局), taken through the service.
SETUP = r"""
import json
from countyos import domains
domains.load_models()
from datetime import timedelta
from sqlalchemy import select
from countyos.core.actor import Actor
from countyos.core.clock import utcnow
from countyos.core.db import Database
from countyos.core.settings import get_settings
from countyos.org import flows
from countyos.services.lifecycle import Action
from countyos.services.models import Matter, MatterVersion
from countyos.services.schemas import ACTION_MODELS, ApplicationIn
from countyos.services.service import applications as apps

db = Database(get_settings().database_url)
with db.unit_of_work() as s:
    user = flows.create_person(s, actor=Actor(id=None, name="cli"), username="rater_resident",
        display_name="雷秀英", password=PASSWORD, role_codes=[], must_change_password=False)
    matter = s.scalar(select(Matter).join(MatterVersion, Matter.current_version_id == MatterVersion.id)
        .where(MatterVersion.name == "食品经营许可（新办）"))
    version = matter.current
    me = Actor(id=user.id, name="雷秀英", permissions=frozenset({"services.application.apply"}))
    t = utcnow() - timedelta(days=2)
    data = ApplicationIn.model_validate({"matter_id": matter.id, "applicant_name": "雷秀英",
        "id_number": "33112519800101002X", "phone": "13905780000",
        "materials": [{"material_id": m.id, "form": "electronic", "count": 1} for m in version.materials]})
    app = apps.create(s, actor=me, data=data, now=t)
    def do(actor, action, **body):
        global app
        model = ACTION_MODELS[action].model_validate({"version": app.version, **body})
        app = apps.act(s, actor=actor, application_id=app.id, action=action, data=model, now=t)
    do(Actor(id=None, name="cli", permissions=frozenset({apps.WINDOW})), Action.ACCEPT)
    for i, step in enumerate(version.steps):
        handler = Actor(id=None, name="cli", permissions=frozenset({apps.HANDLE}), department_id=step.department_id)
        last = i == len(version.steps) - 1
        result = {"decision": "granted", "result_name": "食品经营许可证", "result_number": "JY13311250009999"}
        do(handler, Action.PASS, opinion="同意", **({"result": result} if last else {}))
    print(json.dumps({"application_id": app.id}))
"""


def _setup(server: Server) -> int:
    done = subprocess.run(
        [sys.executable, "-c", f"PASSWORD = {DEMO_PASSWORD!r}\n" + SETUP],
        env=server.env,
        cwd=server.env["COUNTYOS_DATA_DIR"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return int(json.loads(done.stdout.strip().splitlines()[-1])["application_id"])


def _stats(page: Page) -> dict[str, str]:
    """The statistics row of all ratings: ratings, good rate, bad ratings, rectified."""
    page.goto("/services/ratings")
    row = page.locator("#ratings-stats tr.total")
    return {
        "rated": row.locator(".stat-rated").inner_text(),
        "bad": row.locator(".stat-bad").inner_text(),
        "rectified": row.locator(".stat-rectified").inner_text(),
    }


def test_a_bad_rating_is_verified_rectified_and_revisited(browsing: Browsing, server: Server) -> None:
    app_id = _setup(server)
    supervisor = browsing.as_user("zwfw")
    before = _stats(supervisor)

    # the resident rates on a phone: 非常不满意 with a reason
    resident = browsing.new_page(viewport=PHONE)
    log_in(resident, server, "rater_resident")
    resident.goto(f"/services/applications/{app_id}/rate")
    expect(resident.locator("#rate-matter")).to_have_text("食品经营许可（新办）")
    resident.click("#rate-submit")  # nothing chosen: the browser asks for a level first
    expect(resident.locator("#rate-form")).to_be_visible()
    resident.check("#level-very_dissatisfied")
    resident.click("#rate-submit")  # no reason: refused beside the field, the choice kept
    expect(resident.locator("#error-comment")).to_contain_text("请说明不满意的原因")
    expect(resident.locator("#level-very_dissatisfied")).to_be_checked()
    refused = resident.problems.take()  # type: ignore[attr-defined]
    assert refused and all("422" in x for x in refused)  # the refusal, on purpose
    resident.check("#tag-many_visits")
    resident.fill("#rate-comment", "营业执照复印件要求没有一次说清，来回跑了两趟。")
    resident.click("#rate-submit")
    expect(resident.locator("#rate-given")).to_contain_text("非常不满意")
    expect(resident.locator("#rate-done")).to_be_visible()
    shoot(resident, "services-rate-phone")

    # the rated department verifies and rectifies
    market = browsing.as_user("scjg")
    market.goto("/services/ratings?bad_only=1")
    first = market.locator("#ratings-table tbody tr").first
    expect(first).to_contain_text("非常不满意")
    first.locator("a").first.click()
    expect(market.locator("#rectification-state")).to_have_text("待核实")
    expect(market.locator("#rating-comment")).to_contain_text("来回跑了两趟")
    expect(market.locator("#rec-form-revisit")).to_have_count(0)
    market.fill("#rec-note-verify", "调阅窗口记录并电话联系申请人，情况属实。")
    market.click("#rec-submit-verify")
    expect(market.locator("#rectification-state")).to_have_text("整改中")
    market.fill("#rec-note-rectify", "修订一次性告知清单，明确营业执照复印件要求，并在窗口公示。")
    market.click("#rec-submit-rectify")
    expect(market.locator("#rectification-state")).to_have_text("待回访")
    expect(market.locator("#rec-form-revisit")).to_have_count(0)
    rating_url = market.url

    # the supervisor revisits the rater and closes it
    supervisor.goto(rating_url)
    expect(supervisor.locator("#rectification-steps li")).to_have_count(2)
    supervisor.fill("#rec-note-revisit", "电话回访申请人，对整改结果表示认可。")
    supervisor.click("#rec-submit-revisit")
    expect(supervisor.locator("#rectification-state")).to_have_text("已办结")
    expect(supervisor.locator("#rectification-steps li")).to_have_count(3)
    expect(supervisor.locator("#rectification-steps")).to_contain_text("市场监管局审批人员 许文")
    expect(supervisor.locator("#rectification-steps")).to_contain_text("政务服务管理员 林静")
    shoot(supervisor, "services-rectification")

    after = _stats(supervisor)
    assert int(after["rated"]) == int(before["rated"]) + 1
    assert int(after["bad"]) == int(before["bad"]) + 1
    assert after["rectified"] != before["rectified"] and "%" in after["rectified"]
    for page in (resident, market, supervisor):
        assert page.problems.take() == []  # type: ignore[attr-defined]
