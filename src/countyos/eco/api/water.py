"""API of the water part of the ecology domain, under /api/v1/eco (paths /water/…).

- ``POST /water/classify`` (public): GB 3838-2002 classes of the values given, the sample's class,
  超标项目 with 超标倍数 against an optional target; nothing is stored.
- ``GET /water/sections``, ``GET /water/sections/{id}/samples?start&end`` (``eco.monitor.read``).
- ``POST /water/sections``, ``PUT /water/sections/{id}``, ``POST /water/sections/{id}/samples`` (a lab
  result), ``POST /water/samples/import`` (a CSV/XLSX file, all or nothing) (``eco.monitor.manage``).

Errors are problem+json; lists and ranges are bounded.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, UploadFile

from countyos.core.clock import utcnow
from countyos.core.errors import ValidationFailed
from countyos.core.i18n import N_
from countyos.eco.models.water import SectionLevel, WaterbodyType
from countyos.eco.permissions import MONITOR_MANAGE, MONITOR_READ
from countyos.eco.schemas.water import (
    ClassifyIn,
    ClassifyOut,
    ImportOut,
    ImportRowOut,
    SampleIn,
    SampleOut,
    SectionIn,
    SectionOut,
)
from countyos.eco.service import gb3838, water, water_import
from countyos.web import forms
from countyos.web.deps import Auth, ReadSession, WriteSession, public, require

router = APIRouter(prefix="/water", tags=["eco"])
Reader = Annotated[Auth, Depends(require(MONITOR_READ))]
Keeper = Annotated[Auth, Depends(require(MONITOR_MANAGE))]
MAX_RANGE = timedelta(days=5 * 366)


@router.post("/classify", dependencies=[Depends(public)])
def classify(body: ClassifyIn) -> ClassifyOut:
    result = gb3838.classify_sample(dict(body.values), body.waterbody.value, body.target)
    return ClassifyOut.model_validate(result.as_dict())


@router.get("/sections")
def list_sections(
    session: ReadSession,
    a: Reader,
    q: Annotated[str, Query(max_length=60)] = "",
    waterbody: WaterbodyType | None = None,
    level: SectionLevel | None = None,
    meets: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=water.MAX_LIST)] = 200,
) -> list[SectionOut]:
    rows = water.list_sections(session, q=q, waterbody=waterbody, level=level, meets=meets, active=None, limit=limit)
    return [SectionOut.model_validate(s) for s in rows]


@router.post("/sections", status_code=201)
def create_section(body: SectionIn, session: WriteSession, a: Keeper) -> SectionOut:
    return SectionOut.model_validate(water.create_section(session, actor=a.actor, data=body))


@router.put("/sections/{section_id}")
def update_section(section_id: int, body: SectionIn, session: WriteSession, a: Keeper) -> SectionOut:
    return SectionOut.model_validate(water.update_section(session, actor=a.actor, section_id=section_id, data=body))


@router.get("/sections/{section_id}/samples")
def list_samples(
    section_id: int,
    session: ReadSession,
    a: Reader,
    start: datetime | None = None,
    end: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=water.MAX_SAMPLES)] = 500,
) -> list[SampleOut]:
    water.get_section(session, section_id=section_id)
    end_at = water.aware(end) if end is not None else utcnow() + timedelta(days=1)
    start_at = water.aware(start) if start is not None else end_at - timedelta(days=366)
    if start_at >= end_at or end_at - start_at > MAX_RANGE:
        raise ValidationFailed(N_("The period must start before it ends and span at most five years"))
    rows = water.samples(session, section_id=section_id, start=start_at, end=end_at, limit=limit)
    return [SampleOut.model_validate(s) for s in rows]


@router.post("/sections/{section_id}/samples", status_code=201)
def enter_sample(section_id: int, body: SampleIn, session: WriteSession, a: Keeper) -> SampleOut:
    return SampleOut.model_validate(water.enter_lab_result(session, actor=a.actor, section_id=section_id, data=body))


@router.post("/samples/import")
def import_samples(file: UploadFile, session: WriteSession, a: Keeper) -> ImportOut:
    data = forms.read_upload(file, water_import.MAX_FILE_BYTES)
    report = water_import.import_file(session, actor=a.actor, data=data, filename=file.filename or "")
    return ImportOut(
        added=report.added,
        rows=[ImportRowOut(row=r, section_code=c, sampled_at=t, cls=k, meets=m) for r, c, t, k, m in report.rows[:500]],
    )
