"""The safety domain's tables, one module per part; importing this package registers them all."""

from countyos.safety.models import cameras, events, inspections, plans, reports, resources, traffic  # noqa: F401
