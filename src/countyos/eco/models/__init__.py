"""The ecology domain's tables, one module per part; importing this package registers them all."""

from countyos.eco.models import air, assets, gep, rivers, water  # noqa: F401
