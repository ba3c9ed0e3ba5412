"""A small world for the certs tests: a 农户 (personal name, phone, ID number planted to check they never
leak) with a greenhouse in 大田村, an enterprise with a GS1 company prefix and its tea garden, a supermarket
buyer, their people and a bureau officer."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date

from fastapi.testclient import TestClient
from shapely.geometry import box
from sqlalchemy.orm import Session

from countyos.core.crypto import FieldCipher, mask_phone
from countyos.core.db import Database
from countyos.core.settings import get_settings
from countyos.village.models.farming import FarmRecord, RecordKind
from countyos.village.models.producers import (
    Entity,
    EntityKind,
    EntityMember,
    Facility,
    IdKind,
    ProductionBase,
    SubjectCodeType,
)
from tests import factories

API = "/api/v1/village"
FARMER_NAME = "叶建国"
FARMER_PHONE = "13912345678"
FARMER_ID = "33112319700101123X"
LEGAL_PERSON = "周法人"
COMPANY_PHONE = "05788123456"
GS1_PREFIX = "6901234"


@dataclass
class CertWorld:
    farmer: factories.Person
    company_user: factories.Person
    buyer: factories.Person
    officer: factories.Person
    farm_id: int
    company_id: int
    shop_id: int
    greenhouse_id: int  # the farmer's
    pen_id: int  # the farmer's
    tea_id: int  # the company's


def _cipher() -> FieldCipher:
    return FieldCipher(get_settings().secret_key.get_secret_value())


def _entity(s: Session, kind: EntityKind, name: str, user_id: int, **kw: object) -> int:
    e = Entity(kind=kind, name=name, subject_code_type=SubjectCodeType.OPERATOR, id_kind=IdKind.USCC, active=True,
               created_by="test", **kw)  # fmt: skip
    s.add(e)
    s.flush()
    s.add(EntityMember(entity_id=e.id, user_id=user_id))
    return e.id


def _base(s: Session, entity_id: int, code: str, products: list[str], facility: Facility, dx: float) -> int:
    g = box(119.1 + dx, 28.6, 119.102 + dx, 28.601)
    b = ProductionBase(
        entity_id=entity_id, code=code, name=f"基地{code}", facility=facility, product_codes=products,
        village_code="331123100201", village_name="大田村", geom=g, minx=g.bounds[0], miny=g.bounds[1],
        maxx=g.bounds[2], maxy=g.bounds[3], area_m2=20_000.0, active=True, created_by="test",
    )  # fmt: skip
    s.add(b)
    s.flush()
    return b.id


def build(db: Database) -> CertWorld:
    farmer = factories.person(db, ["producer"])
    company_user = factories.person(db, ["producer"])
    buyer = factories.person(db, ["buyer"])
    officer = factories.person(db, ["agri_officer"])
    c = _cipher()
    with db.unit_of_work() as s:
        farm = _entity(
            s, EntityKind.FARMER, FARMER_NAME, farmer.id, village_name="大田村", phone_enc=c.encrypt(FARMER_PHONE),
            phone_masked=mask_phone(FARMER_PHONE), id_number_enc=c.encrypt(FARMER_ID),
            id_number_masked="331123**********3X", contact_name=FARMER_NAME,
        )  # fmt: skip
        company = _entity(
            s, EntityKind.ENTERPRISE, "遂昌测试茶业有限公司", company_user.id, village_name="湖山村",
            phone_enc=c.encrypt(COMPANY_PHONE), phone_masked=mask_phone(COMPANY_PHONE), legal_person=LEGAL_PERSON,
            gs1_prefix=GS1_PREFIX, uscc="91331123MA2A000001",
        )  # fmt: skip
        shop = _entity(s, EntityKind.SUPERMARKET, "测试生鲜超市", buyer.id, village_name="妙高街道")
        gh = _base(s, farm, "C-GH", ["tomato", "cabbage", "kiwi", "egg", "chicken", "paddy_fish", "rice"],
                   Facility.GREENHOUSE, 0.0)  # fmt: skip
        pen = _base(s, farm, "C-PEN", ["pig"], Facility.PEN, 0.01)
        tea = _base(s, company, "C-TEA", ["tea_fresh"], Facility.TEA_GARDEN, 0.02)
    return CertWorld(farmer, company_user, buyer, officer, farm, company, shop, gh, pen, tea)


def spray(db: Database, *, entity_id: int, base_id: int, on: date, days: int, product: str | None = None) -> int:
    """A pesticide record with its interval (as the farming part keeps it)."""
    with db.unit_of_work() as s:
        r = FarmRecord(entity_id=entity_id, base_id=base_id, kind=RecordKind.PESTICIDE, product_code=product,
                       input_name="吡虫啉", registration_no="PD20101234", interval_days=days, dose=20.0,
                       dose_unit="g/亩", used_on=on, created_by="test")  # fmt: skip
        s.add(r)
        s.flush()
        return r.id


def login(client: TestClient, p: factories.Person) -> dict[str, str]:
    return {"X-CSRF-Token": factories.login(client, p)}


def pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    return PdfReader(io.BytesIO(data)).pages[0].extract_text().replace("\x00", "")
