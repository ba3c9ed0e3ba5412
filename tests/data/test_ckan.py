"""The CKAN action API and the DCAT catalogue, read by unmodified clients: ``ckanapi`` against the running
server, rdflib on the catalogue; columns not marked open never leave."""

from __future__ import annotations

import json

import ckanapi
import pytest
from rdflib import Graph, Namespace
from rdflib.namespace import RDF

from countyos.data.schemas import ActionIn
from countyos.data.service import catalogue
from tests.data.conftest import BUREAU, entry
from tests.data.test_catalogue_and_loads import GOOD
from tests.live import serve

DCAT = Namespace("http://www.w3.org/ns/dcat#")


@pytest.fixture
def published(db, office, tmp_path):
    """企业登记信息 loaded and published (open), a second open entry without rows, a closed one."""
    from countyos.data import flows

    with db.unit_of_work() as s:
        res = catalogue.create(s, actor=BUREAU, data=entry(office.market))
        meta_only = catalogue.create(
            s,
            actor=BUREAU,
            data=entry(
                office.other,
                name="xuexiao-minglu",
                code="331123-JYJ-0001",
                title="学校名录",
                summary="全县中小学和幼儿园的名称、地址和学段",
                themes=["教育文化"],
                keywords=["学校"],
            ),
        )
        closed = catalogue.create(
            s,
            actor=BUREAU,
            data=entry(
                office.market,
                name="dibao",
                code="331123-MZ-0001",
                title="低保对象",
                open_type="closed",
                share_type="conditional",
                share_condition="仅用于社会救助核查",
            ),
        )
        ids = res.id, meta_only.id, closed.id
    path = tmp_path / "qy.csv"
    path.write_text(GOOD, encoding="utf-8")
    assert (
        flows.load_path(db, actor=BUREAU, resource_id=ids[0], path=path, filename="qy.csv", skip_bad_rows=False).state
        == "loaded"
    )
    with db.unit_of_work() as s:
        for rid in ids:
            for action in ("submit", "approve"):
                version = catalogue.get(s, rid).version
                catalogue.act(s, actor=BUREAU, resource_id=rid, data=ActionIn(action=action, version=version))
    return ids


@pytest.fixture
def live(app):
    with serve(app) as url:
        yield url


def test_ckanapi_lists_searches_and_reads_rows(published, live) -> None:
    ckan = ckanapi.RemoteCKAN(live, user_agent="ckanapi-test/1.0")
    assert ckan.action.package_list() == ["qiye-dengji", "xuexiao-minglu"]  # the closed one is not listed
    found = ckan.action.package_search(q="企业", rows=5, **{"facet.field": ["organization", "groups"]})
    assert found["count"] == 1 and found["results"][0]["title"] == "企业登记信息"
    assert found["search_facets"]["groups"]["items"][0]["display_name"] == "市场监管"
    org = found["results"][0]["organization"]["name"]
    assert ckan.action.package_search(fq=f"organization:{org}")["count"] == 1
    assert ckan.action.package_search(fq="res_format:CSV")["count"] == 1
    pkg = ckan.action.package_show(id="qiye-dengji")
    assert {r["format"] for r in pkg["resources"]} == {"CSV", "XLSX", "JSON"}
    assert ckan.action.package_show(id="xuexiao-minglu")["resources"] == []
    rid = pkg["resources"][0]["id"]
    rows = ckan.action.datastore_search(resource_id=rid, filters={"uscc": "91331123MA2000002M"}, sort="founded desc")
    assert (
        rows["total"] == 1 and rows["records"][0]["name"] == "乙公司" and rows["records"][0]["founded"] == "2021-06-02"
    )
    assert [f["id"] for f in rows["fields"]] == ["_id", "name", "uscc", "founded"]  # legal_person is not open
    assert all("legal_person" not in r for r in rows["records"])
    with pytest.raises(ckanapi.ValidationError):
        ckan.action.datastore_search(resource_id=rid, fields=["legal_person"])
    with pytest.raises(ckanapi.ValidationError):
        ckan.action.datastore_search(resource_id=rid, filters={"legal_person": "张三"})
    with pytest.raises(ckanapi.NotFound):
        ckan.action.package_show(id="dibao")
    assert ckan.action.organization_list() and "市场监管" in [
        g["title"] for g in ckan.action.group_list(all_fields=True)
    ]
    assert ckan.action.tag_list() == ["学校", "企业", "登记"] or set(ckan.action.tag_list()) == {"学校", "企业", "登记"}


def test_get_and_both_prefixes_and_unknown_actions(client, published) -> None:
    r = client.get("/api/action/package_search", params={"q": "学校", "rows": "1"})
    assert r.status_code == 200 and r.json()["success"] and r.json()["result"]["count"] == 1
    r = client.get("/api/3/action/datastore_search", params={"resource_id": "nope"})
    assert r.status_code == 404 and r.json()["error"]["__type"] == "Not Found Error"
    r = client.get("/api/3/action/package_create")
    assert r.status_code == 400 and r.json()["success"] is False
    r = client.get("/api/3/action/package_search", params={"rows": "100000"})
    assert r.status_code == 409 and r.json()["error"]["__type"] == "Validation Error"


def test_dcat_catalogue_parses_and_every_dataset_has_a_distribution(client, published) -> None:
    for path, fmt in (("/catalog.jsonld", "json-ld"), ("/catalog.ttl", "turtle")):
        r = client.get(path)
        assert r.status_code == 200
        g = Graph().parse(data=r.content, format=fmt)
        datasets = set(g.subjects(RDF.type, DCAT.Dataset))
        assert len(datasets) == 2
        for ds in datasets:
            assert list(g.objects(ds, DCAT.distribution))
        assert "低保" not in r.text and "张三" not in r.text
    json.loads(client.get("/catalog.jsonld").content)
