"""Property-based fuzzing of the public Open311 GeoReport v2 endpoints (no login, hostile callers).

Whatever the parameters, the answer is a well-formed document in the requested format (XML that
parses, or JSON), a success or the spec's error (400, 403, 404) — never a server error. A refused
POST creates no case and no reporter; the only thing it may leave is an audit record.
"""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from countyos.cases.models import Case, Reporter

BASE = "/open311/v2"
EXAMPLES = {"ci": 60, "full": 300, "long": 2000}.get(os.environ.get("COUNTYOS_SCALE", "ci"), 60)
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Strings a hostile caller would try, mixed with arbitrary text.
NASTY = st.sampled_from(
    [
        "",
        " ",
        "'",
        "' OR '1'='1",
        "1; DROP TABLE cases_case; --",
        "%",
        "_",
        "\\",
        "\x00",
        "NaN",
        "inf",
        "-inf",
        "1e309",
        "9" * 40,
        "-0",
        "<script>alert(1)</script>",
        "]]>",
        "&amp;",
        "2026-13-45T99:99:99Z",
        "2026-01-01T00:00:00",
        "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59+14:00",
        "open,closed",
        "C01001,M06010," * 50,
        "𠀀" * 10,
        "\u202e",
    ]
)
TEXT = st.one_of(NASTY, st.text(max_size=60))
NUMBERISH = st.one_of(
    NASTY,
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.floats(min_value=27, max_value=30).map(str),
    st.floats(min_value=118, max_value=120).map(str),
)
FMT = st.sampled_from(["json", "xml"])


def parsed(r, fmt: str):
    """The body in the requested format (fails the test if it is not well-formed)."""
    if fmt == "json":
        assert r.headers["content-type"].startswith("application/json"), r.headers["content-type"]
        return json.loads(r.text)
    assert r.headers["content-type"].startswith("text/xml"), r.headers["content-type"]
    return ET.fromstring(r.content)


def counts(db) -> tuple[int, int]:
    with db.reading() as s:
        return (
            int(s.scalar(select(func.count()).select_from(Case)) or 0),
            int(s.scalar(select(func.count()).select_from(Reporter)) or 0),
        )


@FUZZ
@given(
    fmt=FMT,
    params=st.dictionaries(
        st.sampled_from(
            ["service_request_id", "service_code", "start_date", "end_date", "status", "jurisdiction_id", "x"]
        ),
        TEXT,
    ),
)
def test_request_queries_never_fail_on_the_server(client, world, fmt, params):
    r = client.get(f"{BASE}/requests.{fmt}", params=params)
    assert r.status_code in (200, 400, 404), (params, r.status_code, r.text[:300])
    body = parsed(r, fmt)
    if r.status_code == 200 and fmt == "json":
        assert isinstance(body, list)


@FUZZ
@given(fmt=FMT, code=TEXT, kind=st.sampled_from(["services", "requests", "tokens"]))
def test_path_parameters_never_fail_on_the_server(client, world, fmt, code, kind):
    from urllib.parse import quote

    r = client.get(f"{BASE}/{kind}/{quote(code, safe='')}.{fmt}")
    # 404 for what does not exist; a path that does not route at all is a problem+json 404 too
    assert r.status_code in (200, 400, 404), (code, r.status_code, r.text[:300])
    if r.headers["content-type"].startswith(("application/json", "text/xml")):
        parsed(r, fmt)


def post_fields(world) -> st.SearchStrategy[dict[str, str]]:
    """Form fields of a POST: mostly well-aimed (the county's own points and services), with any of
    them replaced by hostile values."""
    lat, lon = str(world.point_a[1]), str(world.point_a[0])
    return st.fixed_dictionaries(
        {
            "service_code": st.one_of(st.sampled_from(["C01001", "C01001", "C01001", "M06010", "C01"]), TEXT),
            "lat": st.one_of(st.just(lat), st.just(lat), NUMBERISH),
            "long": st.one_of(st.just(lon), st.just(lon), NUMBERISH),
        },
        optional={
            "description": st.one_of(TEXT, st.just("长" * 4001)),
            "address_string": TEXT,
            "jurisdiction_id": st.one_of(st.just(""), st.just(""), st.just(""), TEXT),
            "email": TEXT,
            "phone": TEXT,
            "first_name": TEXT,
            "last_name": TEXT,
            "device_id": TEXT,
            "account_id": TEXT,
            "media_url": TEXT,
        },
    )


ATTRIBUTES = st.dictionaries(
    st.one_of(
        st.sampled_from(["attribute[AMOUNT]", "attribute[", "attribute[]", "attribute[x][]", "attribute[[]]"]),
        st.text(max_size=12).map(lambda s: f"attribute[{s}]"),
    ),
    TEXT,
    max_size=2,
)


@FUZZ
@given(fmt=FMT, data=st.data(), with_key=st.sampled_from([True, True, True, False]))
def test_posts_are_created_or_refused_cleanly(client, db, world, fmt, data, with_key):
    from countyos.web.ratelimit import SlidingWindowLimiter

    limiter = getattr(client.app.state, "public_post_limiter", None)
    if isinstance(limiter, SlidingWindowLimiter):
        limiter.reset()  # this test is about the content of posts, not their rate
    before = counts(db)
    form = {**data.draw(post_fields(world), label="fields"), **data.draw(ATTRIBUTES, label="attributes")}
    if with_key:
        form["api_key"] = world.open311_key
    r = client.post(f"{BASE}/requests.{fmt}", data=form)
    assert r.status_code in (200, 400, 403, 404), (form, r.status_code, r.text[:300])
    body = parsed(r, fmt)
    after = counts(db)
    if r.status_code == 200:
        assert with_key and after[0] in (before[0], before[0] + 1)
        rid = body[0]["service_request_id"] if fmt == "json" else body.findtext("request/service_request_id")
        listed = client.get(f"{BASE}/requests/{rid}.{fmt}")
        assert listed.status_code == 200
        parsed(listed, fmt)  # what was stored is published as a well-formed document
    else:
        assert after == before, f"a refused post left a case or a reporter behind: {form}"
