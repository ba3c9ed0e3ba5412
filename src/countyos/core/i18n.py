"""Translations: English message ids, Simplified Chinese by default, English switchable per user.

Catalogs are the ``.po`` files under ``countyos/locales``; they are compiled in memory at start-up,
so the repository holds no generated ``.mo`` files. The active locale lives in a context variable
set per request (or per CLI command).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LOCALES = ("zh_CN", "en")
DEFAULT_LOCALE = "zh_CN"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locales"

_current: ContextVar[str] = ContextVar("countyos_locale", default=DEFAULT_LOCALE)


@lru_cache(maxsize=len(LOCALES))
def translations(locale: str) -> NullTranslations:
    po_path = LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"
    if not po_path.is_file():
        return NullTranslations()
    with po_path.open("rb") as fp:
        catalog = read_po(fp, locale=locale)
    buf = io.BytesIO()
    write_mo(buf, catalog, use_fuzzy=False)
    buf.seek(0)
    return Translations(buf)


def normalize_locale(value: str | None) -> str:
    if not value:
        return DEFAULT_LOCALE
    v = value.replace("-", "_").lower()
    if v.startswith("en"):
        return "en"
    if v.startswith("zh"):
        return "zh_CN"
    return DEFAULT_LOCALE


def get_locale() -> str:
    return _current.get()


def set_locale(locale: str) -> None:
    _current.set(normalize_locale(locale))


@contextmanager
def use_locale(locale: str) -> Iterator[None]:
    token = _current.set(normalize_locale(locale))
    try:
        yield
    finally:
        _current.reset(token)


class MessageId(str):
    """A message id given as a parameter of another message (a module's name inside a refusal): worded in the
    reader's language when the sentence is, by :func:`gettext`."""

    __slots__ = ()


def gettext(message: str, **params: Any) -> str:
    catalog = translations(get_locale())
    text = catalog.gettext(message)
    if not params:
        return text
    return text % {k: catalog.gettext(v) if isinstance(v, MessageId) else v for k, v in params.items()}


def county_gettext(message: str, **params: Any) -> str:
    """MESSAGE in the county's language (``settings.default_locale``), whoever asks: for texts written once
    and read by everyone — timeline lines, notification titles, reasons stored on records."""
    from countyos.core.settings import get_settings

    with use_locale(get_settings().default_locale):
        return gettext(message, **params)


def ngettext(singular: str, plural: str, n: int, **params: Any) -> str:
    text = translations(get_locale()).ngettext(singular, plural, n)
    params.setdefault("num", n)
    return text % params


_ = gettext


def N_(message: str) -> str:
    """Mark a string for extraction without translating it now (translated when shown)."""
    return message


class LazyText:
    """A message translated when it is shown (``str()``), for values put into other messages."""

    def __init__(self, message: str, **params: Any) -> None:
        self.message = message
        self.params = params

    def __str__(self) -> str:
        return gettext(self.message, **self.params)

    def __repr__(self) -> str:
        return f"LazyText({self.message!r})"


class LazyList:
    """Several lazy messages joined when shown."""

    def __init__(self, items: list[LazyText], sep: str = "; ") -> None:
        self.items = items
        self.sep = sep

    def __str__(self) -> str:
        return self.sep.join(str(i) for i in self.items)
