"""Evaluation indicators: the README's worked example, reproduced exactly; weights as data; export."""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from openpyxl import load_workbook

from countyos.cases.models import Case, Channel, DispatchRecord
from countyos.cases.service import evaluation
from tests.cases.conftest import FACTORY

CST = ZoneInfo("Asia/Shanghai")
README = Path(__file__).resolve().parents[2] / "src" / "countyos" / "cases" / "README.md"
T = datetime(2026, 3, 10, 9, 0, tzinfo=CST)
H = timedelta(hours=1)


def readme_values() -> dict[str, float]:
    text = README.read_text(encoding="utf-8")
    block = text.split("<!-- worked-example:begin -->")[1].split("<!-- worked-example:end -->")[0]
    out = {}
    for line in block.splitlines():
        m = re.match(r"\|\s*([a-z_ ]+?)\s*\|.*\|\s*([0-9.]+)\s*\|$", line)
        if m:
            out[m.group(1)] = float(m.group(2))
    return out


def make(s, world, n, **kw):
    base = dict(
        channel=Channel.GRID,
        category_id=world.cat_manhole,
        title=f"例{n}",
        lon=119.1,
        lat=28.5,
        township_code="331123001",
        township_name="妙高街道",
        grid_code="331123001001001",
        area_class="B",
        state="reported",
        is_open=True,
        version=1,
        reported_at=T + n * H,
        department_id=world.works,
        number=f"2026031000000{n}",
    )
    base.update(kw)
    c = Case(**base)
    s.add(c)
    s.flush()
    return c


def worked_example(db, world):
    with db.unit_of_work() as s:
        reg = dict(registered_at=T + 2 * H, register_deadline=T + 3 * H)
        late_reg = dict(registered_at=T + 9 * H, register_deadline=T + 8 * H)
        disp_ok = dict(dispatched_at=T + 5 * H, dispatch_deadline=T + 6 * H)
        disp_late = dict(dispatched_at=T + 7 * H, dispatch_deadline=T + 6 * H)
        c1 = make(
            s,
            world,
            1,
            **reg,
            **disp_ok,
            handled_in_time=True,
            closed_at=T + 30 * H,
            closed_in_time=True,
            satisfaction="satisfied",
            state="evaluated",
            is_open=False,
        )
        c2 = make(
            s,
            world,
            2,
            **reg,
            **disp_late,
            handled_in_time=False,
            closed_at=T + 90 * H,
            closed_in_time=False,
            rework_count=1,
            satisfaction="dissatisfied",
            state="evaluated",
            is_open=False,
        )
        c3 = make(
            s,
            world,
            3,
            **reg,
            **disp_ok,
            handled_in_time=True,
            closed_at=T + 40 * H,
            closed_in_time=True,
            channel=Channel.OPEN311,
            public_report=True,
            state="closed",
            is_open=False,
        )
        c4 = make(s, world, 4, **late_reg, **disp_ok, channel=Channel.HOTLINE, public_report=True, state="handling")
        make(s, world, 5, **reg, voided_at=T + 4 * H, department_id=None, state="voided", is_open=False)
        make(s, world, 6, department_id=None, state="rejected", is_open=False)
        make(
            s,
            world,
            7,
            department_id=None,
            self_handled=True,
            closed_at=T + 8 * H,
            closed_in_time=True,
            satisfaction="very_satisfied",
            state="evaluated",
            is_open=False,
        )
        for c in (c1, c2, c3, c4):
            s.add(DispatchRecord(case_id=c.id, at=c.dispatched_at, department_id=world.works))
        s.add(DispatchRecord(case_id=c3.id, at=T + 6 * H, department_id=world.water))
        # outside the period: must not count
        make(s, world, 8, reported_at=T + timedelta(days=40), registered_at=T + timedelta(days=40))


def test_worked_example_matches_the_readme(db, world):
    worked_example(db, world)
    expected = readme_values()
    assert len(expected) == 12
    with db.reading() as s:
        rows = evaluation.evaluate(
            s, subject="township", start=datetime(2026, 3, 1, tzinfo=CST), end=datetime(2026, 4, 1, tzinfo=CST)
        )
    (row,) = rows
    c = row.counts
    assert (
        c.reported,
        c.valid_reports,
        c.registered,
        c.registered_on_time,
        c.to_close,
        c.closed,
        c.closed_on_time,
        c.reworked,
        c.dispatched,
        c.dispatched_on_time,
        c.dispatched_once,
        c.handled_on_time,
        c.public_registered,
        c.rated,
        c.satisfied,
    ) == (7, 6, 5, 4, 4, 3, 2, 1, 4, 3, 3, 2, 2, 3, 2)
    for name, value in expected.items():
        if name == "township composite":
            assert row.score == value
        else:
            assert row.rates[name] == value, name
    assert row.grade == "C" and row.name == "妙高街道"


def test_weights_are_data_and_change_the_score(db, world):
    worked_example(db, world)
    with db.unit_of_work() as s:
        evaluation.set_scheme(s, actor=FACTORY, subject="township", weights={"closure_rate": 1.0})
    with db.reading() as s:
        (row,) = evaluation.evaluate(
            s, subject="township", start=datetime(2026, 3, 1, tzinfo=CST), end=datetime(2026, 4, 1, tzinfo=CST)
        )
    assert row.score == 75.0 and row.grade == "B"


def test_department_and_person_subjects(db, world):
    worked_example(db, world)
    with db.reading() as s:
        rows = evaluation.evaluate(
            s, subject="department", start=datetime(2026, 3, 1, tzinfo=CST), end=datetime(2026, 4, 1, tzinfo=CST)
        )
    assert [r.name for r in rows] == ["县住房和城乡建设局"]
    assert rows[0].counts.reported == 4  # cases 1–4 ended with the department


def test_registrar_and_dispatcher_subjects_follow_who_did_the_step(db, world):
    """按时立案率/准确立案率 per registering person, 按时派遣率/准确派遣率 per dispatcher: the person is the
    actor of the case's first register (dispatch) step in its timeline."""
    from sqlalchemy import select

    from countyos.cases.models import CaseEvent

    worked_example(db, world)
    by_n = {}
    with db.unit_of_work() as s:
        for c in s.scalars(select(Case).where(Case.number.like("2026031000000%"))):
            by_n[int(c.number[-1])] = c.id

        def step(n, seq, action, person):
            s.add(CaseEvent(case_id=by_n[n], seq=seq, at=T, actor_id=person.id, action=action, to_state="x"))

        for n in (1, 2, 3, 5):
            step(n, 2, "register", world.shift)
        step(4, 2, "register", world.leader)  # case 4 was registered late
        for n in (1, 2):
            step(n, 3, "dispatch", world.dispatcher)
        for n in (3, 4):
            step(n, 3, "dispatch", world.shift)
        step(3, 4, "dispatch", world.dispatcher)  # a later dispatch (改派) is not the first
    period = dict(start=datetime(2026, 3, 1, tzinfo=CST), end=datetime(2026, 4, 1, tzinfo=CST))
    with db.reading() as s:
        reg = {r.key: r for r in evaluation.evaluate(s, subject="registrar", **period)}
        disp = {r.key: r for r in evaluation.evaluate(s, subject="dispatcher", **period)}
    shift, leader = reg[str(world.shift.id)], reg[str(world.leader.id)]
    assert (shift.counts.registered, shift.counts.registered_on_time) == (4, 4)
    assert shift.rates["registered_on_time_rate"] == 100.0 and shift.rates["accurate_registration_rate"] == 75.0
    assert shift.score == 90.0 and shift.grade == "A"  # 0.6 × 100 + 0.4 × 75
    assert leader.rates["registered_on_time_rate"] == 0.0 and leader.score == 40.0 and leader.grade == "D"
    d, sh = disp[str(world.dispatcher.id)], disp[str(world.shift.id)]
    assert (d.counts.dispatched, d.counts.dispatched_on_time, d.counts.dispatched_once) == (2, 1, 2)
    assert (sh.counts.dispatched, sh.counts.dispatched_on_time, sh.counts.dispatched_once) == (2, 2, 1)
    assert d.score == 75.0 and sh.score == 75.0


def test_evaluation_page_and_export(client, db, world):
    from tests.factories import login

    worked_example(db, world)
    login(client, world.shift)
    page = client.get("/cases/evaluation?subject=township&start=2026-03-01&end=2026-04-01")
    assert page.status_code == 200 and "61.83" in page.text and 'id="eval-chart"' in page.text
    x = client.get("/cases/evaluation/export?subject=township&start=2026-03-01&end=2026-04-01")
    assert x.status_code == 200
    ws = load_workbook(io.BytesIO(x.content)).active
    header = [c.value for c in ws[1]]
    row = [c.value for c in ws[2]]
    assert row[header.index("score")] == 61.83 and row[header.index("grade")] == "C"
    assert client.get("/cases/evaluation?subject=nope").status_code == 422


def test_evaluation_api_and_weights_as_data(client, db, world):
    from tests.cases.test_api import h

    worked_example(db, world)
    params = {"subject": "township", "start": "2026-03-01T00:00:00+08:00", "end": "2026-04-01T00:00:00+08:00"}
    r = client.get("/api/v1/case-evaluation", params=params, headers=h(db, world.shift))
    assert r.status_code == 200 and r.json()["rows"][0]["score"] == 61.83
    bad = client.put(
        "/api/v1/case-evaluation/schemes/township", json={"weights": {"nope": 1}}, headers=h(db, world.shift)
    )
    assert bad.status_code == 422
    ok = client.put(
        "/api/v1/case-evaluation/schemes/township",
        json={"weights": {"satisfaction_rate": 1}},
        headers=h(db, world.shift),
    )
    assert ok.status_code == 200
    r = client.get("/api/v1/case-evaluation", params=params, headers=h(db, world.shift))
    assert r.json()["rows"][0]["score"] == 66.67 and r.json()["rows"][0]["grade"] == "C"
    assert client.get("/api/v1/case-evaluation", params=params, headers=h(db, world.handler)).status_code == 403
