"""Every page every built-in role can reach, in zh-CN and in English, read as a person sees it.

The walk itself is ``tests/browser/walk.py`` (shared with ``test_pages_render.py``, run once per
session): the pages come from the application's own GET routes (path parameters filled from the
demo county) plus every same-site link found on the pages walked, so a new screen is walked as soon
as it has a route. On each page the text a person sees is read in the browser, and the walk fails
listing page and text for any of: a message id left in English in the Chinese interface, an enum
value, a snake_case or dotted code, raw JSON, an object repr, ``None``/``null``/``undefined``, an
ISO/UTC timestamp, or a translated Chinese message in the English interface.
"""

from __future__ import annotations

import pytest

from tests.browser.conftest import Browsing, Server
from tests.browser.walk import NOT_WALKED, Pattern, Walk, raw_codes, walk_every_page

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def walked(browsing_session: Browsing, server: Server) -> tuple[Walk, list[Pattern]]:
    return walk_every_page(browsing_session, server)


def test_every_page_reads_as_words_in_both_languages(walked: tuple[Walk, list[Pattern]]) -> None:
    walk, _routes = walked
    assert walk.pages >= 100, walk.pages
    assert walk.findings == [], f"{len(walk.findings)} texts nobody should read:\n" + "\n".join(walk.findings)


def test_the_walk_reaches_every_page_route(walked: tuple[Walk, list[Pattern]]) -> None:
    walk, routes = walked
    missing = [p.path for p in routes if p.path not in walk.seen and not p.path.startswith(NOT_WALKED)]
    assert missing == [], "page routes no role reached (fill their path parameters in PARAMETERS):\n" + "\n".join(
        missing
    )


def test_raw_codes_are_found() -> None:
    """The checks themselves: each kind of raw text is caught, people's words are not."""
    assert raw_codes(["<built-in method clear of dict object at 0x7f3a2c>"], "zh_CN") == [
        "object repr: '<built-in method clear of dict object at 0x7f3a2c>'"
    ]
    assert raw_codes(['{"gt": 3}'], "en") == ["raw JSON: '{\"gt\": 3}'"]
    assert raw_codes(["2026-12-02T06:05:00Z"], "en") == ["ISO/UTC timestamp: '2026-12-02T06:05:00Z'"]
    assert raw_codes(["None"], "zh_CN") == ["empty value shown as a word: 'None'"]
    assert raw_codes(["step_limit_kind"], "zh_CN") == ["snake_case code: 'step_limit_kind'"]
    assert raw_codes(["auth.login"], "en") == ["dotted code: 'auth.login'"]
    assert raw_codes(["To dispatch"], "zh_CN") == ["English in the Chinese interface: 'To dispatch'"]
    assert raw_codes(["manhole"], "en") == ["enum value or code: 'manhole'"]
    assert raw_codes(["派遣员 陈芳", "2026-12-02 14:05", "12月2日 14:05", "CountyOS", "PM2.5"], "zh_CN") == []
    assert raw_codes(["Log out", "Case 20261202-0001"], "en") == []
    assert raw_codes(["退出"], "en") == ["Chinese message in the English interface: '退出'"]
    assert raw_codes(["Map", "user"], "zh_CN") == [
        "English in the Chinese interface: 'Map'",
        "English in the Chinese interface: 'user'",
    ]
    assert raw_codes(["None."], "en") == []  # the English word, where nothing is listed
    assert raw_codes(["路灯"], "en", names=frozenset({"路灯"})) == []  # a category's name is data
