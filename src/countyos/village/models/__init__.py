"""The village domain's tables, one module per part; importing this package registers them all."""

from countyos.village.models import certs, farming, market, producers, tourism  # noqa: F401
