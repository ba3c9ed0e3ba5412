"""The producers pages: the register with its filters, map source and exports (formulas neutralised),
forms that re-render with their errors, one entity, one base with its devices, drawing and importing
bases, the producer's phone home; every page in Chinese by default."""

from __future__ import annotations

import json
from datetime import date

import pytest
from shapely.geometry import mapping
from sqlalchemy import select

from countyos.core.db import Database
from countyos.village.models.producers import CertKind, EntityKind, ProductionBase
from countyos.village.schemas.producers import CertificationIn
from countyos.village.service import producers
from tests import factories
from tests.harness import Baseline, Harness
from tests.village.producers_helpers import BASELINE, BUREAU, VILLAGE, ProducerWorld, entity_in, make_uscc, square


@pytest.fixture(scope="session")
def producers_world_baseline() -> Baseline:
    return BASELINE


@pytest.fixture
def world(db: Database, harness: Harness, producers_world_baseline: Baseline) -> ProducerWorld:
    w: ProducerWorld = harness.value(producers_world_baseline, db=db)
    return w


def test_the_register_filters_and_exports(client, db: Database, world: ProducerWorld) -> None:
    with db.unit_of_work() as s:
        producers.create_entity(
            s, actor=BUREAU, body=entity_in(name="=HYPERLINK(1)", kind=EntityKind.SUPERMARKET,
                                            uscc=make_uscc("91331123MA2E7777Q"))
        )  # fmt: skip
    with db.unit_of_work() as s:
        counts = producers.counts_by_kind(s, actor=BUREAU, f=producers.EntityFilter())
        assert counts == {"family_farm": 1, "farmer": 1, "supermarket": 1}
        assert producers.counts_by_kind(s, actor=BUREAU, f=producers.EntityFilter(group="producer")) == {
            "family_farm": 1, "farmer": 1,
        }  # fmt: skip
    factories.login(client, world.officer)
    page = client.get("/village/producers")
    assert page.status_code == 200
    assert "叶家家庭农场" in page.text and "王家农户" in page.text
    assert 'data-source="/api/v1/village/bases?limit=5000"' in page.text
    buyers = client.get("/village/producers?group=buyer")
    assert "HYPERLINK" in buyers.text and "叶家家庭农场" not in buyers.text
    farmers = client.get("/village/producers?kind=farmer&q=王家")
    assert "王家农户" in farmers.text and "叶家家庭农场" not in farmers.text
    csv = client.get("/village/producers/export?format=csv")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    text = csv.content.decode("utf-8-sig")
    assert "'=HYPERLINK(1)" in text and "13912345678" not in text
    xlsx = client.get("/village/producers/export?format=xlsx&group=producer")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    assert client.get("/village/producers/new").status_code == 200


def test_the_entity_form_re_renders_with_its_errors(client, db: Database, world: ProducerWorld) -> None:
    csrf = factories.login(client, world.officer)
    form = {
        "csrf_token": csrf, "kind": "cooperative", "name": "云峰菊米专业合作社", "id_kind": "uscc",
        "uscc": "93331123MA2E12340", "village_code": VILLAGE, "phone": "13700001111", "subject_code_type": "operator",
        "active": "1",
    }  # fmt: skip
    good = make_uscc("93331123MA2E1234K")
    if form["uscc"] == good:
        form["uscc"] = good[:-1] + "1"
    r = client.post("/village/producers/new", data=form)
    assert r.status_code == 422
    assert 'id="error-uscc"' in r.text and "云峰菊米专业合作社" in r.text
    assert "13700001111" not in r.text  # a personal number is not echoed back
    r = client.post("/village/producers/new", data={**form, "uscc": good}, follow_redirects=False)
    assert r.status_code == 303, r.text
    url = r.headers["location"]
    page = client.get(url)
    assert page.status_code == 200 and "云峰菊米专业合作社" in page.text and "137****1111" in page.text
    edit = client.get(url + "/edit")
    assert edit.status_code == 200 and "13700001111" not in edit.text


def test_a_base_drawn_on_the_map_and_its_page(client, db: Database, world: ProducerWorld) -> None:
    csrf = factories.login(client, world.farmer)
    form_page = client.get(f"/village/bases/new?entity={world.farm_id}")
    assert form_page.status_code == 200 and 'data-draw="vp-geometry"' in form_page.text
    bad = client.post(
        "/village/bases/new",
        data={"csrf_token": csrf, "entity_id": str(world.farm_id), "name": "坏地块", "facility": "open_field",
              "geometry": "{not json"},
    )  # fmt: skip
    assert bad.status_code == 422 and 'id="error-geometry"' in bad.text and "坏地块" in bad.text
    geometry = json.dumps(mapping(square(world.lon, world.lat)))
    r = client.post(
        "/village/bases/new",
        data={"csrf_token": csrf, "entity_id": str(world.farm_id), "name": "新茶园", "facility": "tea_garden",
              "product_codes": ["tea_fresh"], "geometry": geometry},
        follow_redirects=False,
    )  # fmt: skip
    assert r.status_code == 303, r.text
    page = client.get(r.headers["location"])
    assert page.status_code == 200 and "新茶园" in page.text and "茶鲜叶" in page.text
    assert "tea_garden" not in page.text.replace('value="tea_garden"', "")
    with db.unit_of_work() as s:
        b = s.scalar(select(ProductionBase).where(ProductionBase.name == "新茶园"))
        assert b is not None and b.product_codes == ["tea_fresh"]
    assert client.get(f"/village/bases/{b.id}/edit").status_code == 200
    assert client.get(f"/village/bases/new?entity={world.other_id}").status_code == 404


def test_import_page_reports(client, world: ProducerWorld) -> None:
    csrf = factories.login(client, world.farmer)
    assert client.get(f"/village/bases/import?entity={world.farm_id}").status_code == 200
    fc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"名称": "菊米地", "设施": "露地", "品种": "chrysanthemum_rice"},
         "geometry": mapping(square(world.lon + 0.002, world.lat))}]}  # fmt: skip
    r = client.post(
        "/village/bases/import",
        data={"csrf_token": csrf, "entity_id": str(world.farm_id)},
        files={"file": ("b.geojson", json.dumps(fc).encode(), "application/geo+json")},
    )
    assert r.status_code == 200 and "菊米地" in r.text
    fc["features"][0]["properties"]["设施"] = "月球"
    r = client.post(
        "/village/bases/import",
        data={"csrf_token": csrf, "entity_id": str(world.farm_id)},
        files={"file": ("b.geojson", json.dumps(fc).encode(), "application/geo+json")},
    )
    assert r.status_code == 422 and "row 1" in r.text


def test_the_producers_home_and_who_may_see_what(client, world: ProducerWorld) -> None:
    factories.login(client, world.farmer)
    home = client.get("/village/my")
    assert home.status_code == 200
    for link in ("/village/records/new", "/village/batches/new", "/village/market/supply"):
        assert link in home.text
    assert "叶家家庭农场" in home.text and "大田村1号大棚" in home.text
    assert client.get("/village/producers").status_code == 403  # the register is the bureau's
    assert client.get(f"/village/producers/{world.farm_id}").status_code == 200
    assert client.get(f"/village/bases/{world.base_id}").status_code == 200
    client.cookies.clear()
    factories.login(client, world.other)
    assert client.get(f"/village/bases/{world.base_id}").status_code == 404
    client.cookies.clear()
    factories.login(client, world.leader)
    assert client.get("/village/producers").status_code == 200
    page = client.get(f"/village/producers/{world.farm_id}")
    assert page.status_code == 200 and "/edit" not in page.text


def test_pages_read_as_words(client, db: Database, world: ProducerWorld) -> None:
    from tests.web.visible import raw_marks, visible_text

    with db.unit_of_work() as s:
        producers.add_certification(
            s, actor=BUREAU, entity_id=world.farm_id,
            body=CertificationIn(kind=CertKind.GREEN, number="LB-9", issuer="中国绿色食品发展中心",
                                 product_codes=["tomato"], valid_from=date(2020, 1, 1), valid_to=date(2021, 1, 1)),
        )  # fmt: skip
    pages = [
        "/village/producers", "/village/producers?group=producer&cert=green", f"/village/producers/{world.farm_id}",
        f"/village/producers/{world.other_id}", f"/village/producers/{world.farm_id}/edit", "/village/producers/new",
        f"/village/bases/{world.base_id}", f"/village/bases/{world.base_id}/edit",
        f"/village/bases/new?entity={world.farm_id}", f"/village/bases/import?entity={world.farm_id}", "/village/my",
    ]  # fmt: skip
    factories.login(client, world.officer)
    for url in pages:
        r = client.get(url)
        assert r.status_code == 200, url
        marks = raw_marks(visible_text(r.text), codes=("family_farm", "greenhouse", "green", "open"))
        assert not marks, (url, marks)
