"""``countyos eco gep --year Y [--json]``: runs the year's accounts and prints the report."""

from __future__ import annotations

import json

import typer
from typer.testing import CliRunner

from countyos.core.settings import reset_settings
from countyos.eco import commands
from tests.conftest import DATABASE_URL
from tests.eco.test_gep_support import enter

runner = CliRunner()
root = typer.Typer()
root.add_typer(commands.app, name=commands.NAME)


def eco(*args: str):
    reset_settings()
    try:
        return runner.invoke(root, ["eco", *args], env={"COUNTYOS_DATABASE_URL": DATABASE_URL})
    finally:
        reset_settings()


def test_gep_runs_and_prints_json_then_answers_the_same_version(db) -> None:
    with db.unit_of_work() as s:
        enter(s)
    r = eco("gep", "--year", "2025", "--json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert data["year"] == 2025 and data["version"] == 1 and data["created"] is True
    assert data["totals"]["gep"] > 0 and data["gep_to_gdp"] is not None
    r = eco("gep", "--year", "2025")
    assert r.exit_code == 0, r.output
    assert "GEP 2025 v1 (unchanged)" in r.output and "GEP/GDP" in r.output


def test_gep_refuses_an_unknown_parameter_set(db) -> None:
    r = eco("gep", "--year", "2025", "--parameters", "v77")
    assert r.exit_code == 2
