"""GEP accounting runs: a year's current inputs and a parameter set → a saved, versioned report.

A run's digest is the SHA-256 over the parameter version, the parameter file's hash and the ids of the
input rows it read (a changed input is a new row, so a new id). When the digest equals the year's latest
report's, the run answers that report (no new version); otherwise it saves version N + 1. Every item
keeps its formula, the parameters it used (with their version and source) and the input rows it read.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from countyos.core.actor import Actor
from countyos.core.errors import NotFound
from countyos.core.i18n import N_
from countyos.eco.models.gep import Category, GepInput, GepResult, GepRun, ResultStatus
from countyos.eco.service import gep_inputs, gep_parameters
from countyos.eco.service.gep_formulas import FORMULAS, ITEMS, WAN
from countyos.org.service import audit


def digest_of(pset: gep_parameters.ParameterSet, inputs: list[GepInput]) -> str:
    body = {"parameters": pset.version, "hash": pset.content_hash, "inputs": sorted(r.id for r in inputs)}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def latest(session: Session, *, year: int) -> GepRun | None:
    return session.scalars(select(GepRun).where(GepRun.year == year).order_by(GepRun.version.desc())).first()


def list_runs(session: Session, *, year: int | None = None, limit: int = 200) -> list[GepRun]:
    q = select(GepRun).order_by(GepRun.year.desc(), GepRun.version.desc()).limit(limit)
    if year is not None:
        q = q.where(GepRun.year == year)
    return list(session.scalars(q))


def get(session: Session, *, run_id: int) -> GepRun:
    run = session.scalars(select(GepRun).where(GepRun.id == run_id).options(selectinload(GepRun.results))).first()
    if run is None:
        raise NotFound(N_("No such GEP report"))
    return run


@dataclass(frozen=True)
class Computed:
    results: list[GepResult]
    used: set[int]
    complete: bool


def compute(pset: gep_parameters.ParameterSet, rows: list[GepInput], *, year: int) -> Computed:
    """Every item of the specification from the rows (pure: nothing is saved)."""
    factor = pset.price_factor(year)
    all_inputs = gep_inputs.Inputs({(r.code, r.class_code): r for r in rows})
    results, used, complete = [], set(), True
    for position, item in enumerate(ITEMS):
        x, p = all_inputs.fresh(), gep_parameters.Params(pset, factor)
        if item.switch and not pset.switch(item.switch):
            results.append(
                GepResult(
                    position=position,
                    item=item.code,
                    category=item.category,
                    status=ResultStatus.OFF,
                    quantity=0.0,
                    unit="",
                    value=0.0,
                    formula=item.formula,
                    parameters={},
                    input_ids=[],
                    note=str(pset.switches.get(item.switch, {}).get("note", ""))[:500] or None,
                )
            )
            continue
        out = FORMULAS[item.formula](x, p, *item.args)
        status = ResultStatus.MISSING if x.missing else ResultStatus.COMPUTED
        complete = complete and not x.missing
        note = ("missing: " + ", ".join(sorted(set(x.missing)))) if x.missing else out.note
        used |= x.used
        results.append(
            GepResult(
                position=position,
                item=item.code,
                category=item.category,
                status=status,
                quantity=0.0 if x.missing else round(out.quantity, 6),
                unit=out.unit,
                value=0.0 if x.missing else round(out.value, 2),
                formula=item.formula,
                parameters=p.used,
                input_ids=sorted(x.used),
                note=(note or "")[:500] or None,
            )
        )
    return Computed(results, used, complete)


def run(session: Session, *, actor: Actor, year: int, parameter_version: str | None = None) -> tuple[GepRun, bool]:
    """The year's report for these inputs and parameters: the latest one when nothing changed (False),
    else a new version (True)."""
    pset = gep_parameters.load(parameter_version)
    division = gep_inputs.county_code(session)
    rows = gep_inputs.current(session, year=year, division_code=division)
    digest = digest_of(pset, rows)
    last = latest(session, year=year)
    if last is not None and last.digest == digest:
        return last, False
    done = compute(pset, rows, year=year)
    totals = {c: sum(r.value for r in done.results if r.category == c) for c in Category}
    gdp_row = next((r for r in rows if r.code == "gdp" and not r.class_code), None)
    new = GepRun(
        year=year,
        version=(last.version + 1) if last else 1,
        parameter_version=pset.version,
        parameter_hash=pset.content_hash,
        digest=digest,
        division_code=division,
        material=round(totals[Category.MATERIAL], 2),
        regulating=round(totals[Category.REGULATING], 2),
        cultural=round(totals[Category.CULTURAL], 2),
        gep=round(sum(totals.values()), 2),
        gdp=gdp_row.value * WAN if gdp_row else None,
        price_factor=pset.price_factor(year),
        complete=done.complete,
        input_ids=sorted(r.id for r in rows),
        created_by_id=actor.id,
        created_by=gep_inputs.person_name(session, actor),
    )
    new.results = done.results
    session.add(new)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="eco.gep.run",
        target_type="eco_gep_run",
        target_id=new.id,
        detail={"year": year, "version": new.version, "parameters": pset.version, "gep": new.gep},
    )
    return new, True


# --- what a report shows --------------------------------------------------------------------------


def previous(session: Session, *, run: GepRun) -> GepRun | None:
    """The previous year's latest report."""
    return latest(session, year=run.year - 1)


def change(now: float, before: float | None) -> dict[str, float | None]:
    if before is None:
        return {"absolute": None, "percent": None}
    return {"absolute": round(now - before, 2), "percent": round((now - before) / before * 100, 2) if before else None}


def summary(session: Session, *, run: GepRun) -> dict[str, Any]:
    """The report's figures as the API, the pages and the files show them."""
    before = previous(session, run=run)
    gep = run.gep
    shares = {c: (getattr(run, c) / gep * 100 if gep else 0.0) for c in ("material", "regulating", "cultural")}
    return {
        "id": run.id,
        "year": run.year,
        "version": run.version,
        "parameter_version": run.parameter_version,
        "parameter_hash": run.parameter_hash,
        "digest": run.digest,
        "division_code": run.division_code,
        "complete": run.complete,
        "price_factor": run.price_factor,
        "created_at": run.created_at,
        "created_by": run.created_by,
        "totals": {"material": run.material, "regulating": run.regulating, "cultural": run.cultural, "gep": gep},
        "shares": {k: round(v, 2) for k, v in shares.items()},
        "gdp": run.gdp,
        "gep_to_gdp": round(gep / run.gdp, 4) if run.gdp else None,
        "previous": {"id": before.id, "year": before.year, "version": before.version, "gep": before.gep}
        if before
        else None,
        "change": change(gep, before.gep if before else None),
        "items": [
            {
                "item": r.item,
                "category": str(r.category),
                "status": str(r.status),
                "quantity": r.quantity,
                "unit": r.unit,
                "value": r.value,
                "formula": r.formula,
                "parameters": r.parameters,
                "input_ids": r.input_ids,
                "note": r.note,
            }
            for r in run.results
        ],
        "input_ids": run.input_ids,
    }
