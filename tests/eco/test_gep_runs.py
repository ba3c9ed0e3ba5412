"""GEP runs: a report changes when and only when an input or parameter version changes; GEP/GDP and the
change on the previous year; missing inputs said, not guessed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from countyos.core.errors import NotFound, ValidationFailed
from countyos.eco.models.gep import GepInput, InputSource, ResultStatus
from countyos.eco.service import gep, gep_inputs, gep_parameters
from tests.eco.test_gep_support import ACCOUNTANT, SMALL, enter


@pytest.fixture
def params_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the installed parameter sets the test may change."""
    shutil.copy(gep_parameters.DATA / "gep_parameters_v1.json", tmp_path / "gep_parameters_v1.json")
    monkeypatch.setattr(gep_parameters, "DATA", tmp_path)
    return tmp_path


def test_same_inputs_and_parameters_answer_the_same_report(db) -> None:
    with db.unit_of_work() as s:
        enter(s)
        first, created = gep.run(s, actor=ACCOUNTANT, year=2025)
        assert created and first.version == 1 and first.complete
        again, created = gep.run(s, actor=ACCOUNTANT, year=2025)
        assert not created and again.id == first.id
        enter(s)  # the same figures entered again: no new input versions
        again, created = gep.run(s, actor=ACCOUNTANT, year=2025)
        assert not created and again.id == first.id
        assert len(gep.list_runs(s, year=2025)) == 1


def test_a_changed_input_makes_a_new_version_with_another_total(db) -> None:
    with db.unit_of_work() as s:
        enter(s)
        first, _ = gep.run(s, actor=ACCOUNTANT, year=2025)
        old = next(r for r in gep_inputs.current(s, year=2025) if r.code == "tourists")
        new_row, changed = gep_inputs.record(
            s,
            actor=ACCOUNTANT,
            year=2025,
            code="tourists",
            value=120.0,
            source=InputSource.STATISTIC,
            source_ref="统计公报 2025",
        )
        assert changed and new_row.version == 2 and new_row.id != old.id
        s.refresh(old)
        assert not old.current  # the old value is kept
        second, created = gep.run(s, actor=ACCOUNTANT, year=2025)
        assert created and second.version == 2
        assert second.gep == pytest.approx(first.gep + 20 * 10_000 * 800)
        assert new_row.id in second.input_ids and old.id not in second.input_ids
        tourism = next(r for r in second.results if r.item == "tourism")
        assert tourism.input_ids == sorted(
            [new_row.id, *[r.id for r in gep_inputs.current(s, year=2025) if r.code == "tourist_spending"]]
        )
        # only the source reference changed: still a new input version, so a new report
        gep_inputs.record(
            s,
            actor=ACCOUNTANT,
            year=2025,
            code="tourists",
            value=120.0,
            source=InputSource.STATISTIC,
            source_ref="统计年鉴 2026 表 12-1",
        )
        third, created = gep.run(s, actor=ACCOUNTANT, year=2025)
        assert created and third.version == 3 and third.gep == pytest.approx(second.gep)


def test_a_changed_parameter_version_makes_a_new_version(db, params_dir: Path) -> None:
    raw = json.loads((params_dir / "gep_parameters_v1.json").read_text())
    raw["version"] = "v2"
    raw["parameters"]["price_reservoir"]["value"] = 8.0
    (params_dir / "gep_parameters_v2.json").write_text(json.dumps(raw, ensure_ascii=False))
    assert gep_parameters.versions() == ["v1", "v2"] and gep_parameters.latest_version() == "v2"
    with db.unit_of_work() as s:
        enter(s)
        v1, _ = gep.run(s, actor=ACCOUNTANT, year=2025, parameter_version="v1")
        v2, created = gep.run(s, actor=ACCOUNTANT, year=2025, parameter_version="v2")
        assert created and v2.version == 2 and v2.parameter_version == "v2" and v2.gep > v1.gep
        water = next(r for r in v2.results if r.item == "water_conservation")
        assert water.parameters["price_reservoir"]["value"] == 8.0
        assert water.parameters["price_reservoir"]["version"] == "v2"
        same, created = gep.run(s, actor=ACCOUNTANT, year=2025)  # the newest set is v2: unchanged
        assert not created and same.id == v2.id
        back, created = gep.run(s, actor=ACCOUNTANT, year=2025, parameter_version="v1")
        assert created and back.version == 3 and back.gep == pytest.approx(v1.gep)


def test_an_edited_parameter_file_is_a_change_too(db, params_dir: Path) -> None:
    with db.unit_of_work() as s:
        enter(s)
        first, _ = gep.run(s, actor=ACCOUNTANT, year=2025)
        path = params_dir / "gep_parameters_v1.json"
        raw = json.loads(path.read_text())
        raw["parameters"]["price_oxygen"]["value"] = 500
        path.write_text(json.dumps(raw, ensure_ascii=False))
        second, created = gep.run(s, actor=ACCOUNTANT, year=2025)
        assert created and second.parameter_hash != first.parameter_hash and second.gep < first.gep


def test_gep_to_gdp_shares_and_change_on_the_previous_year(db) -> None:
    with db.unit_of_work() as s:
        enter(s, year=2024, figures=[f for f in SMALL if f[0] != "tourists"] + [("tourists", "", 50.0)])
        enter(s, year=2025)
        before, _ = gep.run(s, actor=ACCOUNTANT, year=2024)
        now, _ = gep.run(s, actor=ACCOUNTANT, year=2025)
        data = gep.summary(s, run=now)
        assert data["gdp"] == 1_000_000_000.0
        assert data["gep_to_gdp"] == pytest.approx(now.gep / 1e9, abs=1e-4)
        assert sum(data["shares"].values()) == pytest.approx(100.0, abs=0.01)
        assert data["totals"]["gep"] == pytest.approx(now.material + now.regulating + now.cultural)
        assert data["previous"]["id"] == before.id
        assert data["change"]["absolute"] == pytest.approx(now.gep - before.gep, abs=0.01)
        assert data["change"]["percent"] == pytest.approx((now.gep - before.gep) / before.gep * 100, abs=0.01)
        # the price index of 2024 and 2025 is the same (132.3): only tourism changed, by 50 万 visits × 800 元
        assert data["change"]["absolute"] == pytest.approx(50 * 10_000 * 800)
        first = gep.summary(s, run=before)
        assert first["previous"] is None and first["change"] == {"absolute": None, "percent": None}


def test_missing_inputs_are_said_and_count_zero(db) -> None:
    with db.unit_of_work() as s:
        enter(s, figures=[f for f in SMALL if f[0] not in ("npp", "gdp")])
        run, _ = gep.run(s, actor=ACCOUNTANT, year=2025)
        assert not run.complete and run.gdp is None
        carbon = next(r for r in run.results if r.item == "carbon_sequestration")
        assert carbon.status == ResultStatus.MISSING and carbon.value == 0.0 and "npp:broadleaf" in (carbon.note or "")
        sand = next(r for r in run.results if r.item == "sand_fixation")
        assert sand.status == ResultStatus.OFF
        assert gep.summary(s, run=run)["gep_to_gdp"] is None


def test_refusals(db) -> None:
    with db.unit_of_work() as s:
        with pytest.raises(ValidationFailed):
            gep_inputs.record(
                s, actor=ACCOUNTANT, year=2025, code="area", value=1.0, source=InputSource.STATISTIC, source_ref="x"
            )
        with pytest.raises(ValidationFailed):
            gep_inputs.record(
                s,
                actor=ACCOUNTANT,
                year=2025,
                code="gdp",
                class_code="paddy",
                value=1.0,
                source=InputSource.STATISTIC,
                source_ref="x",
            )
        with pytest.raises(NotFound):
            gep.run(s, actor=ACCOUNTANT, year=2025, parameter_version="v99")
        with pytest.raises(ValidationFailed):  # no price index for 1999
            gep.run(s, actor=ACCOUNTANT, year=1999)
        with pytest.raises(NotFound):
            gep.get(s, run_id=123456)
        assert s.query(GepInput).count() == 0
