"""The catalogue: versions on edit (the old one stays), status by one table, validation, audit, search."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from countyos.core.errors import Conflict, ValidationFailed
from countyos.core.paging import PageParams
from countyos.org.models import AuditEvent
from countyos.services.models import MatterStatus, MatterVersion
from countyos.services.service import catalogue, code_rules, search
from tests.services.conftest import ADMIN, guide


def test_an_edit_makes_a_new_version_and_keeps_the_old_one(db, shop) -> None:
    with db.unit_of_work() as s:
        m = catalogue.create(s, actor=ADMIN, data=guide(shop))
        first = m.current_version_id
        matter_id = m.id
    with db.unit_of_work() as s:
        m, changed = catalogue.edit(s, actor=ADMIN, matter_id=matter_id, data=guide(shop, promised_limit=3))
        assert changed and m.current_version_id != first
    with db.reading() as s:
        m = catalogue.get(s, matter_id=matter_id)
        assert catalogue.current(m).number == 2 and catalogue.current(m).promised_limit == 3
        old = s.get(MatterVersion, first)
        assert old is not None and old.number == 1 and old.promised_limit == 5
        assert [st.name for st in old.steps] == ["受理", "审查决定"]
        assert [mt.name for mt in old.materials] == ["食品经营许可申请书", "营业执照"]
        assert [v.number for v in catalogue.versions(s, matter_id=matter_id)] == [2, 1]
        actions = list(
            s.scalars(
                select(AuditEvent.action).where(
                    AuditEvent.target_type == "services_matter", AuditEvent.target_id == str(matter_id)
                )
            )
        )
        assert actions == ["services.matter.create", "services.matter.edit"]


def test_an_edit_that_changes_nothing_writes_nothing(db, shop) -> None:
    with db.unit_of_work() as s:
        m = catalogue.create(s, actor=ADMIN, data=guide(shop))
        m2, changed = catalogue.edit(s, actor=ADMIN, matter_id=m.id, data=guide(shop))
        assert not changed and catalogue.current(m2).number == 1
        # a material's order is part of the guide
        _, changed = catalogue.edit(
            s,
            actor=ADMIN,
            matter_id=m.id,
            data=guide(shop, materials=list(reversed(guide(shop).model_dump()["materials"]))),
        )
        assert changed and catalogue.current(m).number == 2


def test_status_moves_by_the_table(db, shop) -> None:
    with db.unit_of_work() as s:
        m = catalogue.create(s, actor=ADMIN, data=guide(shop))
        assert m.status == MatterStatus.DRAFT
        with pytest.raises(Conflict):
            catalogue.withdraw(s, actor=ADMIN, matter_id=m.id)
        assert catalogue.publish(s, actor=ADMIN, matter_id=m.id).status == MatterStatus.PUBLISHED
        with pytest.raises(Conflict):
            catalogue.publish(s, actor=ADMIN, matter_id=m.id)
        assert catalogue.withdraw(s, actor=ADMIN, matter_id=m.id).status == MatterStatus.WITHDRAWN
        assert catalogue.actions_of(m) == ["publish"]


def test_validation_reports_every_field(db, shop) -> None:
    bad = guide(
        shop,
        code="11331123 MB#1",
        body_uscc="11331123000000101X",
        promised_limit=30,
        charged=True,
        department_id=999_999,
    )
    with db.unit_of_work() as s, pytest.raises(ValidationFailed) as e:
        catalogue.create(s, actor=ADMIN, data=bad)
    fields = {err["field"]: err["message"] for err in e.value.errors}
    assert fields == {
        "code": "Use 1 to 64 letters, digits or hyphens",
        "body_uscc": "Not a valid unified social credit code",
        "department_id": "No such department",
        "promised_limit": "The promised time limit exceeds the legal one",
        "fee_basis": "Give the legal basis of the fee",
    }


def test_code_rules_are_pluggable(db, shop) -> None:
    rule = code_rules.CodeRule(r"\d{8}[A-Z]{2}\d{7}-\d{3}", "Not in the expected form")
    with code_rules.using([*code_rules.DEFAULT_RULES, rule]):
        assert code_rules.check("11331123MB0000001-001") is None
        assert code_rules.check("ABC") == "Not in the expected form"
    assert code_rules.check("ABC") is None
    assert code_rules.check("A" * 65) == "Use 1 to 64 letters, digits or hyphens"


def test_a_taken_code_is_refused(db, shop) -> None:
    with db.unit_of_work() as s:
        catalogue.create(s, actor=ADMIN, data=guide(shop))
        with pytest.raises(ValidationFailed) as e:
            catalogue.create(s, actor=ADMIN, data=guide(shop, name="另一个"))
        assert e.value.errors == [{"field": "code", "message": "A matter with this implementation code exists"}]


def test_search_by_name_pinyin_initials_full_pinyin_and_filters(db, shop) -> None:
    with db.unit_of_work() as s:
        a = catalogue.create(s, actor=ADMIN, data=guide(shop))
        b = catalogue.create(
            s,
            actor=ADMIN,
            data=guide(
                shop,
                code="11331123MB0000002-001",
                name="残疾人两项补贴给付",
                matter_type="benefit",
                audiences=["person"],
                theme="社会救助",
                department_id=shop.centre,
            ),
        )
        catalogue.create(s, actor=ADMIN, data=guide(shop, code="DRAFT-1", name="食品小作坊登记"))
        catalogue.publish(s, actor=ADMIN, matter_id=a.id)
        catalogue.publish(s, actor=ADMIN, matter_id=b.id)
    page = PageParams(limit=10, offset=0)

    def names(**kw) -> list[str]:
        with db.reading() as s:
            rows, total = search.search(s, search.MatterFilter(status=MatterStatus.PUBLISHED, **kw), page)
            assert total == len(rows)
            return [r.name for r in rows]

    assert names(q="spjy") == ["食品经营许可（新办）"]  # initials
    assert names(q="canjiren") == ["残疾人两项补贴给付"]  # full pinyin
    assert names(q="补贴") == ["残疾人两项补贴给付"]
    assert names(q="食品") == ["食品经营许可（新办）"]  # the draft is not published
    assert names(theme="社会救助") == ["残疾人两项补贴给付"]
    assert names(audience="enterprise") == ["食品经营许可（新办）"]
    assert names(department_id=shop.centre) == ["残疾人两项补贴给付"]
    assert names(matter_type="licensing") == ["食品经营许可（新办）"]
    assert names(q="11331123MB0000002-001") == ["残疾人两项补贴给付"]
    assert names() == ["残疾人两项补贴给付", "食品经营许可（新办）"]  # pinyin order
    with db.reading() as s:
        rows, total = search.search(s, search.MatterFilter(q="sp"), page)
        assert total == 2 and {r.name for r in rows} == {"食品经营许可（新办）", "食品小作坊登记"}
        assert search.themes(s) == ["社会救助", "市场准入"]
