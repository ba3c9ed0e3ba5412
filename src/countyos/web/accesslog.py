"""The server's access log without query strings.

A query string can carry what must not be kept: a resident's position (``?lon=&lat=`` of "nearest to
me"), a phone number in a link a clerk follows, a search for a person's name. The access log keeps the
method, the path and the status; the query is dropped before the line is written.
"""

from __future__ import annotations

import logging


class NoQueryStrings(logging.Filter):
    """For uvicorn's access log records: ``(client, method, path?query, http version, status)``."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str) and "?" in args[2]:
            record.args = (*args[:2], args[2].split("?", 1)[0], *args[3:])
        return True


def install() -> None:
    """Add the filter to uvicorn's access logger once (every server process calls it at start)."""
    logger = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, NoQueryStrings) for f in logger.filters):
        logger.addFilter(NoQueryStrings())
