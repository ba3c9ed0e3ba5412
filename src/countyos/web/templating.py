"""Jinja2 templates shared by every domain, rendered in the caller's locale.

Each domain keeps its templates in ``<domain>/templates/<domain>/``; the web shell's own are in
``web/templates``. Strings are marked with ``_()`` and translated through the catalogs.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote

from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape
from starlette.responses import HTMLResponse, RedirectResponse

from countyos import __version__
from countyos.core import i18n
from countyos.core.clock import to_local
from countyos.core.settings import get_settings
from countyos.org.models import SessionStage
from countyos.web import inline
from countyos.web.nav import NavItem

if TYPE_CHECKING:
    from countyos.web.deps import Auth

_PKG = Path(__file__).resolve().parent.parent
FLASH_COOKIE = "countyos_flash"


def redirect(url: str, flash: str | None = None, kind: str = "ok") -> RedirectResponse:
    """Post/redirect/get, with a one-time message shown on the next page."""
    response = RedirectResponse(url, status_code=303)
    if flash:
        response.set_cookie(FLASH_COOKIE, quote(f"{kind}:{flash}"), max_age=60, httponly=True, samesite="lax")
    return response


def _fmt_dt(value: datetime | str | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """An aware time (or its ISO text, as GeoJSON properties carry it) in the county's time zone."""
    if not value:
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return to_local(value, get_settings().timezone).strftime(fmt)


def _as_text(message: str) -> Markup:
    """``_()`` in templates: translations are text, never markup. Jinja would mark what gettext returns
    as safe HTML — and a value that is not in the catalog (a category name passed to ``_()``) comes
    back unchanged, so a stored ``<script>`` would be rendered as markup."""
    return escape(i18n.gettext(message))


def _as_text_n(singular: str, plural: str, n: int) -> Markup:
    return escape(i18n.ngettext(singular, plural, n))


# The words MapLibre draws itself (button titles, the map's accessible name), in the reader's language.
MAP_WORDS = {
    "Map.Title": i18n.N_("Map"),
    "NavigationControl.ZoomIn": i18n.N_("Zoom in"),
    "NavigationControl.ZoomOut": i18n.N_("Zoom out"),
    "NavigationControl.ResetBearing": i18n.N_("Reset bearing to north"),
    "FullscreenControl.Enter": i18n.N_("Enter fullscreen"),
    "FullscreenControl.Exit": i18n.N_("Exit fullscreen"),
    "GeolocateControl.FindMyLocation": i18n.N_("Find my location"),
    "AttributionControl.ToggleAttribution": i18n.N_("Toggle attribution"),
    "Marker.Title": i18n.N_("Map marker"),
    "Popup.Close": i18n.N_("Close popup"),
}


def _map_locale() -> str:
    """``locale`` for ``new maplibregl.Map`` as JSON (put it in a data attribute of the map element)."""
    return json.dumps({k: i18n.gettext(v) for k, v in MAP_WORDS.items()}, ensure_ascii=False)


def build_environment(domains: list[str]) -> Environment:
    dirs = [str(_PKG / "web" / "templates")] + [
        str(_PKG / d / "templates") for d in domains if (_PKG / d / "templates").is_dir()
    ]
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(d) for d in dirs]),
        autoescape=select_autoescape(["html", "xml"], default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(_as_text, _as_text_n, newstyle=True)  # type: ignore[attr-defined]
    env.filters["dt"] = _fmt_dt
    env.policies["json.dumps_kwargs"] = {"ensure_ascii": False, "sort_keys": True}
    env.globals["version"] = __version__
    env.globals["map_locale"] = _map_locale
    env.globals["inline_style"] = inline.style
    return env


def _modules_off(request: Request) -> frozenset[str]:
    off = getattr(request.app.state, "modules_off", None)
    return off() if off is not None else frozenset()


class Templates:
    def __init__(self, domains: list[str], nav: list[NavItem]) -> None:
        self.env = build_environment(domains)
        self.jinja = Jinja2Templates(env=self.env)
        self.nav = sorted(nav, key=lambda n: (n.order, n.url))

    def nav_for(
        self, permissions: frozenset[str], off: frozenset[str] = frozenset()
    ) -> list[tuple[str, list[NavItem]]]:
        """The menu of a person with these permissions, without the modules that are off."""
        sections: dict[str, list[NavItem]] = {}
        shown: set[str] = set()
        for item in self.nav:  # a page offered to several permissions is listed once
            if item.module in off:
                continue
            if (item.permission is None or item.permission in permissions) and item.url not in shown:
                shown.add(item.url)
                sections.setdefault(item.section, []).append(item)
        return list(sections.items())

    def render(
        self,
        request: Request,
        name: str,
        context: dict[str, Any] | None = None,
        status_code: int = 200,
        headers: dict[str, str] | None = None,
    ) -> HTMLResponse:
        auth: Auth | None = getattr(request.state, "auth", None)
        locale = getattr(request.state, "locale", i18n.DEFAULT_LOCALE)
        signed_in = auth is not None and auth.stage == SessionStage.FULL
        off = _modules_off(request)
        permissions = auth.actor.permissions if auth is not None and signed_in else frozenset()
        ctx: dict[str, Any] = {
            "auth": auth,
            "user": auth.user if auth is not None and signed_in else None,
            "csrf_token": auth.csrf_token if auth else getattr(request.state, "anon_csrf", ""),
            "nav": self.nav_for(permissions, off) if signed_in else [],
            "module_on": lambda code: code not in off,  # links into a module switched off are left out
            "locale": locale,
            "county_name": get_settings().county_name,
            "path": request.url.path,
            "can": lambda p: p in permissions,
        }
        flash = request.cookies.get(FLASH_COOKIE)
        if flash and "flash" not in (context or {}):
            kind, _, text = unquote(flash).partition(":")
            ctx["flash"] = {"kind": kind, "text": text}
        ctx.update(context or {})
        with i18n.use_locale(locale):
            response = self.jinja.TemplateResponse(request, name, ctx, status_code=status_code, headers=headers)
        if flash:
            response.delete_cookie(FLASH_COOKIE)
        return response


def templates(request: Request) -> Templates:
    t: Templates = request.app.state.templates
    return t


def translate(request: Request, message: str, **params: Any) -> str:
    """A message in the caller's locale, for flashes and form errors built in route code."""
    with i18n.use_locale(getattr(request.state, "locale", i18n.DEFAULT_LOCALE)):
        return i18n.gettext(message, **params)
