"""``countyos eco …``: ecosystem accounts from the command line."""

from __future__ import annotations

import typer

from countyos.eco import commands_assets, commands_gep

NAME = "eco"
app = typer.Typer(help="Ecology: ESV and GEP accounts", no_args_is_help=True)
commands_assets.register(app)
commands_gep.register(app)
