"""Stylesheets inlined into light pages, allowed by their hash in the Content-Security-Policy.

A page for a phone on a slow link (the residents' portal) is drawn only once its stylesheet has
arrived; a linked stylesheet costs a second round trip before anything shows (about 0.4 s on slow
3G). Inlining the small stylesheet of such pages removes it. The policy keeps ``style-src 'self'``
and adds the SHA-256 of each inlined file as read here, so nothing else inline is allowed.
"""

from __future__ import annotations

import base64
import hashlib
from functools import cache
from pathlib import Path

from markupsafe import Markup

CSS_DIR = Path(__file__).resolve().parent / "static" / "css"
INLINE_STYLES = ("portal.css",)  # small (a few KB), used by light pages only


@cache
def _text(name: str) -> str:
    if name not in INLINE_STYLES:
        raise KeyError(f"{name} is not an inlined stylesheet (web/inline.py INLINE_STYLES)")
    return (CSS_DIR / name).read_text(encoding="utf-8")


def style(name: str) -> Markup:
    """``<style>…</style>`` with the stylesheet NAME (templates: ``{{ inline_style("portal.css") }}``)."""
    return Markup(f"<style>{_text(name)}</style>")


def csp_hashes() -> str:
    """The policy's sources for the inlined stylesheets: ``'sha256-…'`` each."""
    out = []
    for name in INLINE_STYLES:
        digest = hashlib.sha256(_text(name).encode("utf-8")).digest()
        out.append(f"'sha256-{base64.b64encode(digest).decode()}'")
    return " ".join(out)
