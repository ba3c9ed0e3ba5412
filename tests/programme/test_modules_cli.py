"""``countyos programme modules list|on|off`` (and ``countyos modules …``): as the browser, refused as the browser,
audited as the command line."""

from __future__ import annotations

import typer
from sqlalchemy import select
from typer.testing import CliRunner

from countyos.core.settings import reset_settings
from countyos.org.models import AuditEvent
from countyos.programme import commands
from tests.conftest import DATABASE_URL
from tests.programme.modules_helpers import row

runner = CliRunner()
root = typer.Typer()
root.add_typer(commands.app, name=commands.NAME)
for name, group in commands.GROUPS.items():
    root.add_typer(group, name=name)


def countyos(*args: str):
    reset_settings()
    try:
        return runner.invoke(root, list(args), env={"COUNTYOS_DATABASE_URL": DATABASE_URL})
    finally:
        reset_settings()


def _line(output: str, code: str) -> str:
    return next(x for x in output.splitlines() if x.startswith(code + " "))


def test_list_off_and_on(db):
    listed = countyos("programme", "modules", "list")
    assert listed.exit_code == 0, listed.output
    assert " on " in _line(listed.output, "eco") and "platform" in _line(listed.output, "cases")

    r = countyos("programme", "modules", "off", "village", "--note", "二期再开")
    assert r.exit_code == 0 and r.output.strip() == "village: off", r.output
    saved = row(db, "village")
    assert saved is not None and saved["enabled"] is False and saved["note"] == "二期再开"
    assert " off " in _line(countyos("modules", "list").output, "village")

    r = countyos("modules", "on", "village")
    assert r.exit_code == 0 and r.output.strip() == "village: on"
    with db.reading() as s:
        events = list(s.scalars(select(AuditEvent).where(AuditEvent.action == "programme.modules.switch")))
        assert [(e.actor_name, e.target_id, e.detail["on"]) for e in events] == [
            ("cli", "village", False),
            ("cli", "village", True),
        ]


def test_refusals_exit_2_with_the_reason(db):
    r = countyos("modules", "off", "sensing")
    assert r.exit_code == 2 and row(db, "sensing") is None
    assert countyos("modules", "off", "cases").exit_code == 2
    assert countyos("modules", "on", "nosuch").exit_code == 2
