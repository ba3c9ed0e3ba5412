"""The partners demo loads on a small county: kfz a developer of a partner, two keys with a month of use,
four services of which two are listed."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from countyos.core.db import Database
from countyos.core.demo import DemoContext
from countyos.programme import demo_partners
from countyos.programme.models.partners import PartnerKey, PartnerKeyUsage, PartnerService, ServiceState
from countyos.programme.service import partners, partners_quota
from tests import factories


def test_the_partners_demo(client: TestClient, db: Database) -> None:
    partners_quota.reset()
    xmb = factories.person(db, ["programme_office"])
    kfz = factories.person(db, ["partner_developer"])
    ctx = DemoContext()
    ctx.user_ids = {"xmb": xmb.id, "kfz": kfz.id}
    with db.unit_of_work() as s:
        demo_partners.load(s, ctx)
    with db.reading() as s:
        org_id = partners.org_of_user(s, user_id=kfz.id)
        assert org_id is not None
        assert s.scalar(select(func.count()).select_from(PartnerKey)) == 2
        assert s.scalar(select(func.count()).select_from(PartnerKeyUsage)) == 60
        states = sorted(s.scalars(select(PartnerService.state)))
        assert states.count(ServiceState.APPROVED) == 2 and len(states) == 4
    plain = next(n for n in ctx.notes if n.startswith("Partner sandbox key")).rsplit(": ", 1)[1]
    assert client.get("/api/v1/geo/collections", headers={"Authorization": f"Bearer {plain}"}).status_code == 200
    assert len(client.get("/api/v1/programme/developer/catalogue").json()) == 2
    factories.login(client, kfz)
    assert client.get("/developers/keys").status_code == 200
    partners_quota.reset()
