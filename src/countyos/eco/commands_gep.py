"""``countyos eco gep --year Y [--parameters vN] [--json]``: run a year's GEP accounts and print the report
(the latest report when its inputs and parameters are unchanged, else a new version)."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from countyos.core import migrate
from countyos.core.actor import Actor
from countyos.core.db import Database
from countyos.core.errors import CountyError
from countyos.core.settings import get_settings
from countyos.eco.permissions import ACCOUNTS_MANAGE, ACCOUNTS_READ
from countyos.eco.service import gep, gep_inputs
from countyos.eco.service.gep_formulas import CATEGORY_LABELS, ITEMS

# The server's operator acts for the accountant (the audit log names the command line).
ACTOR = Actor(id=None, name="cli", permissions=frozenset({ACCOUNTS_READ, ACCOUNTS_MANAGE}))
LABELS = {i.code: i.label for i in ITEMS}


def _database() -> Database:
    url = get_settings().database_url
    if migrate.current(url) is None:
        typer.secho("The database has no schema yet; run `countyos init` first.", fg="red", err=True)
        raise typer.Exit(2)
    return Database(url)


def _plain(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def gep_command(
    year: Annotated[int, typer.Option(min=1990, max=2100, help="the accounting year")],
    parameters: Annotated[str | None, typer.Option(help="the parameter set version (the newest by default)")] = None,
    areas_from_layer: Annotated[
        bool, typer.Option(help="first record the land-use layer's areas by class as the year's area inputs")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
) -> None:
    """Run the year's GEP accounts and print the report."""
    db = _database()
    try:
        with db.unit_of_work() as s:
            if areas_from_layer and gep_inputs.areas_from_layer(s, actor=ACTOR, year=year) is None:
                typer.secho("No land-use layer: the entered areas are used.", fg="yellow", err=True)
            run, created = gep.run(s, actor=ACTOR, year=year, parameter_version=parameters)
            data = gep.summary(s, run=run)
    except CountyError as exc:
        typer.secho(exc.message, fg="red", err=True)
        raise typer.Exit(2) from exc
    finally:
        db.dispose()
    data["created"] = created
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=_plain))
        return
    typer.echo(
        f"GEP {data['year']} v{data['version']} ({'new' if created else 'unchanged'}), "
        f"parameters {data['parameter_version']}{'' if data['complete'] else ', inputs missing'}"
    )
    for i in data["items"]:
        typer.echo(
            f"  {LABELS[i['item']]:<45} {i['status']:<9} {i['quantity']:>16,.2f} {i['unit']:<8} "
            f"{i['value'] / 1e8:>12,.4f} 亿元"
        )
    for key, label in CATEGORY_LABELS.items():
        typer.echo(f"{label:<47} {data['totals'][str(key)] / 1e8:>39,.4f} 亿元  {data['shares'][str(key)]:.1f}%")
    typer.echo(f"{'GEP':<47} {data['totals']['gep'] / 1e8:>39,.4f} 亿元")
    if data["gep_to_gdp"] is not None:
        typer.echo(f"GEP/GDP {data['gep_to_gdp']:.2f}")
    if data["change"]["percent"] is not None:
        change = data["change"]
        typer.echo(f"Change on {data['year'] - 1}: {change['absolute'] / 1e8:,.2f} 亿元 ({change['percent']:.2f}%)")


def register(app: typer.Typer) -> None:
    """Add this part's commands to ``countyos eco``."""
    app.command("gep")(gep_command)
