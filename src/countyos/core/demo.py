"""What the demonstration county's loaders share (each domain's ``demo.load(session, ctx)``).

It lives in core so that every domain's demo can use it without importing another domain's demo.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field

DEMO_PASSWORD = "Demo@2026county"


@dataclass
class DemoContext:
    """What the demo loaders share and what ``countyos demo`` prints at the end."""

    county_code: str = "331123"
    accounts: list[tuple[str, str, str]] = field(default_factory=list)  # (username, password, note)
    notes: list[str] = field(default_factory=list)
    department_ids: dict[str, int] = field(default_factory=dict)
    user_ids: dict[str, int] = field(default_factory=dict)
    public_url: str = "http://127.0.0.1:8000"  # where the demo is served (``--host``/``--port``)
    database_url: str = ""  # the demo's database (an absolute SQLite path)

    def command(self, args: str) -> str:
        """A ``countyos`` command line that works as printed, in any shell and folder: it names the
        demo database itself (``countyos --database URL …``)."""
        if not self.database_url:
            return f"countyos {args}"
        return f"countyos --database {shlex.quote(self.database_url)} {args}"
