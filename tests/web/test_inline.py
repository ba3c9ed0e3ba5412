"""An inlined stylesheet is allowed by its hash, and nothing else inline is."""

from __future__ import annotations

import base64
import hashlib
import re

from countyos.web import inline


def test_the_portal_style_is_inline_and_its_hash_is_in_the_policy(client):
    r = client.get("/portal")
    styles = re.findall(r"<style>(.*?)</style>", r.text, re.S)
    assert len(styles) == 1 and "pt-top" in styles[0]
    digest = base64.b64encode(hashlib.sha256(styles[0].encode()).digest()).decode()
    policy = r.headers["content-security-policy"]
    style_src = re.search(r"style-src ([^;]*)", policy).group(1).split()
    assert style_src == ["'self'", f"'sha256-{digest}'"]
    assert "unsafe-inline" not in policy
    assert 'rel="stylesheet" href="/static/css/portal.css' not in r.text


def test_only_listed_stylesheets_can_be_inlined():
    import pytest

    with pytest.raises(KeyError):
        inline.style("countyos.css")
