"""``countyos programme modules …`` (also ``countyos modules …``): the modules switched on or off from the
server's command line, as the system administrator does in the browser (``/programme/modules``).

- ``list``: every module, its state (on, off, off by configuration, platform: always on), phase and plan.
- ``on CODE [--note …]``, ``off CODE [--note …]``: switch a module; refused (exit 2) as the browser refuses
  (what it needs, what needs it, a platform module, the configuration). Audited as the command line.
"""

from __future__ import annotations

from typing import Annotated

import typer

from countyos.core import migrate
from countyos.core.actor import Actor
from countyos.core.db import Database
from countyos.core.errors import CountyError
from countyos.core.i18n import county_gettext
from countyos.core.settings import get_settings
from countyos.programme.permissions import MODULES
from countyos.programme.service import modules

NAME = "programme"
app = typer.Typer(help="Programme operation (长效运营)", no_args_is_help=True)
modules_app = typer.Typer(help="Modules by phase: list them, switch one on or off", no_args_is_help=True)
app.add_typer(modules_app, name="modules")
GROUPS = {"modules": modules_app}  # `countyos modules list` as well as `countyos programme modules list`
# The server's operator acts for the system administrator (the audit log names the command line).
ACTOR = Actor(id=None, name="cli", permissions=frozenset({MODULES}))


def _database() -> Database:
    """The configured database, or exit 2 when it has no schema yet (the caller disposes of it)."""
    url = get_settings().database_url
    if migrate.current(url) is None:
        typer.secho("The database has no schema yet; run `countyos init` first.", fg="red", err=True)
        raise typer.Exit(2)
    return Database(url)


def _state(view: modules.ModuleView) -> str:
    if view.spec.required:
        return "platform"
    if view.locked:
        return "off (configuration)"
    return "on" if view.on else "off"


@modules_app.command("list")
def list_modules() -> None:
    """Every module with its state, phase and planned date."""
    db = _database()
    try:
        with db.reading() as session:
            for v in modules.views(session):
                phase = v.phase.name if v.phase is not None else "-"
                planned = v.state.planned_on.isoformat() if v.state is not None and v.state.planned_on else "-"
                label = county_gettext(v.spec.label)
                typer.echo(f"{v.spec.code:<10} {_state(v):<20} {phase:<12} {planned:<10} {label}")
    finally:
        db.dispose()


def _switch(code: str, on: bool, note: str) -> None:
    db = _database()
    try:
        with db.unit_of_work() as session:
            modules.switch(session, actor=ACTOR, code=code, on=on, note=note)
    except CountyError as exc:
        exc.params = {k: county_gettext(v) if isinstance(v, str) else v for k, v in exc.params.items()}
        typer.secho(exc.message, fg="red", err=True)
        raise typer.Exit(2) from exc
    finally:
        db.dispose()
    typer.echo(f"{code}: {'on' if on else 'off'}")


Note = Annotated[str, typer.Option(help="Why (kept on the module and in the audit log)")]


@modules_app.command("on")
def switch_on(
    code: Annotated[str, typer.Argument(help="The module's code, as `list` shows it")], note: Note = ""
) -> None:
    """Switch a module on (the modules it needs must be on)."""
    _switch(code, True, note)


@modules_app.command("off")
def switch_off(
    code: Annotated[str, typer.Argument(help="The module's code, as `list` shows it")], note: Note = ""
) -> None:
    """Switch a module off (the modules that need it must be off); its records are kept."""
    _switch(code, False, note)
