"""The KPI catalogue: the measures a contract's KPIs are chosen from, defined ONCE on the operations view's
indicators (``ioc.service.indicators``). A KPI's value is that indicator's figure — its rate for a rate,
its count otherwise — for the period's days and the KPI's township, so it always equals the figure the
operations view shows for the same scope; nothing is computed twice.

Each entry gives the indicator it reads, its unit, a default target and a default scoring rule
(``schemas.kpis.ScoringRule``); a contract's KPI may set its own. Smaller-is-better comes from the
indicator (``Indicator.negative``). Only indicators counted over the chosen period are catalogued (not
the fixed windows "today" / "this week"). ``active_users`` is listed when the operations view has it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from countyos.core.errors import ValidationFailed
from countyos.core.i18n import N_
from countyos.ioc.service import indicators
from countyos.ioc.service.indicators import Indicator

UNITS: dict[str, str] = {"%": N_("percent"), "count": N_("records")}


@dataclass(frozen=True)
class Kpi:
    code: str
    indicator: str  # an ioc indicator code (indicators.BY_CODE)
    target: float
    scoring: dict[str, Any] = field(default_factory=dict)  # schemas.kpis.ScoringRule as data

    @property
    def ind(self) -> Indicator:
        return indicators.BY_CODE[self.indicator]

    @property
    def label(self) -> str:  # message id
        return self.ind.label

    @property
    def hint(self) -> str:  # message id
        return self.ind.hint

    @property
    def unit(self) -> str:
        return "%" if self.ind.whole else "count"

    @property
    def negative(self) -> bool:
        return self.ind.negative


_ALL: tuple[Kpi, ...] = (
    # 一网统管
    Kpi("on_time_rate", "on_time_rate", 90, {"kind": "linear", "zero_at": 60}),
    Kpi("closure_rate", "closure_rate", 95, {"kind": "steps", "steps": [[95, 100], [90, 80], [80, 60]]}),
    Kpi("satisfaction", "satisfaction", 90, {"kind": "linear", "zero_at": 70}),
    Kpi("rework_rate", "rework_rate", 5, {"kind": "linear", "zero_at": 20}),
    # 感知
    Kpi("devices_online", "devices_online", 95, {"kind": "linear", "zero_at": 80}),
    # 数据
    Kpi("data_fresh", "data_fresh_rate", 90, {"kind": "linear", "zero_at": 60}),
    # 一网通办
    Kpi("services_good_rate", "services_good_rate", 98, {"kind": "linear", "zero_at": 90}),
    Kpi("applications_on_time", "applications_on_time_rate", 98, {"kind": "target"}),
    # 安全
    Kpi("hazards_overdue", "hazards_overdue", 0, {"kind": "linear", "zero_at": 10}),
    # 生态
    Kpi("air_good_rate", "air_good_rate", 85, {"kind": "linear", "zero_at": 70}),
    # 盆景 index (the operations view's "active users", when it exists)
    Kpi("active_users", "active_users", 50, {"kind": "linear", "zero_at": 0}),
)

# Only entries whose indicator exists and is counted over the chosen period.
KPIS: tuple[Kpi, ...] = tuple(
    k for k in _ALL if k.indicator in indicators.BY_CODE and indicators.BY_CODE[k.indicator].window == "period"
)
BY_CODE: dict[str, Kpi] = {k.code: k for k in KPIS}


def get(code: str) -> Kpi:
    try:
        return BY_CODE[code]
    except KeyError:
        raise ValidationFailed.on_field("kpi", N_("Unknown KPI %(code)s"), code=code) from None
