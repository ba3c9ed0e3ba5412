"""The county's open-data catalogue as DCAT 3 (W3C Data Catalog Vocabulary, version 3), JSON-LD or Turtle.

Built with rdflib from CKAN-shaped package dicts (what the CKAN action API ``package_show`` returns), so
harvesters that speak DCAT (data.gov.cn-style portals, CKAN with ckanext-dcat, the European data portal)
can read the catalogue without knowing our tables. The mapping follows ckanext-dcat's
``EuropeanDCATAP3Profile`` (DCAT-AP 3) in small: ``dcat:Catalog`` → ``dcat:Dataset`` →
``dcat:Distribution``, publishers as ``foaf:Agent``, themes (the Chinese 主题 list, CKAN groups) as
``skos:Concept`` in one ``skos:ConceptScheme`` named by ``dcat:themeTaxonomy``.

Vocabularies: DCAT 3, DCMI Terms, FOAF, SKOS, vCard (contact points), XSD datatypes; the EU Publications
Office authority tables for frequency (更新周期 → ``dct:accrualPeriodicity``), access right
(开放类型 → ``dct:accessRights``), file type (``dct:format``) and language; IANA media types
(``dcat:mediaType``). Our catalogue fields (政务信息资源目录) travel in the package's ``extras``:
信息资源代码 becomes ``dct:identifier``, 信息资源提供方代码 (统一社会信用代码) the publisher's
``dct:identifier``, 开放条件 a ``dct:rights`` statement, 发布日期 ``dct:issued``. 数据分级 (``grade``)
has no DCAT term and stays out.

Pure: no database, no web. Nothing is bounded here; the caller limits the packages.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any, Literal, TypeVar
from urllib.parse import quote

from rdflib import BNode, Graph, Namespace, URIRef
from rdflib import Literal as RDFLiteral
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, SKOS, XSD

from countyos.data.codes import OpenType, UpdateCycle

VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
FREQUENCY = Namespace("http://publications.europa.eu/resource/authority/frequency/")
ACCESS_RIGHT = Namespace("http://publications.europa.eu/resource/authority/access-right/")
FILE_TYPE = Namespace("http://publications.europa.eu/resource/authority/file-type/")
LANGUAGE = Namespace("http://publications.europa.eu/resource/authority/language/")
IANA_MEDIA_TYPES = "https://www.iana.org/assignments/media-types/"

ACCRUAL_PERIODICITY: dict[UpdateCycle, URIRef] = {
    UpdateCycle.REALTIME: FREQUENCY.UPDATE_CONT,
    UpdateCycle.DAILY: FREQUENCY.DAILY,
    UpdateCycle.WEEKLY: FREQUENCY.WEEKLY,
    UpdateCycle.MONTHLY: FREQUENCY.MONTHLY,
    UpdateCycle.QUARTERLY: FREQUENCY.QUARTERLY,
    UpdateCycle.HALF_YEARLY: FREQUENCY.ANNUAL_2,
    UpdateCycle.YEARLY: FREQUENCY.ANNUAL,
    UpdateCycle.IRREGULAR: FREQUENCY.IRREG,
    UpdateCycle.OTHER: FREQUENCY.OTHER,
}

ACCESS_RIGHTS: dict[OpenType, URIRef] = {
    OpenType.UNCONDITIONAL: ACCESS_RIGHT.PUBLIC,
    OpenType.CONDITIONAL: ACCESS_RIGHT.RESTRICTED,
    OpenType.CLOSED: ACCESS_RIGHT.NON_PUBLIC,
}

# CKAN ``format`` (upper-cased) → (EU file-type code, IANA media type).
FORMATS: dict[str, tuple[str, str]] = {
    "CSV": ("CSV", "text/csv"),
    "XLSX": ("XLSX", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "XLS": ("XLS", "application/vnd.ms-excel"),
    "JSON": ("JSON", "application/json"),
    "GEOJSON": ("GEOJSON", "application/geo+json"),
    "XML": ("XML", "application/xml"),
    "ZIP": ("ZIP", "application/zip"),
}

LANGUAGES = {"zh": "ZHO", "en": "ENG"}

JSONLD_CONTEXT: dict[str, str] = {
    "dcat": str(DCAT),
    "dct": str(DCTERMS),
    "foaf": str(FOAF),
    "skos": str(SKOS),
    "xsd": str(XSD),
    "vcard": str(VCARD),
}

_Code = TypeVar("_Code", UpdateCycle, OpenType)

_NOT_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_MEDIA_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$")
# Printable ASCII allowed in an IRI; everything else (space, <>"{}|\^`, non-ASCII) is percent-encoded.
_URI_SAFE = "!#$%&'()*+,-./:;=?@[]_~"


def catalogue_graph(
    *,
    packages: Sequence[Mapping[str, Any]],
    site_url: str,
    title: str,
    description: str,
    publisher_name: str,
    language: str = "zh",
) -> Graph:
    """The DCAT 3 graph of the open-data catalogue: one ``dcat:Catalog`` and a ``dcat:Dataset`` per package."""
    builder = _Builder(site_url=site_url.rstrip("/"), language=language)
    return builder.build(packages, title=title, description=description, publisher_name=publisher_name)


def serialize(graph: Graph, fmt: Literal["json-ld", "turtle"]) -> bytes:
    """The graph as UTF-8 JSON-LD (compacted with the dcat/dct/foaf/skos/xsd/vcard context) or Turtle."""
    if fmt == "json-ld":
        return graph.serialize(format="json-ld", context=JSONLD_CONTEXT, auto_compact=True, encoding="utf-8")
    if fmt == "turtle":
        return graph.serialize(format="turtle", encoding="utf-8")
    raise ValueError(f"unknown DCAT serialization: {fmt!r}")


class _Builder:
    def __init__(self, *, site_url: str, language: str) -> None:
        self.site = site_url
        self.lang = language.replace("_", "-")
        self.g = Graph(bind_namespaces="core")
        for prefix, namespace in JSONLD_CONTEXT.items():
            self.g.bind(prefix, namespace, override=True, replace=True)
        self.catalogue = URIRef(f"{site_url}/open#catalogue")
        self.themes = URIRef(f"{site_url}/open/themes")
        self.places: dict[str, BNode] = {}

    def build(
        self, packages: Iterable[Mapping[str, Any]], *, title: str, description: str, publisher_name: str
    ) -> Graph:
        g, cat = self.g, self.catalogue
        g.add((cat, RDF.type, DCAT.Catalog))
        self._add_text(cat, DCTERMS.title, title)
        self._add_text(cat, DCTERMS.description, description)
        publisher = URIRef(f"{self.site}/open#publisher")
        g.add((publisher, RDF.type, FOAF.Agent))
        self._add_text(publisher, FOAF.name, publisher_name)
        g.add((cat, DCTERMS.publisher, publisher))
        homepage = URIRef(f"{self.site}/open")
        g.add((homepage, RDF.type, FOAF.Document))
        g.add((cat, FOAF.homepage, homepage))
        g.add((cat, DCTERMS.language, self._language()))
        g.add((self.themes, RDF.type, SKOS.ConceptScheme))
        g.add((self.themes, DCTERMS.title, RDFLiteral("主题分类", lang="zh")))
        g.add((cat, DCAT.themeTaxonomy, self.themes))
        for package in packages:
            g.add((cat, DCAT.dataset, self._dataset(package)))
        return g

    def _dataset(self, pkg: Mapping[str, Any]) -> URIRef:
        g = self.g
        slug = _text(pkg.get("name")) or _text(pkg.get("id"))
        if slug is None:
            raise ValueError("a package has neither name nor id")
        ds = URIRef(f"{self.site}/open/datasets/{_segment(slug)}")
        extras = _extras(pkg)
        g.add((ds, RDF.type, DCAT.Dataset))
        identifier = _text(extras.get("resource_code")) or _text(pkg.get("id")) or slug
        g.add((ds, DCTERMS.identifier, RDFLiteral(identifier)))
        self._add_text(ds, DCTERMS.title, pkg.get("title") or slug)
        self._add_text(ds, DCTERMS.description, pkg.get("notes"))
        g.add((ds, DCTERMS.language, self._language()))
        for tag in _dicts(pkg.get("tags")):
            self._add_text(ds, DCAT.keyword, tag.get("name"))
        for group in _dicts(pkg.get("groups")):
            theme = self._theme(group)
            if theme is not None:
                g.add((ds, DCAT.theme, theme))
        organization = pkg.get("organization")
        if isinstance(organization, Mapping):
            agent = self._organization(organization, provider_code=extras.get("provider_code"))
            if agent is not None:
                g.add((ds, DCTERMS.publisher, agent))
        self._contact_point(ds, pkg)
        self._add_date(ds, DCTERMS.issued, extras.get("published_at") or pkg.get("metadata_created"))
        self._add_date(ds, DCTERMS.modified, pkg.get("metadata_modified"))
        frequency = _enum(UpdateCycle, extras.get("update_cycle"))
        if frequency is not None:
            g.add((ds, DCTERMS.accrualPeriodicity, ACCRUAL_PERIODICITY[frequency]))
            g.add((ACCRUAL_PERIODICITY[frequency], RDF.type, DCTERMS.Frequency))
        open_type = _enum(OpenType, extras.get("open_type"))
        if open_type is not None:
            g.add((ds, DCTERMS.accessRights, ACCESS_RIGHTS[open_type]))
            g.add((ACCESS_RIGHTS[open_type], RDF.type, DCTERMS.RightsStatement))
        condition = _text(extras.get("open_condition"))
        if condition is not None:
            rights = BNode()
            g.add((rights, RDF.type, DCTERMS.RightsStatement))
            self._add_text(rights, DCTERMS.description, condition)
            g.add((ds, DCTERMS.rights, rights))
        place = _text(extras.get("spatial"))
        if place is not None:
            g.add((ds, DCTERMS.spatial, self._place(place)))
        licence = self._licence(pkg)
        if licence is not None:
            g.add((ds, DCTERMS.license, licence))
        landing_page = _web_uri(pkg.get("url")) or ds  # our dataset URI is its page on the portal
        if landing_page != ds:
            g.add((landing_page, RDF.type, FOAF.Document))
        g.add((ds, DCAT.landingPage, landing_page))
        resources = _dicts(pkg.get("resources"))
        for number, resource in enumerate(resources, start=1):
            key = _text(resource.get("id")) or str(number)
            g.add((ds, DCAT.distribution, self._distribution(ds, key, resource, licence, landing_page)))
        if not resources:
            page = URIRef(f"{ds}#page")
            g.add((page, RDF.type, DCAT.Distribution))
            g.add((page, DCAT.accessURL, landing_page))
            if licence is not None:
                g.add((page, DCTERMS.license, licence))
            g.add((ds, DCAT.distribution, page))
        return ds

    def _distribution(
        self, ds: URIRef, key: str, res: Mapping[str, Any], licence: URIRef | None, landing_page: URIRef
    ) -> URIRef:
        g = self.g
        dist = URIRef(f"{ds}/resources/{_segment(key)}")
        g.add((dist, RDF.type, DCAT.Distribution))
        self._add_text(dist, DCTERMS.title, res.get("name"))
        self._add_text(dist, DCTERMS.description, res.get("description"))
        url = _web_uri(res.get("url"))
        if url is not None:
            g.add((dist, DCAT.downloadURL, url))
        g.add((dist, DCAT.accessURL, url or landing_page))
        fmt = (_text(res.get("format")) or "").upper()
        file_type, media_type = FORMATS.get(fmt, (None, None))
        if file_type is not None:
            g.add((dist, DCTERMS["format"], FILE_TYPE[file_type]))
            g.add((FILE_TYPE[file_type], RDF.type, DCTERMS.MediaTypeOrExtent))
        elif fmt:
            g.add((dist, DCTERMS["format"], RDFLiteral(fmt)))
        mimetype = (_text(res.get("mimetype")) or "").lower()
        media_type = mimetype if _MEDIA_TYPE.match(mimetype) else media_type
        if media_type is not None:
            media = URIRef(IANA_MEDIA_TYPES + media_type)
            g.add((dist, DCAT.mediaType, media))
            g.add((media, RDF.type, DCTERMS.MediaType))
        size = _byte_size(res.get("size"))
        if size is not None:
            g.add((dist, DCAT.byteSize, RDFLiteral(str(size), datatype=XSD.nonNegativeInteger)))
        if licence is not None:
            g.add((dist, DCTERMS.license, licence))
        self._add_date(dist, DCTERMS.issued, res.get("created"))
        self._add_date(dist, DCTERMS.modified, res.get("last_modified"))
        return dist

    def _theme(self, group: Mapping[str, Any]) -> URIRef | None:
        name = _text(group.get("name"))
        if name is None:
            return None
        concept = URIRef(f"{self.site}/open/themes/{_segment(name)}")
        if (concept, RDF.type, SKOS.Concept) not in self.g:
            self.g.add((concept, RDF.type, SKOS.Concept))
            self._add_text(concept, SKOS.prefLabel, group.get("title") or name)
            self.g.add((concept, SKOS.inScheme, self.themes))
            self.g.add((self.themes, SKOS.hasTopConcept, concept))
        return concept

    def _organization(self, org: Mapping[str, Any], *, provider_code: Any) -> URIRef | None:
        name = _text(org.get("name")) or _text(org.get("id"))
        if name is None:
            return None
        agent = URIRef(f"{self.site}/open/organizations/{_segment(name)}")
        if (agent, RDF.type, FOAF.Agent) not in self.g:
            self.g.add((agent, RDF.type, FOAF.Agent))
            self._add_text(agent, FOAF.name, org.get("title") or name)
        code = _text(provider_code)
        if code is not None:
            self.g.add((agent, DCTERMS.identifier, RDFLiteral(code)))
        return agent

    def _contact_point(self, ds: URIRef, pkg: Mapping[str, Any]) -> None:
        name = _text(pkg.get("maintainer"))
        email = _text(pkg.get("maintainer_email"))
        if name is None and email is None:
            return
        contact = BNode()
        self.g.add((contact, RDF.type, VCARD.Kind))
        self._add_text(contact, VCARD.fn, name)
        if email is not None and "@" in email:
            self.g.add((contact, VCARD.hasEmail, URIRef("mailto:" + quote(email, safe="@.+-_"))))
        self.g.add((ds, DCAT.contactPoint, contact))

    def _licence(self, pkg: Mapping[str, Any]) -> URIRef | None:
        licence = _web_uri(pkg.get("license_url"))
        if licence is not None:
            self.g.add((licence, RDF.type, DCTERMS.LicenseDocument))
            title = _text(pkg.get("license_title"))  # licence names are not in the catalogue's language
            if title is not None:
                self.g.add((licence, DCTERMS.title, RDFLiteral(title)))
        return licence

    def _place(self, name: str) -> BNode:
        if name not in self.places:
            place = self.places[name] = BNode()
            self.g.add((place, RDF.type, DCTERMS.Location))
            self._add_text(place, SKOS.prefLabel, name)
        return self.places[name]

    def _language(self) -> URIRef:
        code = LANGUAGES.get(self.lang.split("-")[0].lower())
        return LANGUAGE[code] if code else URIRef(f"http://id.loc.gov/vocabulary/iso639-1/{_segment(self.lang)}")

    def _add_text(self, subject: URIRef | BNode, predicate: URIRef, value: Any) -> None:
        text = _text(value)
        if text is not None:
            self.g.add((subject, predicate, RDFLiteral(text, lang=self.lang)))

    def _add_date(self, subject: URIRef, predicate: URIRef, value: Any) -> None:
        literal = _date_literal(value)
        if literal is not None:
            self.g.add((subject, predicate, literal))


def _text(value: Any) -> str | None:
    """Text fit for RDF: no characters XML 1.0 forbids, trimmed; None when nothing is left."""
    if value is None or isinstance(value, Mapping | list | tuple | set):
        return None
    text = _NOT_XML_CHARS.sub("", str(value)).strip()
    return text or None


def _segment(value: str) -> str:
    """One path segment of our own URIs (CKAN names are slugs already; anything else is percent-encoded)."""
    return quote(value, safe="-._~")


def _web_uri(value: Any) -> URIRef | None:
    """An http(s) URL given in a package as an IRI, characters IRIs forbid percent-encoded; None otherwise."""
    text = _text(value)
    if text is None or not text.lower().startswith(("http://", "https://")):
        return None
    return URIRef(quote(text, safe=_URI_SAFE))


def _extras(pkg: Mapping[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for extra in _dicts(pkg.get("extras")):
        key = extra.get("key")
        if isinstance(key, str):
            values[key] = extra.get("value")
    return values


def _dicts(value: Any) -> list[Mapping[str, Any]]:
    if not isinstance(value, list | tuple):
        return []
    return [item for item in value if isinstance(item, Mapping)]


def _enum(kind: type[_Code], value: Any) -> _Code | None:
    try:
        return kind(value)
    except (ValueError, TypeError):
        return None


def _byte_size(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    text = _text(value)
    return int(text) if text is not None and text.isascii() and text.isdigit() else None


def _date_literal(value: Any) -> RDFLiteral | None:
    """xsd:date for a date, xsd:dateTime (UTC, as CKAN stores it without offset) for a moment; None when unreadable."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return RDFLiteral(value.isoformat(), datatype=XSD.date)
    moment = value if isinstance(value, datetime) else None
    text = _text(value) if moment is None else None
    try:
        if text is not None and len(text) == 10:
            return RDFLiteral(date.fromisoformat(text).isoformat(), datatype=XSD.date)
        if text is not None:
            moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment is None:
        return None
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return RDFLiteral(moment.isoformat(), datatype=XSD.dateTime)
