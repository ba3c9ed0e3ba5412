"""The demo county's batches, tests and 承诺达标合格证: a batch for every harvest record of the season (the
farming part's), a rapid self-test for about a quarter of them and an entrusted test for some, one failed
(that batch has no certificate, so the register shows a batch still missing one), certificates for the
mandatory classes and for some others, one enterprise with a GS1 company prefix (its batches carry GS1
element strings), one repack by the supermarket with its re-issued certificate, and trace views over the
last month. Bulk inserts: a season of batches loads in well under a second. Prints one trace code."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from countyos.core.clock import county_zone
from countyos.geo.service import divisions
from countyos.village.models.certs import (
    Batch,
    BatchTest,
    BatchView,
    CertBasis,
    Certificate,
    CheckMethod,
    CheckMode,
    CheckResult,
    Gtin,
    TraceScheme,
)
from countyos.village.models.farming import FarmRecord, RecordKind
from countyos.village.models.producers import Entity, EntityKind, EntityMember, ProductionBase
from countyos.village.service import certs, products
from countyos.village.service import certs_codes as codes

GS1_PREFIX = "6953071"  # the demo enterprise's GS1 company prefix (China, 7 digits)
RAPID_ITEMS = [{"item": "有机磷和氨基甲酸酯类农药", "result": "抑制率 12%", "limit": "<50%"}]
LAB_ITEMS = [
    {"item": "毒死蜱", "result": "未检出", "limit": "≤0.02 mg/kg"},
    {"item": "吡虫啉", "result": "0.05 mg/kg", "limit": "≤0.5 mg/kg"},
]
FAILED_ITEMS = [{"item": "毒死蜱", "result": "0.06 mg/kg", "limit": "≤0.02 mg/kg"}]
TOWN_LAB = "大柘镇农产品质量安全快检室"
COUNTY_LAB = "遂昌县农产品质量安全检测中心"


def _at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=county_zone()).astimezone(UTC)


def load(session: Session, ctx: Any) -> None:
    rng = random.Random(18035)
    county = divisions.the_county(session)
    county_code = county.code[:6] if county is not None else str(getattr(ctx, "county_code", "000000"))
    entities = {e.id: e for e in session.scalars(select(Entity))}
    enterprise = next(
        (e for e in sorted(entities.values(), key=lambda e: e.id) if e.kind == EntityKind.ENTERPRISE), None
    )
    if enterprise is not None and not enterprise.gs1_prefix:
        enterprise.gs1_prefix = GS1_PREFIX
    harvests = list(
        session.scalars(
            select(FarmRecord)
            .where(FarmRecord.kind == RecordKind.HARVEST, FarmRecord.voided.is_(False))
            .where(FarmRecord.product_code.is_not(None), FarmRecord.quantity.is_not(None))
            .order_by(FarmRecord.used_on, FarmRecord.id)
        )
    )
    if not harvests:
        return
    cat = products.catalog()
    gtins: dict[tuple[int, str], str] = {}
    gtin_rows: list[dict[str, Any]] = []
    seq_no: dict[tuple[int, date], int] = {}
    seq_code: dict[str, int] = {}
    rows: list[dict[str, Any]] = []
    for r in harvests:
        ent = entities.get(r.entity_id)
        code_p = r.product_code or ""
        if ent is None or code_p not in cat.products:
            continue
        n = seq_no[(ent.id, r.used_on)] = seq_no.get((ent.id, r.used_on), 0) + 1
        batch_no = f"{r.used_on:%Y%m%d}-{n:03d}"
        gtin14 = None
        if ent.gs1_prefix:
            key = (ent.id, code_p)
            if key not in gtins:
                ref = len([k for k in gtins if k[0] == ent.id]) + 1
                gtins[key] = codes.gtin13(ent.gs1_prefix, ref)
                gtin_rows.append({"entity_id": ent.id, "product_code": code_p, "item_ref": ref, "gtin13": gtins[key]})
            gtin14 = "0" + gtins[key]
            trace = codes.gs1_element_string(gtin14=gtin14, produced=r.used_on, batch_no=batch_no)
        else:
            prefix = codes.county_prefix(county_code=county_code, entity_id=ent.id, harvested=r.used_on)
            seq_code[prefix] = seq_code.get(prefix, 0) + 1
            trace = codes.county_code(prefix=prefix, sequence=seq_code[prefix])
        rows.append({
            "entity_id": ent.id, "base_id": r.base_id, "parent_id": None, "product_code": code_p,
            "product_class": cat.products[code_p].class_code, "quantity": float(r.quantity or 0),
            "unit": r.unit or cat.products[code_p].unit, "harvest_date": r.used_on, "batch_no": batch_no,
            "trace_code": trace, "trace_views": 0, "created_at": _at(r.used_on, 17), "created_by": "demo",
            "trace_scheme": TraceScheme.GS1 if gtin14 else TraceScheme.COUNTY, "gtin": gtin14,
            "source_record_id": r.id,
        })  # fmt: skip
    if gtin_rows:
        session.execute(insert(Gtin), gtin_rows)
    ids = list(session.scalars(insert(Batch).returning(Batch.id, sort_by_parameter_order=True), rows))
    batches = [{**row, "id": i} for row, i in zip(rows, ids, strict=True)]

    # tests: a rapid self-test for about a quarter, an entrusted lab test for some, one failed
    farmer_entity = _entity_of(session, ctx, "farmer")
    mine = [b for b in batches if b["entity_id"] == farmer_entity and cat.classes[b["product_class"]].mandatory]
    failed_id = mine[-1]["id"] if mine else None
    tests: list[dict[str, Any]] = []
    for b in batches:
        roll = rng.random()
        if b["id"] == failed_id:
            tests.append(_test(b, CheckMode.ENTRUSTED, CheckResult.FAIL, len(tests)))
        elif roll < 0.25:
            tests.append(_test(b, CheckMode.SELF, CheckResult.PASS, len(tests)))
        elif roll < 0.32:
            tests.append(_test(b, CheckMode.ENTRUSTED, CheckResult.PASS, len(tests)))
    test_ids = list(session.scalars(insert(BatchTest).returning(BatchTest.id, sort_by_parameter_order=True), tests))
    test_of = {t["batch_id"]: (tid, t) for t, tid in zip(tests, test_ids, strict=True)}

    # certificates: every mandatory-class batch (but the failed one), a third of the others
    seq_year: dict[int, int] = {}
    cert_rows: list[dict[str, Any]] = []
    for b in batches:
        if b["id"] == failed_id:
            continue
        if not cat.classes[b["product_class"]].mandatory and rng.random() > 0.33:
            continue
        ent = entities[b["entity_id"]]
        year = b["harvest_date"].year
        seq_year[year] = seq_year.get(year, 0) + 1
        test = test_of.get(b["id"])
        basis = CertBasis.CONTROL
        if test is not None:
            basis = CertBasis.SELF_TEST if test[1]["mode"] == CheckMode.SELF else CertBasis.ENTRUSTED_TEST
        cert_rows.append(
            _cert(b, ent, f"{county_code}{year}{seq_year[year]:06d}", basis, test, _origin(session, b, ent))
        )
    cert_ids = list(
        session.scalars(insert(Certificate).returning(Certificate.id, sort_by_parameter_order=True), cert_rows)
    )
    cert_of = {c["batch_id"]: (cid, c) for c, cid in zip(cert_rows, cert_ids, strict=True)}

    # one repack by the supermarket: part of a recent certified vegetable batch of the farmer (or anyone)
    shop = next((e for e in sorted(entities.values(), key=lambda e: e.id) if e.kind == EntityKind.SUPERMARKET), None)
    showcase = _showcase(batches, cert_of, test_of, farmer_entity, cat)
    if shop is not None and showcase is not None:
        parent_cid, parent_cert = cert_of[showcase["id"]]
        day = min(showcase["harvest_date"] + timedelta(days=1), certs.today())
        prefix = codes.county_prefix(county_code=county_code, entity_id=shop.id, harvested=showcase["harvest_date"])
        values = {**{k: v for k, v in showcase.items() if k != "id"}, "entity_id": shop.id, "base_id": None,
                  "parent_id": showcase["id"], "quantity": round(showcase["quantity"] * 0.3, 1),
                  "batch_no": f"CS{day:%Y%m%d}-01", "trace_code": codes.county_code(prefix=prefix, sequence=1),
                  "trace_scheme": TraceScheme.COUNTY, "gtin": None, "source_record_id": None,
                  "created_at": _at(day, 9)}  # fmt: skip
        child = session.execute(insert(Batch).values(**values).returning(Batch.id)).scalar_one()
        year = day.year
        seq_year[year] = seq_year.get(year, 0) + 1
        child_row = {**showcase, "id": child, "quantity": round(showcase["quantity"] * 0.3, 1), "harvest_date": day}
        row = _cert(child_row, shop, f"{county_code}{year}{seq_year[year]:06d}", parent_cert["basis"],
                    test_of.get(showcase["id"]), parent_cert["origin"])  # fmt: skip
        session.execute(insert(Certificate), [{**row, "parent_id": parent_cid, "producer_name": shop.name}])

    # trace views over the last month, most on the showcase and on recent batches
    today = certs.today()
    recent = [b for b in batches if (today - b["harvest_date"]).days <= 30]
    views: list[dict[str, Any]] = []
    totals: dict[int, int] = {}
    chosen = {b["id"]: b for b in rng.sample(recent, min(60, len(recent)))}
    if showcase is not None:
        chosen[showcase["id"]] = showcase
    for b in chosen.values():
        for d in range(max(0, (today - b["harvest_date"]).days), -1, -1):
            n = rng.randint(0, 4) + (6 if showcase is not None and b["id"] == showcase["id"] else 0)
            if n:
                views.append({"batch_id": b["id"], "day": today - timedelta(days=d), "views": n})
                totals[b["id"]] = totals.get(b["id"], 0) + n
    if views:
        session.execute(insert(BatchView), views)
        for batch_id, total in totals.items():
            session.execute(update(Batch).where(Batch.id == batch_id).values(trace_views=total))
    session.flush()
    if showcase is not None:
        ctx.notes.append(f"Trace code: {ctx.public_url.rstrip('/')}/t/{showcase['trace_code']}")


def _entity_of(session: Session, ctx: Any, username: str) -> int | None:
    user_id = getattr(ctx, "user_ids", {}).get(username)
    if user_id is None:
        return None
    return session.scalar(select(EntityMember.entity_id).where(EntityMember.user_id == user_id))


def _test(b: dict[str, Any], mode: CheckMode, result: CheckResult, n: int) -> dict[str, Any]:
    lab = mode == CheckMode.ENTRUSTED
    day = b["harvest_date"]
    return {
        "batch_id": b["id"], "institution": COUNTY_LAB if lab else TOWN_LAB,
        "method": CheckMethod.QUANTITATIVE if lab else CheckMethod.RAPID, "mode": mode,
        "standard": "GB 2763-2021" if lab else "GB/T 5009.199-2003",
        "items": (FAILED_ITEMS if result == CheckResult.FAIL else LAB_ITEMS) if lab else RAPID_ITEMS,
        "result": result, "report_no": f"{'WT' if lab else 'KJ'}{day:%Y%m%d}{n:04d}", "tested_on": day,
        "created_at": _at(day, 15), "created_by": "demo",
    }  # fmt: skip


def _origin(session: Session, b: dict[str, Any], ent: Entity) -> str:
    base = session.get(ProductionBase, b["base_id"]) if b["base_id"] else None
    return ((base.village_name if base else None) or ent.village_name or ent.address or "")[:200]


def _cert(
    b: dict[str, Any], ent: Entity, number: str, basis: CertBasis, test: tuple[int, dict[str, Any]] | None, origin: str
) -> dict[str, Any]:
    product = products.catalog().products[b["product_code"]]
    uses_test = basis != CertBasis.CONTROL and test is not None
    return {
        "number": number, "batch_id": b["id"], "issuer_id": ent.id, "parent_id": None,
        "product_code": b["product_code"], "product_name": product.zh, "product_class": b["product_class"],
        "quantity": b["quantity"], "unit": b["unit"], "producer_name": ent.name, "origin": origin,
        "contact_enc": ent.phone_enc, "contact_masked": ent.phone_masked, "promise": certs.rules().promise,
        "basis": basis, "test_id": test[0] if uses_test and test else None,
        "report_no": test[1]["report_no"] if uses_test and test else None, "issued_on": b["harvest_date"],
        "issued_at": _at(b["harvest_date"], 18), "issued_by": "demo", "revoked_at": None, "revoked_reason": None,
        "revoked_by": None,
    }  # fmt: skip


def _showcase(
    batches: list[dict[str, Any]],
    cert_of: dict[int, tuple[int, dict[str, Any]]],
    test_of: dict[int, tuple[int, dict[str, Any]]],
    farmer_entity: int | None,
    cat: products.Catalog,
) -> dict[str, Any] | None:
    """The batch whose code the demo prints: the farmer's latest certified vegetable batch with a test, else
    any latest certified batch."""
    certified = [b for b in batches if b["id"] in cert_of]
    picks: list[Callable[[dict[str, Any]], bool]] = [
        lambda b: b["entity_id"] == farmer_entity and b["product_class"] == "vegetable" and b["id"] in test_of,
        lambda b: b["entity_id"] == farmer_entity and b["product_class"] == "vegetable",
        lambda b: b["entity_id"] == farmer_entity,
        lambda b: cat.classes[b["product_class"]].mandatory,
        lambda b: True,
    ]
    for pick in picks:
        hits = [b for b in certified if pick(b)]
        if hits:
            return hits[-1]
    return None
