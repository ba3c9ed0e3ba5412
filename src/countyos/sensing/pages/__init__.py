"""HTML pages of the sensing domain, the mount point of the SensorThings API (``/sta/v1.1`` is a
standard path outside ``/api/v1``; pages are the routers mounted at the root), and the start of the
MQTT bridge with the application (when ``mqtt_url`` is set and this process runs the jobs)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from countyos.core.i18n import N_
from countyos.sensing import bridge
from countyos.sensing.api import sta
from countyos.sensing.pages import alarm_case, devices
from countyos.web.nav import NavItem


class BridgeCollector(Collector):
    """``countyos_mqtt_*`` metrics read from the running bridge at scrape time."""

    def __init__(self, b: bridge.Bridge) -> None:
        self.b = b

    def collect(self) -> Iterator[Any]:
        s = self.b.stats
        yield GaugeMetricFamily(
            "countyos_mqtt_connected", "1 while the MQTT broker is connected", value=int(s.connected)
        )
        for name, value, text in (
            ("received", s.received, "MQTT messages received"),
            ("stored", s.stored, "observations stored from MQTT"),
            ("duplicates", s.duplicates, "repeated MQTT observations ignored"),
            ("refused", s.refused, "MQTT items refused"),
        ):
            yield CounterMetricFamily(f"countyos_mqtt_{name}", text, value=value)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings = app.state.settings
    started = False
    if settings.mqtt_url and settings.run_jobs:
        b = bridge.ensure_running(app.state.db, settings.mqtt_url, public_url=settings.public_url)
        started = True
        probes = getattr(app.state, "health_probes", None)
        if probes is None:
            probes = app.state.health_probes = {}
        probes["mqtt"] = b.health
        metrics = getattr(app.state, "metrics", None)
        if metrics is not None:
            metrics.registry.register(BridgeCollector(b))
    try:
        yield
    finally:
        if started:
            bridge.stop_running()


router = APIRouter(lifespan=lifespan)
router.include_router(alarm_case.router)  # before devices' /sensing/alarms/{id}/{action}
router.include_router(devices.router)

# The SensorThings API: its own prefix, read and written by machines at high rates.
EARLY_ROUTERS = [sta.router]
LANES = [sta.ReadLane]

SENSING = N_("Sensing")
NAV = [
    NavItem(SENSING, N_("Devices and map"), "/sensing", "sensing.read", order=200),
    NavItem(SENSING, N_("Alarm console"), "/sensing/alarms", "sensing.read", order=201),
    NavItem(SENSING, N_("Alarm rules"), "/sensing/rules", "sensing.read", order=202),
]
