"""The programme domain's tables, one module per part; importing this package registers them all."""

from countyos.programme.models import index, kpis, modules, partners, projects  # noqa: F401
