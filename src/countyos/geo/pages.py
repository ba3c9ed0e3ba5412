"""HTML pages of the geo domain: the county map."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from countyos.core.i18n import N_
from countyos.geo import flows
from countyos.geo.models import STATUS_ZH, AreaClass
from countyos.geo.service import packaged
from countyos.web.deps import Auth, ReadSession, require
from countyos.web.nav import NavItem
from countyos.web.templating import templates

router = APIRouter(include_in_schema=False)

SECTION = N_("Spatial data")
NAV = [NavItem(SECTION, N_("County map"), "/geo/map", "geo.read", "🗺", 300)]

# Classes drawn as the components layer's legend (the demo's common classes come first).
LEGEND = ["01001", "01002", "01003", "01037", "01013", "03001", "03005", "04001"]
AREA_CLASS_LABELS = {AreaClass.A: N_("A core area"), AreaClass.B: N_("B general area"), AreaClass.C: N_("C outer area")}


@router.get("/geo/map")
def map_page(request: Request, session: ReadSession, a: Annotated[Auth, Depends(require("geo.read"))]) -> Response:
    classes = packaged.component_classes()
    legend = [(code, classes[code].name) for code in LEGEND if code in classes]
    return templates(request).render(
        request,
        "geo/map.html",
        {
            "summary": flows.summary(session),
            "legend": legend,
            "statuses": STATUS_ZH,
            "area_classes": AREA_CLASS_LABELS,
        },
    )
