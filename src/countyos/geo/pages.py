"""HTML pages of the geo domain: the county map."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from countyos.core.i18n import N_
from countyos.core.settings import get_settings
from countyos.geo import flows
from countyos.geo.models import STATUS_ZH, AreaClass
from countyos.geo.service import packaged
from countyos.web.deps import Auth, ReadSession, require
from countyos.web.middleware import CSP
from countyos.web.nav import NavItem
from countyos.web.templating import templates

router = APIRouter(include_in_schema=False)

SECTION = N_("Spatial data")
NAV = [NavItem(SECTION, N_("County map"), "/geo/map", "geo.read", "🗺", 300)]

# Classes drawn as the components layer's legend (the demo's common classes come first).
LEGEND = ["01001", "01002", "01003", "01037", "01013", "03001", "03005", "04001"]
AREA_CLASS_LABELS = {AreaClass.A: N_("A core area"), AreaClass.B: N_("B general area"), AreaClass.C: N_("C outer area")}


def _csp_with_tiles(tile_url: str | None) -> dict[str, str]:
    """The page's Content-Security-Policy, widened to the tile server's origin when one is set."""
    if not tile_url:
        return {}
    parts = urlsplit(tile_url.replace("{", "").replace("}", ""))
    origin = f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") and parts.netloc else ""
    if not origin:
        return {}
    csp = CSP.replace("img-src 'self' data: blob:", f"img-src 'self' data: blob: {origin}")
    csp = csp.replace("connect-src 'self'", f"connect-src 'self' {origin}")
    return {"Content-Security-Policy": csp}


@router.get("/geo/map")
def map_page(request: Request, session: ReadSession, a: Annotated[Auth, Depends(require("geo.read"))]) -> Response:
    settings = get_settings()
    classes = packaged.component_classes()
    legend = [(code, classes[code].name) for code in LEGEND if code in classes]
    return templates(request).render(
        request,
        "geo/map.html",
        {
            "summary": flows.summary(session),
            "tile_url": settings.map_tile_url or "",
            "tile_attribution": settings.map_tile_attribution,
            "legend": legend,
            "statuses": STATUS_ZH,
            "area_classes": AREA_CLASS_LABELS,
        },
        headers=_csp_with_tiles(settings.map_tile_url),
    )
