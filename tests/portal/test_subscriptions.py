"""Residents follow the county, a township or a village (some kinds or all) and unfollow; audited."""

from __future__ import annotations

from sqlalchemy import select

from countyos.core.actor import Actor
from countyos.org.models import AuditEvent
from countyos.portal.models import Subscription
from tests.factories import Person, csrf_from, login, person
from tests.portal.notices_world import NoticesWorld


def resident_actor(p: Person) -> Actor:
    return Actor(id=p.id, name=p.username, permissions=frozenset({"portal.self"}))


def subs_of(db, p: Person) -> dict[str, list[str]]:
    with db.unit_of_work() as s:
        return {x.division_code: x.kinds for x in s.scalars(select(Subscription).where(Subscription.user_id == p.id))}


def test_a_resident_follows_and_unfollows_areas(client, db, notices_world: NoticesWorld) -> None:
    w = notices_world
    me = person(db, ["resident"])
    login(client, me)
    page = client.get("/portal/subscriptions")
    assert page.status_code == 200 and 'id="pt-subscriptions-none"' in page.text
    # step down county → township → village with the picker
    page = client.get("/portal/subscriptions", params={"area": w.town})
    assert w.names[w.village] in page.text and f'value="{w.town}"' in page.text
    csrf = csrf_from(page.text)
    r = client.post(
        "/portal/subscriptions",
        data={"csrf_token": csrf, "division_code": w.village, "kinds": ["water_power", "subsidy"]},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    r = client.post(
        "/portal/subscriptions", data={"csrf_token": csrf, "division_code": w.county}, follow_redirects=False
    )
    assert r.status_code == 303
    assert subs_of(db, me) == {w.village: ["subsidy", "water_power"], w.county: []}
    # following again changes the kinds; nothing is doubled
    client.post("/portal/subscriptions", data={"csrf_token": csrf, "division_code": w.village, "kinds": ["flood"]})
    assert subs_of(db, me)[w.village] == ["flood"]
    page = client.get("/portal/subscriptions")
    assert w.names[w.village] in page.text
    r = client.post(
        "/portal/subscriptions/unfollow", data={"csrf_token": csrf, "division_code": w.village}, follow_redirects=False
    )
    assert r.status_code == 303
    assert subs_of(db, me) == {w.county: []}
    with db.unit_of_work() as s:
        actions = list(s.scalars(select(AuditEvent.action).where(AuditEvent.actor_id == me.id)))
    assert actions.count("portal.subscription.follow") == 3 and actions.count("portal.subscription.unfollow") == 1


def test_bad_follow_requests_are_refused_beside_the_field(client, db, notices_world) -> None:
    me = person(db, ["resident"])
    login(client, me)
    csrf = csrf_from(client.get("/portal/subscriptions").text)
    r = client.post(
        "/portal/subscriptions", data={"csrf_token": csrf, "division_code": "999999", "kinds": ["flood"]}
    )  # not a division of the county
    assert r.status_code == 422
    assert 'id="e-division_code"' in r.text and "999999" in r.text
    assert 'value="flood" checked' in r.text  # what was ticked is kept
    r = client.post("/portal/subscriptions", data={"csrf_token": csrf, "division_code": "12ab"})
    assert r.status_code == 422 and 'id="e-division_code"' in r.text
    assert subs_of(db, me) == {}


def test_only_residents_follow(client, db, notices_world: NoticesWorld) -> None:
    staff = notices_world.village_publisher
    login(client, staff)
    assert client.get("/portal/subscriptions").status_code == 403
