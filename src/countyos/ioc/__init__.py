"""ioc: the county operations view (城市运行 IOC) — indicators, drill-down, live feed, reports, usage."""
