"""The access log keeps the method, the path and the status, never the query string."""

from __future__ import annotations

import logging

from countyos.web.accesslog import NoQueryStrings, install


def test_the_query_string_is_dropped_from_access_log_lines():
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("10.0.0.5:51234", "GET", "/portal/facilities?lon=119.27&lat=28.59", "1.1", 200), None,
    )  # fmt: skip
    assert NoQueryStrings().filter(record)
    line = record.getMessage()
    assert "/portal/facilities" in line and "119.27" not in line and "lat=" not in line and " 200" in line


def test_the_filter_is_installed_once_by_the_app(app):
    install()
    filters = [f for f in logging.getLogger("uvicorn.access").filters if isinstance(f, NoQueryStrings)]
    assert len(filters) == 1
