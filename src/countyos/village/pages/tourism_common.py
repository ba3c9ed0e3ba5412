"""What the tourism pages share: the navigation group, the permission aliases and the label dicts every
template of the part reads."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from starlette.responses import Response

from countyos.core.i18n import N_
from countyos.village.permissions import TOURISM_MANAGE, TOURISM_READ
from countyos.village.service import tourism
from countyos.web.deps import Auth, require
from countyos.web.templating import templates

TOURISM = N_("Culture and tourism")  # the navigation group of the tourism pages
Reader = Annotated[Auth, Depends(require(TOURISM_READ))]
Keeper = Annotated[Auth, Depends(require(TOURISM_MANAGE))]


def render(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    return templates(request).render(
        request,
        name,
        {
            "a_level_names": tourism.A_LEVEL_NAMES,
            "crowding_names": tourism.CROWDING_NAMES,
            "crowding_colour": tourism.crowding_colour,
            "stay_kind_names": tourism.STAY_KIND_NAMES,
            "event_kind_names": tourism.EVENT_KIND_NAMES,
            "heritage_level_names": tourism.HERITAGE_LEVEL_NAMES,
            **context,
        },
        status_code=status,
    )
