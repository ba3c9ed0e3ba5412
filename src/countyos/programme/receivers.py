"""The programme domain acts on other domains' news: a request made with a partner's sandbox key counts
against the key's daily quota (``service.partners_quota``), refused with 429 past it."""

from __future__ import annotations

from countyos.org.service.tokens import TOKEN_USED
from countyos.programme.service import partners_quota

TOKEN_USED.connect(partners_quota.count)
