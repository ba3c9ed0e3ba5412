"""Enum columns come back as their enum (``core.db.StrEnumType``), on every backend, in every domain."""

from __future__ import annotations

import re
import sys
from enum import StrEnum

from sqlalchemy import select, text

from countyos import domains
from countyos.core.db import Base, StrEnumType
from countyos.org.models import Department, DepartmentKind
from tests.factories import department


def _enum_annotated_columns() -> list[tuple[str, str, type[StrEnum], object]]:
    domains.modules("models")  # every domain's tables
    out = []
    for mapper in Base.registry.mappers:
        cls = mapper.class_
        for klass in cls.__mro__:
            for name, ann in getattr(klass, "__annotations__", {}).items():
                m = re.fullmatch(r"Mapped\[(\w+)(?: \| None)?\]", str(ann))
                if not m or name not in mapper.columns:
                    continue
                target = vars(sys.modules[klass.__module__]).get(m.group(1))
                if isinstance(target, type) and issubclass(target, StrEnum):
                    out.append((cls.__name__, name, target, mapper.columns[name].type))
    return out


def test_every_column_annotated_with_an_enum_is_typed_with_it():
    columns = _enum_annotated_columns()
    assert len(columns) >= 21  # cases, geo, ioc, org and sensing all have some
    wrong = [(c, n) for c, n, enum, t in columns if not (isinstance(t, StrEnumType) and t.enum is enum)]
    assert wrong == []


def test_an_enum_column_reads_back_as_its_enum_and_stores_the_value(db):
    dep_id = department(db, "县应急管理局", DepartmentKind.DEPARTMENT)
    with db.reading() as s:
        d = s.get(Department, dep_id)
        assert type(d.kind) is DepartmentKind and d.kind is DepartmentKind.DEPARTMENT
        assert type(s.scalar(select(Department.kind).where(Department.id == dep_id))) is DepartmentKind
        raw = s.execute(text("SELECT kind FROM org_department WHERE id = :i"), {"i": dep_id}).scalar()
        assert type(raw) is str and raw == "department"
        # plain strings still compare (query parameters, older code)
        assert s.scalar(select(Department.id).where(Department.id == dep_id, Department.kind == "department")) == dep_id
    with db.unit_of_work() as s:
        s.get(Department, dep_id).kind = "ops_centre"  # a plain value string is stored as the enum's value
    with db.reading() as s:
        assert s.get(Department, dep_id).kind is DepartmentKind.OPS_CENTRE


def test_the_type_converts_both_ways():
    t = StrEnumType(DepartmentKind, 20)
    assert t.process_bind_param(DepartmentKind.DEPARTMENT, None) == "department"
    assert type(t.process_bind_param(DepartmentKind.DEPARTMENT, None)) is str
    assert t.process_bind_param(None, None) is None
    assert t.process_result_value("department", None) is DepartmentKind.DEPARTMENT
    assert t.process_result_value(None, None) is None
    # a filter value from a request that is no member matches nothing rather than failing
    assert t.process_bind_param("no-such-kind", None) == "no-such-kind"
    assert t.length == 20
