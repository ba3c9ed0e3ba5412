"""Matching: the open supplies of a demand's product whose period overlaps it, nearest first by haversine
distance to the 基地's centroid, then cheapest; and the demands of a supply likewise."""

from __future__ import annotations

from datetime import timedelta

import pytest

from countyos.village.service import market
from tests.village import market_helpers
from tests.village.market_helpers import (
    API,
    CANTEEN,
    FAR,
    NEAR,
    Caller,
    demand,
    supply,
)

market_world_baseline = market_helpers.market_world_baseline  # fixtures
world = market_helpers.world


def test_haversine_is_the_great_circle_distance() -> None:
    # one degree of latitude is about 111.2 km on the mean sphere
    assert market.haversine_km(119.0, 28.0, 119.0, 29.0) == pytest.approx(111.19, abs=0.01)
    assert market.haversine_km(*CANTEEN, *CANTEEN) == 0.0


def test_a_demand_matches_nearest_first_then_cheapest_within_its_period(app, world) -> None:
    farmer, grower, buyer = Caller(app, world.farmer), Caller(app, world.grower), Caller(app, world.buyer)
    today = market.today()
    far_cheap = supply(grower, base_id=world.far_base, price="2.00")
    near_dear = supply(farmer, base_id=world.near_base, price="3.50")
    near_cheap = supply(farmer, base_id=world.near_base, price="3.00")
    no_base = supply(farmer, price="1.00")
    # not matched: another product, a period after the demand's, a closed listing
    supply(farmer, base_id=world.near_base, product_code="radish")
    later = supply(
        farmer,
        base_id=world.near_base,
        period_from=(today + timedelta(days=40)).isoformat(),
        period_to=(today + timedelta(days=50)).isoformat(),
    )
    closed = supply(farmer, base_id=world.near_base, price="0.50")
    assert farmer.patch(f"{API}/supply/{closed['id']}", {"state": "closed"}).status_code == 200

    d = demand(buyer, period_to=(today + timedelta(days=30)).isoformat())
    r = buyer.get(f"{API}/demand/{d['id']}/matches")
    assert r.status_code == 200, r.text
    got = [(m["supply"]["id"], m["distance_km"]) for m in r.json()]
    assert [i for i, _ in got] == [near_cheap["id"], near_dear["id"], far_cheap["id"], no_base["id"]]
    near_km = market.haversine_km(*CANTEEN, *NEAR)
    far_km = market.haversine_km(*CANTEEN, *FAR)
    assert got[0][1] == pytest.approx(near_km, abs=0.1) and got[2][1] == pytest.approx(far_km, abs=0.1)
    assert got[3][1] is None  # no 基地: no distance, last
    assert later["id"] not in [i for i, _ in got]

    # the supply's side: the demand, with the same distance
    r = farmer.get(f"{API}/supply/{near_cheap['id']}/matches")
    assert [(m["demand"]["id"], m["distance_km"]) for m in r.json()] == [(d["id"], got[0][1])]
    # the later supply overlaps no demand
    assert farmer.get(f"{API}/supply/{later['id']}/matches").json() == []


def test_periods_touching_on_one_day_overlap(app, world) -> None:
    farmer, buyer = Caller(app, world.farmer), Caller(app, world.buyer)
    today = market.today()
    edge = (today + timedelta(days=10)).isoformat()
    s = supply(farmer, base_id=world.near_base, period_from=edge, period_to=(today + timedelta(days=20)).isoformat())
    touching = demand(buyer, period_to=edge)
    before = demand(buyer, period_to=(today + timedelta(days=9)).isoformat())
    assert [m["supply"]["id"] for m in buyer.get(f"{API}/demand/{touching['id']}/matches").json()] == [s["id"]]
    assert buyer.get(f"{API}/demand/{before['id']}/matches").json() == []


def test_a_sold_out_supply_is_not_matched_and_matches_are_bounded(app, world) -> None:
    farmer, buyer = Caller(app, world.farmer), Caller(app, world.buyer)
    s = supply(farmer, base_id=world.near_base, quantity=10)
    d = demand(buyer)
    assert buyer.post(f"{API}/orders", {"supply_id": s["id"], "quantity": 10}).status_code == 201
    assert buyer.get(f"{API}/demand/{d['id']}/matches").json() == []
    assert buyer.get(f"{API}/demand/{d['id']}/matches?limit=51").status_code == 422


def test_listings_are_checked(app, world) -> None:
    farmer, buyer = Caller(app, world.farmer), Caller(app, world.buyer)
    today = market.today()
    bad = {
        "product_code": "cabbage",
        "quantity": 1,
        "price": "1.234",
        "period_from": today.isoformat(),
        "period_to": today.isoformat(),
    }
    assert farmer.post(f"{API}/supply", bad).status_code == 422  # price to the fen
    bad.update(price="1.00", period_to=(today - timedelta(days=1)).isoformat())
    assert farmer.post(f"{API}/supply", bad).status_code == 422  # ends before it starts
    bad.update(period_to=today.isoformat(), base_id=world.far_base)
    r = farmer.post(f"{API}/supply", bad)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "base_id"  # not theirs
    # a buyer may not post supply, nor a producer demand
    assert buyer.post(f"{API}/supply", {**bad, "base_id": None}).status_code == 403
    assert (
        farmer.post(
            f"{API}/demand",
            {
                "product_code": "cabbage",
                "quantity": 1,
                "period_from": today.isoformat(),
                "period_to": today.isoformat(),
                "lon": 119.2,
                "lat": 28.5,
            },
        ).status_code
        == 403
    )
    # the delivery place: the buyer's village when no point is given (this canteen has none)
    r = buyer.post(
        f"{API}/demand",
        {"product_code": "cabbage", "quantity": 1, "period_from": today.isoformat(), "period_to": today.isoformat()},
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "lon"


def test_the_job_marks_supply_past_its_period_expired(app, world, db) -> None:
    from sqlalchemy import select

    from countyos.village.jobs_market import expire_listings
    from countyos.village.models.market import ListingState, Supply

    farmer = Caller(app, world.farmer)
    s = supply(farmer, base_id=world.near_base)
    with db.unit_of_work() as session:
        session.get(Supply, s["id"]).period_to = market.today() - timedelta(days=1)
    assert farmer.get(f"{API}/supply?mine=true&open_only=false").json()[0]["state"] == "expired"  # read so at once
    assert expire_listings(db) == 1
    with db.reading() as session:
        assert session.scalar(select(Supply.state).where(Supply.id == s["id"])) == ListingState.EXPIRED
    assert expire_listings(db) == 0
