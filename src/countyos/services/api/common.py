"""What every JSON API module of the services domain shares: the prefix, guards, ids and paging."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Query

from countyos.core.paging import MAX_LIMIT, PageParams
from countyos.services import schemas
from countyos.web.deps import Auth, authenticated, public, require

MANAGE = "services.catalogue.manage"
Manager = Annotated[Auth, Depends(require(MANAGE))]
Anyone = Annotated[Auth | None, Depends(public)]
PathId = Annotated[int, Path(ge=1, le=schemas.MAX_ID)]


def page_params(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50, offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0
) -> PageParams:
    return PageParams(limit=limit, offset=offset)


Page = Annotated[PageParams, Depends(page_params)]


def can_manage(a: Auth | None) -> bool:
    return a is not None and a.actor.can(MANAGE)


Person = Annotated[Auth, Depends(authenticated)]
