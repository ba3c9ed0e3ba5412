"""Documents rendered outside a request (PDF reports, payment tables, accounts): one Jinja environment shape.

The words come from the translation catalogs in the current locale (``core.i18n.use_locale`` around the
rendering), values are escaped, and a name missing from the context is an error rather than an empty cell.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from countyos.core import i18n


def document_env(templates: Path, **filters: Callable[..., Any]) -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(templates)),
        autoescape=select_autoescape(["html", "xml"]),
        extensions=["jinja2.ext.i18n"],
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.filters.update(filters)
    return env
