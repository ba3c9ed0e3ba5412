"""GEP inputs: every figure a run reads is a ``GepInput`` row with its source.

A value entered again for the same year, code, class and division is a new version when anything of it
changed (value, source, reference, note); the old row stays, no longer current. Entered one by one (the
form, the API), imported from a workbook with Chinese headers (all rows checked first: a bad row refuses
the whole file), or — for areas by class — taken from a land-use layer (``areas_from_layer``, the layer's
id and version as the reference).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from countyos.core.actor import Actor
from countyos.core.errors import NotFound, ValidationFailed
from countyos.core.i18n import N_
from countyos.core.tabular import CellError, Problem, read_sheets, refusal
from countyos.eco.models.gep import GepInput, InputSource
from countyos.org.service import audit


@dataclass(frozen=True)
class InputSpec:
    label: str  # message id
    unit: str
    per_class: str  # "no" (the whole division), "yes" (one per class) or "either" (per class or the whole)


# The accounting classes (the land-use part's codes) and the Chinese names an import accepts.
CLASSES: dict[str, str] = {
    "dryland": N_("Dry farmland"),
    "paddy": N_("Paddy field"),
    "conifer": N_("Coniferous forest"),
    "mixed_forest": N_("Mixed forest"),
    "broadleaf": N_("Broadleaf forest"),
    "shrub": N_("Shrubland"),
    "steppe": N_("Steppe"),
    "shrub_grass": N_("Shrub grassland"),
    "meadow": N_("Meadow"),
    "wetland": N_("Wetland"),
    "desert": N_("Desert"),
    "bare": N_("Bare land"),
    "water": N_("Water body"),
    "glacier": N_("Glacier and snow"),
    "built": N_("Built-up land"),
}
CLASS_NAMES_ZH: dict[str, str] = {
    "旱地": "dryland",
    "水田": "paddy",
    "针叶": "conifer",
    "针叶林": "conifer",
    "针阔混交": "mixed_forest",
    "针阔混交林": "mixed_forest",
    "阔叶": "broadleaf",
    "阔叶林": "broadleaf",
    "灌木": "shrub",
    "灌木林": "shrub",
    "草原": "steppe",
    "灌草丛": "shrub_grass",
    "草甸": "meadow",
    "湿地": "wetland",
    "荒漠": "desert",
    "裸地": "bare",
    "水系": "water",
    "水域": "water",
    "冰川积雪": "glacier",
    "建设用地": "built",
}

CATALOGUE: dict[str, InputSpec] = {
    "gdp": InputSpec(N_("Gross domestic product (GDP)"), "万元", "no"),
    "area": InputSpec(N_("Area of an ecosystem class"), "hm²", "yes"),
    "output_agriculture": InputSpec(N_("Output value of agriculture"), "万元", "no"),
    "output_forestry": InputSpec(N_("Output value of forestry"), "万元", "no"),
    "output_husbandry": InputSpec(N_("Output value of animal husbandry"), "万元", "no"),
    "output_fishery": InputSpec(N_("Output value of fishery"), "万元", "no"),
    "hydropower": InputSpec(N_("Hydropower generation"), "万kWh", "no"),
    "water_domestic": InputSpec(N_("Water supplied for households"), "万m³", "no"),
    "water_industrial": InputSpec(N_("Water supplied for industry"), "万m³", "no"),
    "water_agricultural": InputSpec(N_("Water supplied for agriculture"), "万m³", "no"),
    "precipitation": InputSpec(N_("Annual precipitation"), "mm", "either"),
    "runoff_coefficient": InputSpec(N_("Storm runoff coefficient"), "", "yes"),
    "evapotranspiration": InputSpec(N_("Annual evapotranspiration"), "mm", "yes"),
    "rusle_r": InputSpec(N_("Rainfall erosivity R"), "MJ·mm/(hm²·h·a)", "either"),
    "rusle_k": InputSpec(N_("Soil erodibility K"), "t·hm²·h/(hm²·MJ·mm)", "either"),
    "rusle_ls": InputSpec(N_("Slope length and steepness LS"), "", "either"),
    "rusle_c": InputSpec(N_("Cover management factor C"), "", "yes"),
    "rusle_p": InputSpec(N_("Support practice factor P"), "", "either"),
    "reservoir_capacity": InputSpec(N_("Total capacity of reservoirs"), "万m³", "no"),
    "lake_area": InputSpec(N_("Area of lakes"), "km²", "no"),
    "emission_so2": InputSpec(N_("SO2 emissions"), "t", "no"),
    "emission_nox": InputSpec(N_("NOx emissions"), "t", "no"),
    "emission_dust": InputSpec(N_("Dust emissions"), "t", "no"),
    "emission_cod": InputSpec(N_("COD emissions"), "t", "no"),
    "emission_nh3n": InputSpec(N_("Ammonia nitrogen emissions"), "t", "no"),
    "npp": InputSpec(N_("Net primary productivity (dry matter)"), "t/(hm²·a)", "yes"),
    "cooling_days": InputSpec(N_("Days needing cooling (mean above 26 °C)"), "d", "no"),
    "water_evaporation": InputSpec(N_("Water-surface evaporation on cooling days"), "mm", "no"),
    "tourists": InputSpec(N_("Tourist visits"), "万人次", "no"),
    "tourist_spending": InputSpec(N_("Spending per tourist visit (travel cost)"), "元/人次", "no"),
    "landscape_premium": InputSpec(N_("Landscape premium on property values"), "万元", "no"),
    "wind_erosion_prevented": InputSpec(N_("Wind erosion prevented"), "t", "no"),
}

SOURCE_LABELS: dict[InputSource, str] = {
    InputSource.STATISTIC: N_("Statistic"),
    InputSource.FILE: N_("File"),
    InputSource.RECORD: N_("Record"),
    InputSource.LANDUSE: N_("Land-use layer"),
}
SOURCE_NAMES_ZH = {
    "统计": "statistic",
    "统计数据": "statistic",
    "文件": "file",
    "记录": "record",
    "土地利用": "landuse",
    "土地利用图层": "landuse",
}
MAX_VALUE = 1e15
LANDUSE = "countyos.eco.service.landuse"
IMPORT_ROWS = 5000


def county_code(session: Session) -> str:
    from countyos.geo.service import divisions

    county = divisions.the_county(session)
    return county.code if county else "000000"


def person_name(session: Session, actor: Actor) -> str:
    """The acting person's name as people read it (the account's display name), kept on the record."""
    from countyos.org.service import users

    found = users.colleagues(session, user_ids=[actor.id])
    return (found[actor.id].display_name if actor.id in found else actor.name)[:100]


def check(code: str, class_code: str) -> list[dict[str, str]]:
    """What is wrong with an input's code and class (field → message id), or nothing."""
    spec = CATALOGUE.get(code)
    if spec is None:
        return [{"field": "code", "message": N_("Unknown input code")}]
    if class_code and class_code not in CLASSES:
        return [{"field": "class_code", "message": N_("Unknown ecosystem class")}]
    if spec.per_class == "yes" and not class_code:
        return [{"field": "class_code", "message": N_("This input is given per ecosystem class")}]
    if spec.per_class == "no" and class_code:
        return [{"field": "class_code", "message": N_("This input is given for the whole division, without a class")}]
    return []


def current(session: Session, *, year: int, division_code: str | None = None) -> list[GepInput]:
    division = division_code or county_code(session)
    return list(
        session.scalars(
            select(GepInput)
            .where(GepInput.year == year, GepInput.division_code == division, GepInput.current.is_(True))
            .order_by(GepInput.code, GepInput.class_code)
            .limit(5000)
        )
    )


def history(session: Session, *, year: int, limit: int = 2000) -> list[GepInput]:
    """Every version of the year's inputs, newest first within each figure."""
    return list(
        session.scalars(
            select(GepInput)
            .where(GepInput.year == year)
            .order_by(GepInput.code, GepInput.class_code, GepInput.division_code, GepInput.version.desc())
            .limit(limit)
        )
    )


def get(session: Session, *, input_id: int) -> GepInput:
    row = session.get(GepInput, input_id)
    if row is None:
        raise NotFound(N_("No such input"))
    return row


def by_ids(session: Session, ids: Sequence[int]) -> dict[int, GepInput]:
    if not ids:
        return {}
    return {r.id: r for r in session.scalars(select(GepInput).where(GepInput.id.in_(list(ids)[:5000])))}


def years(session: Session) -> list[int]:
    return sorted(session.scalars(select(GepInput.year).distinct()), reverse=True)


def record(
    session: Session,
    *,
    actor: Actor,
    year: int,
    code: str,
    value: float,
    source: InputSource,
    source_ref: str,
    class_code: str = "",
    division_code: str | None = None,
    note: str | None = None,
    audited: bool = True,
) -> tuple[GepInput, bool]:
    """The input as entered: the current row when nothing changed (False), else a new version (True)."""
    problems = check(code, class_code)
    if problems:
        raise ValidationFailed(N_("The input is not valid"), errors=problems)
    division = division_code or county_code(session)
    key = (
        GepInput.year == year,
        GepInput.code == code,
        GepInput.class_code == class_code,
        GepInput.division_code == division,
    )
    old = session.scalars(select(GepInput).where(*key, GepInput.current.is_(True))).first()
    if old is not None and (old.value, old.source, old.source_ref, old.note or None) == (
        value,
        source,
        source_ref,
        note or None,
    ):
        return old, False
    top = session.scalar(select(func.max(GepInput.version)).where(*key)) or 0
    if old is not None:
        old.current = False
        session.flush()
    row = GepInput(
        year=year,
        code=code,
        class_code=class_code,
        division_code=division,
        value=value,
        unit=CATALOGUE[code].unit,
        source=source,
        source_ref=source_ref,
        note=note or None,
        version=top + 1,
        current=True,
        entered_by_id=actor.id,
        entered_by=person_name(session, actor),
    )
    session.add(row)
    session.flush()
    if audited:
        audit.record(
            session,
            actor=actor,
            action="eco.gep.input",
            target_type="eco_gep_input",
            target_id=row.id,
            detail={"year": year, "code": code, "class": class_code, "value": value, "version": row.version},
        )
    return row, True


# --- import ----------------------------------------------------------------------------------------

HEADERS = {
    "年份": "year",
    "指标代码": "code",
    "生态系统类型": "class_code",
    "数值": "value",
    "来源类型": "source",
    "来源说明": "source_ref",
    "行政区划代码": "division_code",
    "备注": "note",
}
REQUIRED = ("年份", "指标代码", "数值")


@dataclass
class ImportReport:
    rows: list[dict[str, Any]] = field(default_factory=list)

    @property
    def created(self) -> int:
        return sum(r["status"] != "unchanged" for r in self.rows)


def _row(sheet: Any, values: tuple[Any, ...], default_ref: str) -> dict[str, Any]:
    text = {key: sheet.get(values, header) for header, key in HEADERS.items()}
    out: dict[str, Any] = {}
    try:
        out["year"] = int(text["year"])
    except ValueError:
        raise CellError(N_("Not a year")) from None
    if not 1990 <= out["year"] <= 2100:
        raise CellError(N_("Not a year"))
    out["code"] = text["code"]
    cls = text["class_code"]
    out["class_code"] = CLASS_NAMES_ZH.get(cls, cls)
    try:
        out["value"] = float(text["value"].replace(",", ""))
    except ValueError:
        raise CellError(N_("Not a number")) from None
    if not -MAX_VALUE < out["value"] < MAX_VALUE:
        raise CellError(N_("Not a number"))
    source = SOURCE_NAMES_ZH.get(text["source"], text["source"] or "file")
    if source not in set(InputSource):
        raise CellError(N_("Unknown source kind"))
    out["source"] = InputSource(source)
    out["source_ref"] = (text["source_ref"] or default_ref)[:300]
    out["division_code"] = text["division_code"] or None
    if out["division_code"] and not (out["division_code"].isdigit() and len(out["division_code"]) in (6, 9, 12)):
        raise CellError(N_("Not a division code"))
    out["note"] = text["note"][:300] or None
    return out


def import_workbook(session: Session, *, actor: Actor, data: bytes, filename: str) -> ImportReport:
    """Import inputs from a workbook: every row checked first; any bad row refuses the file (422 with
    each problem by sheet and row), else every row is recorded (a new version where it changed)."""
    digest = hashlib.sha256(data).hexdigest()[:16]
    default_ref = f"{filename[:200]} (sha256 {digest})"
    sheets = read_sheets(data, is_header=lambda cols: all(h in cols for h in REQUIRED))
    if not sheets:
        raise ValidationFailed(N_("No sheet has the columns 年份, 指标代码 and 数值"))
    parsed: list[tuple[str, int, dict[str, Any]]] = []
    problems: list[Problem] = []
    for sheet in sheets:
        for n, values in sheet.rows:
            if len(parsed) + len(problems) >= IMPORT_ROWS:
                raise ValidationFailed(N_("The file has too many rows"))
            try:
                row = _row(sheet, values, default_ref)
            except CellError as exc:
                problems.append(Problem(sheet.title, n, None, exc.message_id, exc.params))
                continue
            for p in check(row["code"], row["class_code"]):
                problems.append(Problem(sheet.title, n, p["field"], p["message"]))
            parsed.append((sheet.title, n, row))
    if problems:
        raise refusal(problems)
    report = ImportReport()
    for title, n, row in parsed:
        saved, changed = record(session, actor=actor, audited=False, **row)
        status = "unchanged" if not changed else ("created" if saved.version == 1 else "new_version")
        report.rows.append(
            {
                "sheet": title,
                "row": n,
                "id": saved.id,
                "code": saved.code,
                "class_code": saved.class_code,
                "version": saved.version,
                "status": status,
            }
        )
    audit.record(
        session,
        actor=actor,
        action="eco.gep.inputs_import",
        detail={"file": filename[:200], "sha256": digest, "rows": len(report.rows), "changed": report.created},
    )
    return report


# --- areas from the land-use layer ------------------------------------------------------------------


def areas_from_layer(
    session: Session, *, actor: Actor, year: int, layer_id: int | None = None
) -> list[GepInput] | None:
    """Areas by class of the year's land-use layer (or LAYER_ID) recorded as inputs with the layer's id and
    version as their reference; None when the land-use part has no layer."""
    import importlib

    try:
        landuse: Any = importlib.import_module(LANDUSE)  # the assets part's service
    except ModuleNotFoundError as exc:
        if exc.name == LANDUSE:
            return None
        raise
    if layer_id is None:
        layer = landuse.current_layer(session, year=year)
        if layer is None:
            return None
    else:
        layer = landuse.get_layer(session, layer_id=layer_id)
    areas = landuse.class_areas(session, layer_id=layer.id)
    ref = f"土地利用图层 #{layer.id} {layer.name} v{layer.version} ({layer.year})"
    out = []
    for cls, hectares in sorted(areas.items()):
        if cls not in CLASSES:
            continue
        row, _ = record(
            session,
            actor=actor,
            year=year,
            code="area",
            class_code=cls,
            value=round(float(hectares), 4),
            source=InputSource.LANDUSE,
            source_ref=ref[:300],
        )
        out.append(row)
    return out


# --- what a formula reads ---------------------------------------------------------------------------


@dataclass
class Inputs:
    """The year's current inputs as a formula reads them; the rows read are noted for the report."""

    rows: dict[tuple[str, str], GepInput]
    used: set[int] = field(default_factory=set)
    missing: list[str] = field(default_factory=list)

    def fresh(self) -> Inputs:
        return Inputs(self.rows)

    def _take(self, row: GepInput | None, code: str, cls: str, required: bool) -> float | None:
        if row is None:
            if required:
                self.missing.append(f"{code}:{cls}" if cls else code)
            return None
        self.used.add(row.id)
        return row.value

    def get(self, code: str, cls: str = "", *, required: bool = True) -> float | None:
        """The input for CLS (per class), else the one for the whole division."""
        row = self.rows.get((code, cls)) if cls else None
        if row is None:
            row = self.rows.get((code, ""))
        return self._take(row, code, cls, required)

    def need(self, code: str, cls: str = "") -> float:
        return self.get(code, cls) or 0.0

    def optional(self, code: str) -> float:
        return self.get(code, required=False) or 0.0

    def areas(self) -> dict[str, float]:
        """Hectares by class (every area row is read: a class's area is part of every per-class item)."""
        return {cls: row.value for (code, cls), row in self.rows.items() if code == "area" and row.value > 0}

    def area(self, cls: str) -> float:
        row = self.rows.get(("area", cls))
        return self._take(row, "area", cls, False) or 0.0
