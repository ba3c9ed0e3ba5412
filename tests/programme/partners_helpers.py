"""Fixtures of the partners tests: two partner organisations, the programme office, a developer of each."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from countyos.core.actor import Actor
from countyos.core.db import Database
from countyos.programme.models.projects import Organisation, OrgKind
from countyos.programme.permissions import DEVELOPER, PARTNERS, READ
from countyos.programme.schemas.partners import KeyIn, MemberIn
from countyos.programme.service import partners, partners_quota
from tests import factories


@dataclass
class Partners:
    org: int
    other: int
    office: factories.Person
    dev: factories.Person
    other_dev: factories.Person

    def office_actor(self) -> Actor:
        return Actor(id=self.office.id, name=self.office.username, permissions=frozenset({READ, PARTNERS}))

    def dev_actor(self) -> Actor:
        return Actor(id=self.dev.id, name=self.dev.username, permissions=frozenset({DEVELOPER}))


def build(db: Database) -> Partners:
    office = factories.person(db, ["programme_office"])
    dev = factories.person(db, ["partner_developer"])
    other_dev = factories.person(db, ["partner_developer"])
    with db.unit_of_work() as s:
        a = Organisation(name="测试伙伴甲科技有限公司", kind=OrgKind.PARTNER)
        b = Organisation(name="测试伙伴乙信息有限公司", kind=OrgKind.PARTNER)
        s.add_all([a, b])
        s.flush()
        actor = Actor(id=office.id, name=office.username, permissions=frozenset({PARTNERS}))
        partners.add_member(s, actor=actor, org_id=a.id, data=MemberIn(user_id=dev.id))
        partners.add_member(s, actor=actor, org_id=b.id, data=MemberIn(user_id=other_dev.id))
        return Partners(a.id, b.id, office, dev, other_dev)


def issue(
    db: Database, w: Partners, *, scopes: list[str], quota: int = 1000, org: int | None = None
) -> tuple[int, str]:
    with db.unit_of_work() as s:
        key, plain = partners.issue_key(
            s,
            actor=w.office_actor(),
            org_id=org or w.org,
            data=KeyIn(name="测试应用", scopes=scopes, daily_quota=quota),
        )
        return key.id, plain


def world_of(db: Database) -> Iterator[Partners]:
    """The partners world with the quota counts of this process forgotten before and after (a rolled-back
    test reuses key ids)."""
    partners_quota.reset()
    yield build(db)
    partners_quota.reset()
