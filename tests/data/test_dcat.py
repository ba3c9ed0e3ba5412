"""The open-data catalogue as DCAT 3: both serializations read back to the same graph, with every
package a dataset that has a distribution, Chinese titles tagged @zh and the EU frequency/access URIs."""

from __future__ import annotations

from typing import Any

import pytest
from rdflib import RDF, Graph, Literal, Namespace, URIRef
from rdflib.compare import isomorphic

from countyos.data.codes import OpenType, UpdateCycle
from countyos.data.service.dcat import catalogue_graph, serialize

# rdflib's own JSON-LD parser (reading back, not the code under test) still builds a ConjunctiveGraph.
pytestmark = pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")

# The vocabularies spelled out here, not taken from the module under test.
DCAT = Namespace("http://www.w3.org/ns/dcat#")
DCTERMS = Namespace("http://purl.org/dc/terms/")
FOAF = Namespace("http://xmlns.com/foaf/0.1/")
SKOS = Namespace("http://www.w3.org/2004/02/skos/core#")
XSD = Namespace("http://www.w3.org/2001/XMLSchema#")
SITE = "https://open.example.gov.cn"
FREQUENCY = "http://publications.europa.eu/resource/authority/frequency/"
ACCESS_RIGHT = "http://publications.europa.eu/resource/authority/access-right/"
ODD_TITLE = '空气质量 "AQI" <script>alert(1)</script> 😀\n第二行\t\'单引号\' 反斜杠\\ 结尾引号"'
EXPECTED_FREQUENCY = {
    UpdateCycle.REALTIME: "UPDATE_CONT",
    UpdateCycle.DAILY: "DAILY",
    UpdateCycle.WEEKLY: "WEEKLY",
    UpdateCycle.MONTHLY: "MONTHLY",
    UpdateCycle.QUARTERLY: "QUARTERLY",
    UpdateCycle.HALF_YEARLY: "ANNUAL_2",
    UpdateCycle.YEARLY: "ANNUAL",
    UpdateCycle.IRREGULAR: "IRREG",
    UpdateCycle.OTHER: "OTHER",
}


def extras(**values: str) -> list[dict[str, str]]:
    return [{"key": key, "value": value} for key, value in values.items()]


def packages(cycle: UpdateCycle) -> list[dict[str, Any]]:
    bare = {"id": "5c0c1d35-0d3e-4a3e-9f1e-000000000001", "name": "bus-stops", "title": "公交站点"}
    odd = {
        "id": "5c0c1d35-0d3e-4a3e-9f1e-000000000002",
        "name": "air-quality",
        "title": ODD_TITLE,
        "notes": '每小时更新的空气质量数据。\r\n含 <b>HTML</b> & "引号"\x07',
        "url": "",
        "license_id": "cc-by",
        "license_title": "Creative Commons Attribution",
        "license_url": "http://www.opendefinition.org/licenses/cc-by",
        "metadata_created": "2024-05-01T08:00:00.123456",
        "metadata_modified": "2024-06-01T09:30:00",
        "organization": {"id": "o-eco", "name": "eco", "title": "县生态环境局", "description": "生态 <环境>"},
        "tags": [{"name": "空气"}, {"name": "PM2.5 😷"}],
        "groups": [{"name": "environment", "title": "生态环境"}],
        "resources": [
            {
                "id": "r-csv",
                "name": '2024年 数据 "全"',
                "description": "逐时",
                "format": "CSV",
                "url": "https://open.example.gov.cn/files/空气 2024.csv?a=<1>",
                "mimetype": None,
                "size": 1234,
                "created": "2024-05-01T08:00:00",
                "last_modified": None,
                "datastore_active": True,
            },
            {"id": "r-geo", "name": "站点", "format": "GeoJSON", "url": "https://open.example.gov.cn/files/s.geojson"},
        ],
        "extras": extras(
            resource_code="331122000000/00001",
            update_cycle=UpdateCycle.REALTIME.value,
            open_type=OpenType.CONDITIONAL.value,
            open_condition="实名注册后申请",
            published_at="2024-05-02",
            provider_code="11331122002638123X",
            spatial="某县",
            grade="general",
        ),
    }
    cyclic = {
        "id": "5c0c1d35-0d3e-4a3e-9f1e-000000000003",
        "name": "traffic-flow",
        "title": "路口车流量",
        "notes": "各路口车流量统计",
        "metadata_created": "2024-01-01T00:00:00",
        "metadata_modified": "2024-02-01T00:00:00",
        "organization": {"id": "o-traffic", "name": "traffic", "title": "县交通运输局"},
        "tags": [{"name": "交通"}],
        "groups": [{"name": "transport", "title": "交通运输"}, {"name": "environment", "title": "生态环境"}],
        "resources": [
            {"id": "r-xlsx", "name": "车流量", "format": "XLSX", "url": "https://open.example.gov.cn/files/flow.xlsx"}
        ],
        "extras": extras(update_cycle=cycle.value, open_type=OpenType.UNCONDITIONAL.value),
    }
    return [bare, odd, cyclic]


def read_back(cycle: UpdateCycle) -> tuple[Graph, Graph]:
    graph = catalogue_graph(
        packages=packages(cycle),
        site_url=SITE + "/",
        title="某县公共数据开放平台",
        description="本县政务数据开放目录",
        publisher_name="某县大数据发展中心",
    )
    turtle = Graph().parse(data=serialize(graph, "turtle"), format="turtle")
    jsonld = Graph().parse(data=serialize(graph, "json-ld"), format="json-ld")
    return turtle, jsonld


def dataset(name: str) -> URIRef:
    return URIRef(f"{SITE}/open/datasets/{name}")


@pytest.mark.parametrize("cycle", list(UpdateCycle))
def test_catalogue_reads_back_the_same_from_json_ld_and_turtle(cycle: UpdateCycle) -> None:
    turtle, jsonld = read_back(cycle)
    assert isomorphic(turtle, jsonld)
    for g in (turtle, jsonld):
        catalogues = list(g.subjects(RDF.type, DCAT.Catalog))
        assert catalogues == [URIRef(f"{SITE}/open#catalogue")]
        catalogue = catalogues[0]
        assert set(g.objects(catalogue, DCTERMS.title)) == {Literal("某县公共数据开放平台", lang="zh")}
        publisher = g.value(catalogue, DCTERMS.publisher)
        assert (publisher, RDF.type, FOAF.Agent) in g
        assert g.value(publisher, FOAF.name) == Literal("某县大数据发展中心", lang="zh")
        assert g.value(catalogue, FOAF.homepage) == URIRef(f"{SITE}/open")

        names = ["bus-stops", "air-quality", "traffic-flow"]
        assert set(g.objects(catalogue, DCAT.dataset)) == {dataset(n) for n in names}
        assert set(g.subjects(RDF.type, DCAT.Dataset)) == {dataset(n) for n in names}
        for name in names:
            distributions = list(g.objects(dataset(name), DCAT.distribution))
            assert distributions, name
            for dist in distributions:
                assert (dist, RDF.type, DCAT.Distribution) in g
                assert g.value(dist, DCAT.accessURL) is not None

        assert g.value(dataset("air-quality"), DCTERMS.title) == Literal(ODD_TITLE, lang="zh")
        assert g.value(dataset("traffic-flow"), DCTERMS.title) == Literal("路口车流量", lang="zh")
        assert g.value(dataset("bus-stops"), DCTERMS.title) == Literal("公交站点", lang="zh")

        periodicity = g.value(dataset("traffic-flow"), DCTERMS.accrualPeriodicity)
        assert periodicity == URIRef(FREQUENCY + EXPECTED_FREQUENCY[cycle])
        assert (periodicity, RDF.type, DCTERMS.Frequency) in g
        assert g.value(dataset("air-quality"), DCTERMS.accrualPeriodicity) == URIRef(FREQUENCY + "UPDATE_CONT")
        assert g.value(dataset("bus-stops"), DCTERMS.accrualPeriodicity) is None

        publishers = {name: g.value(g.value(dataset(name), DCTERMS.publisher), FOAF.name) for name in names}
        assert publishers == {
            "bus-stops": None,
            "air-quality": Literal("县生态环境局", lang="zh"),
            "traffic-flow": Literal("县交通运输局", lang="zh"),
        }
        eco = URIRef(f"{SITE}/open/organizations/eco")
        assert g.value(eco, DCTERMS.identifier) == Literal("11331122002638123X")

        taxonomy = g.value(catalogue, DCAT.themeTaxonomy)
        assert (taxonomy, RDF.type, SKOS.ConceptScheme) in g
        themes = {theme for name in names for theme in g.objects(dataset(name), DCAT.theme)}
        assert themes == {URIRef(f"{SITE}/open/themes/environment"), URIRef(f"{SITE}/open/themes/transport")}
        for theme in themes:
            assert (theme, RDF.type, SKOS.Concept) in g
            assert (theme, SKOS.inScheme, taxonomy) in g
        assert g.value(URIRef(f"{SITE}/open/themes/transport"), SKOS.prefLabel) == Literal("交通运输", lang="zh")


def test_dataset_fields_map_to_dcat_and_the_eu_authority_tables() -> None:
    g, _ = read_back(UpdateCycle.MONTHLY)
    air = dataset("air-quality")
    assert g.value(air, DCTERMS.identifier) == Literal("331122000000/00001")
    assert g.value(dataset("bus-stops"), DCTERMS.identifier) == Literal("5c0c1d35-0d3e-4a3e-9f1e-000000000001")
    assert g.value(air, DCTERMS.description) == Literal(
        '每小时更新的空气质量数据。\r\n含 <b>HTML</b> & "引号"', lang="zh"
    )
    assert set(g.objects(air, DCAT.keyword)) == {Literal("空气", lang="zh"), Literal("PM2.5 😷", lang="zh")}
    assert g.value(air, DCTERMS.issued) == Literal("2024-05-02", datatype=XSD.date)
    assert g.value(air, DCTERMS.modified) == Literal("2024-06-01T09:30:00+00:00", datatype=XSD.dateTime)
    assert g.value(dataset("traffic-flow"), DCTERMS.issued) == Literal(
        "2024-01-01T00:00:00+00:00", datatype=XSD.dateTime
    )
    assert g.value(air, DCTERMS.accessRights) == URIRef(ACCESS_RIGHT + "RESTRICTED")
    assert g.value(dataset("traffic-flow"), DCTERMS.accessRights) == URIRef(ACCESS_RIGHT + "PUBLIC")
    assert g.value(g.value(air, DCTERMS.rights), DCTERMS.description) == Literal("实名注册后申请", lang="zh")
    assert g.value(g.value(air, DCTERMS.spatial), SKOS.prefLabel) == Literal("某县", lang="zh")
    licence = URIRef("http://www.opendefinition.org/licenses/cc-by")
    assert g.value(air, DCTERMS.license) == licence
    assert g.value(air, DCAT.landingPage) == air  # an empty CKAN url: the portal's page of the dataset


def test_resources_become_distributions_with_iana_media_types() -> None:
    g, _ = read_back(UpdateCycle.MONTHLY)
    csv = URIRef(f"{SITE}/open/datasets/air-quality/resources/r-csv")
    download = URIRef(f"{SITE}/files/%E7%A9%BA%E6%B0%94%202024.csv?a=%3C1%3E")
    assert g.value(csv, DCAT.downloadURL) == download
    assert g.value(csv, DCAT.accessURL) == download
    assert g.value(csv, DCTERMS.title) == Literal('2024年 数据 "全"', lang="zh")
    assert g.value(csv, DCAT.mediaType) == URIRef("https://www.iana.org/assignments/media-types/text/csv")
    assert g.value(csv, DCTERMS["format"]) == URIRef("http://publications.europa.eu/resource/authority/file-type/CSV")
    assert g.value(csv, DCAT.byteSize) == Literal("1234", datatype=XSD.nonNegativeInteger)
    assert g.value(csv, DCTERMS.license) == URIRef("http://www.opendefinition.org/licenses/cc-by")
    assert g.value(csv, DCTERMS.issued) == Literal("2024-05-01T08:00:00+00:00", datatype=XSD.dateTime)
    assert g.value(csv, DCTERMS.modified) is None
    geo = URIRef(f"{SITE}/open/datasets/air-quality/resources/r-geo")
    assert g.value(geo, DCAT.mediaType) == URIRef("https://www.iana.org/assignments/media-types/application/geo+json")
    assert g.value(geo, DCAT.byteSize) is None
    xlsx = URIRef(f"{SITE}/open/datasets/traffic-flow/resources/r-xlsx")
    assert str(g.value(xlsx, DCAT.mediaType)).endswith(
        "/application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )


def test_a_package_without_resources_gets_its_landing_page_as_the_one_distribution() -> None:
    g, _ = read_back(UpdateCycle.MONTHLY)
    (only,) = g.objects(dataset("bus-stops"), DCAT.distribution)
    assert g.value(only, DCAT.accessURL) == dataset("bus-stops") == g.value(dataset("bus-stops"), DCAT.landingPage)
    assert g.value(only, DCAT.downloadURL) is None


def test_missing_and_malformed_optional_keys_are_left_out() -> None:
    package = {
        "id": "x",
        "name": "odd name/中文",
        "organization": None,
        "tags": None,
        "groups": [{"title": "no name"}],
        "resources": [{"format": "PDF", "url": "javascript:alert(1)", "size": -5}],
        "extras": [{"key": "update_cycle", "value": "fortnightly"}, {"key": "open_type", "value": None}, "junk"],
        "metadata_created": "not a date",
    }
    graph = catalogue_graph(packages=[package], site_url=SITE, title="t", description="", publisher_name="p")
    g = Graph().parse(data=serialize(graph, "turtle"), format="turtle")
    ds = URIRef(f"{SITE}/open/datasets/odd%20name%2F%E4%B8%AD%E6%96%87")
    assert (ds, RDF.type, DCAT.Dataset) in g
    assert g.value(ds, DCTERMS.title) == Literal("odd name/中文", lang="zh")
    for predicate in (DCTERMS.accrualPeriodicity, DCTERMS.accessRights, DCTERMS.issued, DCTERMS.publisher, DCAT.theme):
        assert g.value(ds, predicate) is None, predicate
    (dist,) = g.objects(ds, DCAT.distribution)
    assert g.value(dist, DCAT.downloadURL) is None
    assert g.value(dist, DCAT.accessURL) == ds
    assert g.value(dist, DCTERMS["format"]) == Literal("PDF")
    assert g.value(dist, DCAT.byteSize) is None
    with pytest.raises(ValueError):
        catalogue_graph(packages=[{"title": "无名"}], site_url=SITE, title="t", description="", publisher_name="p")
