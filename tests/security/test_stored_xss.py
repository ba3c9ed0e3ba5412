"""Stored and reflected XSS: a script payload written into every free-text field, through the API the
way a hostile user or device would, is shown escaped on every page — never as markup.

Every HTML page of the application is requested (with ids of the objects that carry the payload)
by a user who may see it, with the payload also in the query string (reflected XSS). No page may
contain the payload raw; the pages that show a field must contain it escaped, which proves the
check really looked at the rendered value.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from countyos.cases.models import Case, Reporter
from countyos.sensing.models import Alarm
from countyos.sensing.service import rules
from countyos.web.routes import api_routes
from tests.factories import login
from tests.security.world import FACTORY, World

# Does not depend on the database backend: one of the two runs is enough (tests/conftest.py).
pytestmark = pytest.mark.backend_neutral

PAYLOAD = "\"'><script>alert(1)</script>"  # 28 characters: fits the shortest name fields
RAW = "<script>alert(1)</script>"
ESCAPED = ("&lt;script&gt;alert(1)&lt;/script&gt;", "\\u003cscript\\u003ealert(1)\\u003c/script\\u003e")
MACHINE = ("/api/", "/sta/", "/open311/", "/static/", "/metrics", "/healthz")


def plant(client: TestClient, db, w: World) -> dict[str, list[object]]:
    """Write the payload into every free-text field through the API; return the ids of what carries it."""
    ops = w.bearer(db, w.ops_all)
    sysadmin = w.bearer(db, w.sysadmin)
    secadmin = w.bearer(db, w.secadmin)

    def ok(r, *codes: int) -> dict:
        assert r.status_code in (codes or (200, 201)), r.text
        return r.json() if r.content and r.headers["content-type"].startswith("application/json") else {}

    ok(client.patch(f"/api/v1/departments/{w.works}", json={"name": PAYLOAD}, headers=sysadmin))
    ok(client.patch(f"/api/v1/users/{w.handler_works.id}", json={"display_name": PAYLOAD}, headers=sysadmin))
    role = ok(
        client.post(
            "/api/v1/roles",
            json={
                "code": "xss_role",
                "name": PAYLOAD,
                "name_en": PAYLOAD,
                "description": PAYLOAD,
                "permissions": ["case.read"],
            },
            headers=secadmin,
        )
    )
    ok(
        client.post(
            "/api/v1/tokens",
            json={"name": PAYLOAD, "user_id": w.open311_app.id, "scopes": ["case.open311"]},
            headers=sysadmin,
        )
    )
    lon, lat = w.point_a
    case = ok(
        client.post(
            "/api/v1/cases",
            json={
                "service_code": "C01001",
                "lon": lon,
                "lat": lat,
                "description": PAYLOAD,
                "title": PAYLOAD,
                "address": PAYLOAD,
                "reporter_name": PAYLOAD,
            },
            headers=w.bearer(db, w.worker_a),
        )
    )
    ok(
        client.post(
            f"/api/v1/cases/{w.case_works}/actions", json={"action": "comment", "comment": PAYLOAD}, headers=ops
        )
    )
    ok(
        client.patch(
            f"/api/v1/case-categories/{w.cat_manhole}",
            json={"name": PAYLOAD, "description": PAYLOAD, "keywords": PAYLOAD},
            headers=ops,
        )
    )
    ok(client.patch(f"/api/v1/geo/grids/{w.grid_a}", json={"name": PAYLOAD}, headers=ops))
    ok(
        client.post(
            "/api/v1/geo/components",
            json={
                "class_code": "01001",
                "geometry": {"type": "Point", "coordinates": [lon, lat]},
                "name": PAYLOAD,
                "owner_dept_name": PAYLOAD,
                "note": PAYLOAD,
            },
            headers=ops,
        ),
        201,
    )
    ok(client.patch(f"/sta/v1.1/Things({w.gauge})", json={"name": PAYLOAD, "description": PAYLOAD}, headers=ops))
    ok(client.patch(f"/sta/v1.1/Datastreams({w.level})", json={"name": PAYLOAD, "description": PAYLOAD}, headers=ops))
    # A citizen through Open311: description and name.
    r = client.post(
        "/open311/v2/requests.json",
        data={
            "api_key": w.open311_key,
            "service_code": "C01001",
            "lat": str(lat),
            "long": str(lon),
            "description": PAYLOAD,
            "first_name": PAYLOAD,
            "address_string": PAYLOAD,
        },
    )
    assert r.status_code == 200, r.text
    reporter_token = r.json()[0]["service_notice"].rsplit("/", 1)[1]
    # An alarm rule named with the payload, and an alarm it raises (the device sends nothing).
    with db.unit_of_work() as s:
        rule = rules.save(
            s,
            actor=FACTORY,
            data={
                "name": PAYLOAD,
                "severity": "minor",
                "datastream_id": w.level,
                "condition": {"type": "no_data", "intervals": 2},
            },
        )
        rule_id = rule.id
    ingest = client.post(
        "/api/v1/sensing/ingest",
        json={"observations": [{"datastream": w.level, "time": "2020-06-01T00:00:00Z", "value": 1.0}]},
        headers={"X-Device-Token": w.device_token},
    )
    assert ingest.status_code in (200, 422), ingest.text
    from countyos.core.clock import utcnow
    from countyos.sensing import flows as sensing_flows

    with db.unit_of_work() as s:
        sensing_flows.health_sweep(s, now=utcnow())
    with db.reading() as s:
        alarm_id = s.scalar(select(Alarm.id).order_by(Alarm.id.desc()))
        assert s.scalar(select(Reporter.id).where(Reporter.public_token == reporter_token)) is not None
    # A government service matter whose guide carries the payload everywhere a person reads text.
    from tests.services.conftest import Shop, guide

    body = guide(Shop(market=w.works, centre=w.centre)).model_dump(mode="json")
    for key in ("name", "legal_basis", "accept_conditions", "place", "hours", "result_name", "theme", "body_name"):
        body[key] = PAYLOAD
    body["steps"][0]["name"] = PAYLOAD
    body["materials"][0].update(name=PAYLOAD, issuer=PAYLOAD, note=PAYLOAD)
    matter = ok(client.post("/api/v1/services/matters", json=body, headers=ops), 201)
    ok(client.post(f"/api/v1/services/matters/{matter['id']}/publish", headers=ops))
    # An application (办件) whose applicant, address, materials, opinion and timeline note carry it.
    from countyos.services.models import MatterMaterial

    with db.reading() as s:  # the matter API does not show its materials' ids
        mats = list(s.scalars(select(MatterMaterial.id).where(MatterMaterial.version_id == matter["current"]["id"])))
    application = ok(
        client.post(
            "/api/v1/services/applications",
            json={"matter_id": matter["id"], "applicant_name": PAYLOAD, "id_number": "33112519600101123X",
                  "address": PAYLOAD, "materials": [{"material_id": m, "form": "original", "count": 1} for m in mats]},
            headers=ops,
        ),
        201,
    )  # fmt: skip
    app_url = f"/api/v1/services/applications/{application['id']}/actions"
    version = ok(client.post(f"{app_url}/comment", json={"version": application["version"], "note": PAYLOAD},
                             headers=ops))["version"]  # fmt: skip
    ok(client.post(f"{app_url}/accept", json={"version": version}, headers=ops))
    application_id = _online_application(db, w, matter["id"])
    # A 电子监察 warning on the application made at the window: its reason, feedback, 督办 and record.
    from countyos.services.models import RuleKind, SupervisionEvent, SupervisionWarning
    from countyos.services.service import supervision_rules

    with db.unit_of_work() as s:
        supervision_rules.ensure_defaults(s)
        idle = next(r for r in supervision_rules.stored_rules(s) if r.kind == RuleKind.IDLE)
        warning = SupervisionWarning(
            number="JC2026010100001",
            family="idle",
            subject=f"a:{application['id']}",
            rule_id=idle.id,
            application_id=application["id"],
            department_id=w.centre,
            level="yellow",
            state="supervised",
            reason=supervision_rules.REASONS[RuleKind.IDLE],
            reason_values={"step": PAYLOAD, "days": 3},
            raised_at=utcnow(),
            level_at=utcnow(),
            feedback=PAYLOAD,
            supervision=PAYLOAD,
        )
        s.add(warning)
        s.flush()
        s.add(
            SupervisionEvent(
                warning_id=warning.id,
                at=utcnow(),
                action="supervise",
                actor_name=PAYLOAD,
                actor_id=w.handler_works.id,
                to_state="supervised",
                level="yellow",
                note=PAYLOAD,
            )
        )
        warning_id = warning.id
    # An application concluded at once, rated badly at a window 评价器 with a 追评 and a rectification step.
    imm = guide(Shop(market=w.works, centre=w.centre), code="XSS-IMMEDIATE-1", application_kind="immediate",
                promised_limit=0, materials=[], steps=[]).model_dump(mode="json")  # fmt: skip
    imm_matter = ok(client.post("/api/v1/services/matters", json=imm, headers=ops), 201)
    ok(client.post(f"/api/v1/services/matters/{imm_matter['id']}/publish", headers=ops))
    rated = ok(
        client.post(
            "/api/v1/services/applications",
            json={"matter_id": imm_matter["id"], "applicant_name": PAYLOAD, "id_number": "33112519600101123X"},
            headers=ops,
        ),
        201,
    )
    result = {"version": rated["version"], "result": {"decision": "granted", "result_name": PAYLOAD}}
    ok(client.post(f"/api/v1/services/applications/{rated['id']}/actions/accept_immediate", json=result, headers=ops))
    rating = ok(
        client.post(
            f"/api/v1/services/applications/{rated['id']}/ratings",
            json={
                "channel": "hall_tablet",
                "level": "very_dissatisfied",
                "comment": PAYLOAD,
                "rater_name": PAYLOAD,
                "window": PAYLOAD,
            },
            headers=ops,
        ),
        201,
    )
    ok(client.post(f"/api/v1/services/applications/{rated['id']}/ratings/{rating['id']}/follow-up",
                   json={"text": PAYLOAD}, headers=ops))  # fmt: skip
    ok(client.post(f"/api/v1/services/ratings/{rating['id']}/rectification/verify",
                   json={"version": 1, "note": PAYLOAD}, headers=ops))  # fmt: skip
    # A granted application of it: its certificate page and public verification page show the payload.
    from tests.services.service.test_certificates import granted_application

    granted_id, certificate_token = granted_application(
        db, matter_id=matter["id"], centre=w.centre, market=w.works, text=PAYLOAD
    )
    # An application waiting for corrections, with the payload in its 一次性告知 (the printed notice).
    corrected = ok(
        client.post(
            "/api/v1/services/applications",
            json={"matter_id": matter["id"], "applicant_name": PAYLOAD, "id_number": "331125196001011236",
                  "address": PAYLOAD},
            headers=ops,
        ),
        201,
    )  # fmt: skip
    ok(
        client.post(
            f"/api/v1/services/applications/{corrected['id']}/actions/request_correction",
            json={"version": corrected["version"], "note": PAYLOAD},
            headers=ops,
        )
    )
    resource_id, resource_name, request_id = _data_resource(client, ok, ops, w)
    portal = _portal(client, ok, ops, db, w)
    eco = _eco(client, ok, ops, db, w)
    village = _village(db, w)
    safety = _safety(db, w)
    programme = _programme(db, w)
    with db.reading() as s:
        open311_number = s.scalar(select(Case.number).join(Reporter, Reporter.case_id == Case.id).where(
            Reporter.public_token == reporter_token))  # fmt: skip
    return {
        "number": [open311_number, safety.pop("number")],  # an Open311 case; a plan version
        "notice_token": [portal["notice"]],
        "facility_token": [portal["facility"]],
        "notice_id": [portal["notice_id"]],
        "facility_id": [portal["facility_id"]],
        "resource_id": [resource_id],
        "name": [resource_name],
        "ext": ["csv"],
        "request_id": [request_id],
        "rating_id": [rating["id"]],
        "certificate_token": [certificate_token],
        "matter_id": [matter["id"]],
        "case_id": [case["id"], w.case_works],
        "user_id": [w.handler_works.id],
        "department_id": [w.works],
        "category_id": [w.cat_manhole],
        "role_id": [role["id"]],
        "token": [reporter_token, portal["notice"], portal["facility"]],
        "thing_id": [w.gauge],
        "rule_id": [rule_id],
        "alarm_id": [alarm_id],
        # a grid; a batch's trace code; a camera event type (no page names it: /safety/cameras/types/{code} is a POST)
        # a module's code (/programme/modules/{code}; the others answer it with 404) too
        "code": [w.grid_a, village.pop("code"), safety.pop("code"), programme.pop("module")],
        "module": ["eco"],  # /programme/index/{module}
        # a village farm record; a warehouse, a team, a shelter, an expert (a page given another domain's id,
        # or another kind's, answers 404: that is fine); each id once
        "record_id": list(dict.fromkeys([village.pop("record_id"), *safety.pop("record_id")])),
        "kind": safety.pop("kind"),
        # an emergency event; a camera's event (its snapshot page)
        "event_id": list(dict.fromkeys([safety.pop("event_id"), safety.pop("camera_event_id")])),
        # at a window; online by the applicant; concluded at once and rated; granted; awaiting corrections
        "application_id": [application["id"], application_id, rated["id"], granted_id, corrected["id"]],
        "warning_id": [warning_id],
        **{name: [value] for name, value in eco.items()},
        **{name: [value] for name, value in village.items()},
        **{name: [value] for name, value in safety.items()},
        # a phase, the operating company and the partner, the project, contract, assessment, key and services
        **{name: value if isinstance(value, list) else [value] for name, value in programme.items()},
    }


def _data_resource(client, ok, ops, w) -> tuple[int, str, int]:
    """A published open data resource (title, summary, keywords, items, a row) and a request for it, each
    carrying the payload: the catalogue's pages, the open-data portal and the sharing pages show them."""
    import csv
    import io

    items = [{"name": "name", "label": PAYLOAD, "type": "text", "open": True, "shared": True},
             {"name": "note", "label": "备注", "type": "text", "open": True, "shared": True}]  # fmt: skip
    body = {"name": "xss-data", "code": "XSS-0001", "title": PAYLOAD, "summary": PAYLOAD, "provider_id": w.works,
            "share_type": "unconditional", "open_type": "unconditional", "update_cycle": "monthly",
            "keywords": [PAYLOAD], "themes": [PAYLOAD], "items": items}  # fmt: skip
    res = ok(client.post("/api/v1/data/resources", json=body, headers=ops), 201)
    text = io.StringIO()
    csv.writer(text).writerows([["name", "note"], [PAYLOAD, PAYLOAD]])
    files = {"file": ("x.csv", io.BytesIO(text.getvalue().encode()), "text/csv")}
    ok(client.post(f"/api/v1/data/resources/{res['id']}/loads", files=files, headers=ops), 201)
    for action in ("submit", "approve"):
        version = ok(client.get(f"/api/v1/data/resources/{res['id']}", headers=ops))["version"]
        ok(client.post(f"/api/v1/data/resources/{res['id']}/actions", json={"action": action, "version": version},
                       headers=ops))  # fmt: skip
    ok(client.get("/open/datasets/xss-data/download.csv"))  # a download: /data/downloads lists its title
    conditional = {**body, "name": "xss-data-2", "code": "XSS-0002", "share_type": "conditional",
                   "share_condition": PAYLOAD, "items": items}  # fmt: skip
    other = ok(
        client.post("/api/v1/data/resources", json={**conditional, "provider_id": w.enforcement}, headers=ops), 201
    )
    files = {"file": ("x.csv", io.BytesIO(text.getvalue().encode()), "text/csv")}
    ok(client.post(f"/api/v1/data/resources/{other['id']}/loads", files=files, headers=ops), 201)
    for action in ("submit", "approve"):
        version = ok(client.get(f"/api/v1/data/resources/{other['id']}", headers=ops))["version"]
        ok(client.post(f"/api/v1/data/resources/{other['id']}/actions", json={"action": action, "version": version},
                       headers=ops))  # fmt: skip
    asked = {"purpose": PAYLOAD, "fields": ["name"], "until": "2099-12-31"}
    req = ok(client.post(f"/api/v1/data/resources/{other['id']}/requests", json=asked, headers=ops), 201)
    return res["id"], res["name"], req["id"]


def _portal(client, ok, ops, db, w) -> dict[str, str]:
    """The residents' portal: a published notice whose title, body and list carry the payload, and a
    facility named with it (ops_all's department has no division: it publishes for the whole county)."""
    from countyos.geo.service import divisions

    with db.reading() as s:
        county = divisions.require_county(s).code
    table = {"columns": [{"label": PAYLOAD, "mask": "shown"}], "rows": [[PAYLOAD]]}
    body = {"kind": "finance", "division_code": county, "title": PAYLOAD, "body": PAYLOAD, "table": table}
    notice = ok(client.post("/api/v1/portal/notices", json=body, headers=ops), 201)
    ok(client.post(f"/api/v1/portal/notices/{notice['token']}/publish", headers=ops))
    lon, lat = w.point_a
    place = {"kind": "clinic", "name": PAYLOAD, "address": PAYLOAD, "lon": lon, "lat": lat, "hours": PAYLOAD,
             "services": PAYLOAD}  # fmt: skip
    facility = ok(client.post("/api/v1/portal/facilities", json=place, headers=ops), 201)
    from countyos.portal.models import Facility, Notice

    with db.reading() as s:
        notice_id = s.scalar(select(Notice.id).where(Notice.token == notice["token"]))
        facility_id = s.scalar(select(Facility.id).where(Facility.token == facility["token"]))
    return {"notice": notice["token"], "facility": facility["token"], "notice_id": notice_id,
            "facility_id": facility_id}  # fmt: skip


def _eco(client, ok, ops, db, w) -> dict[str, int]:
    """The ecology records that carry free text: an air station, a water section and its lab result, a
    river section with its chief, a patrol and a problem, a GEP input and the report that reads it."""
    from shapely.geometry import LineString

    from countyos.core.clock import utcnow
    from countyos.eco.models.rivers import (
        AreaKind,
        ChiefLevel,
        ChiefRole,
        PatrolState,
        RiverArea,
        RiverChief,
        RiverPatrol,
        RiverProblem,
    )  # fmt: skip
    from tests.eco.test_air_flow import _register

    thing_id, _ = _register(db, "air-xss")
    station = ok(client.post("/api/v1/eco/air/stations", json={"code": "XSS-A", "name": PAYLOAD, "place": PAYLOAD,
                                                               "thing_id": thing_id}, headers=ops), 201)  # fmt: skip
    lon, lat = w.point_a
    body = {"code": "XSS-W", "name": PAYLOAD, "lon": lon, "lat": lat, "water_name": PAYLOAD}
    section = ok(client.post("/api/v1/eco/water/sections", json=body, headers=ops), 201)
    ok(client.post(f"/api/v1/eco/water/sections/{section['id']}/samples",
                   json={"sampled_at": "2026-06-01T02:00:00Z", "values": {"tp": 0.35, "do": 6.0},
                         "lab_name": PAYLOAD, "report_no": PAYLOAD}, headers=ops), 201)  # fmt: skip
    now = utcnow()
    with db.unit_of_work() as s:
        area = RiverArea(kind=AreaKind.SECTION, code="XSS-R", name=PAYLOAD, note=PAYLOAD, township_name=PAYLOAD,
                         source=PAYLOAD, length_m=100.0)  # fmt: skip
        area.set_geometry(LineString([(lon, lat), (lon + 0.001, lat + 0.001)]))
        s.add(area)
        s.flush()
        chief = RiverChief(user_id=w.handler_works.id, area_id=area.id, level=ChiefLevel.VILLAGE,
                           role=ChiefRole.RIVER, starts_on=now.date(), note=PAYLOAD)  # fmt: skip
        s.add(chief)
        s.flush()
        patrol = RiverPatrol(chief_id=chief.id, area_id=area.id, user_id=w.handler_works.id,
                             state=PatrolState.FINISHED, started_at=now, finished_at=now, flagged=True,
                             flag_reason=PAYLOAD, note=PAYLOAD)  # fmt: skip
        s.add(patrol)
        s.flush()
        s.add(RiverProblem(patrol_id=patrol.id, chief_id=chief.id, area_id=area.id, kind=PAYLOAD[:30], note=PAYLOAD,
                           lon=lon, lat=lat, found_at=now))  # fmt: skip
        ids = {"area_id": area.id, "chief_id": chief.id, "patrol_id": patrol.id}
    body = {"year": 2025, "code": "gdp", "value": 1.8e10, "source_ref": PAYLOAD, "note": PAYLOAD}
    gep_input = ok(client.post("/api/v1/eco/gep/inputs", json=body, headers=ops), 201)
    run = ok(client.post("/api/v1/eco/gep/runs", json={"year": 2025}, headers=ops), 200, 201)
    return {**ids, "station_id": station["id"], "section_id": section["id"], "input_id": gep_input["id"],
            "run_id": run["id"]}  # fmt: skip


def _village(db, w) -> dict[str, object]:
    """The village records that carry free text: a producer with a base, a farm record, a batch with its test
    and certificate, supply, demand and an order with its delivery; a scenic spot, a homestay, an event, a
    非遗 item with its inheritor and a 传统村落."""
    from datetime import timedelta
    from decimal import Decimal

    from shapely.geometry import box

    from countyos.core.clock import utcnow
    from countyos.village.models.certs import Batch, BatchTest, CertBasis, Certificate, CheckMethod, CheckMode
    from countyos.village.models.certs import CheckResult as TestResult
    from countyos.village.models.farming import FarmRecord, RecordKind
    from countyos.village.models.market import Delivery, Demand, Order, OrderState, Side, Supply
    from countyos.village.models.producers import Entity, EntityKind, Facility, IdKind, ProductionBase
    from countyos.village.models.producers import SubjectCodeType as Sct
    from countyos.village.models.tourism import (
        EventKind,
        HeritageInheritor,
        HeritageItem,
        HeritageLevel,
        Homestay,
        Spot,
        StayKind,
        TourismEvent,
        TraditionalVillage,
    )

    lon, lat = w.point_a
    now = utcnow()
    with db.unit_of_work() as s:
        farm = Entity(kind=EntityKind.FAMILY_FARM, name=PAYLOAD, subject_code_type=Sct.OPERATOR, id_kind=IdKind.USCC,
                      legal_person=PAYLOAD, village_name=PAYLOAD, address=PAYLOAD, contact_name=PAYLOAD)  # fmt: skip
        canteen = Entity(kind=EntityKind.SCHOOL_CANTEEN, name=PAYLOAD[:27] + "2", subject_code_type=Sct.NODE,
                         id_kind=IdKind.USCC, village_name=PAYLOAD, address=PAYLOAD)  # fmt: skip
        s.add_all([farm, canteen])
        s.flush()
        geom = box(lon, lat, lon + 0.001, lat + 0.001)
        base = ProductionBase(entity_id=farm.id, code="XSS-B", name=PAYLOAD, facility=Facility.GREENHOUSE,
                              product_codes=["tomato"], village_name=PAYLOAD, geom=geom, minx=lon, miny=lat,
                              maxx=lon + 0.001, maxy=lat + 0.001, area_m2=10000.0)  # fmt: skip
        s.add(base)
        s.flush()
        record = FarmRecord(entity_id=farm.id, base_id=base.id, kind=RecordKind.HARVEST, product_code="tomato",
                            input_name=PAYLOAD, quantity=100.0, unit="kg", used_on=now.date(), note=PAYLOAD,
                            void_reason=PAYLOAD)  # fmt: skip
        s.add(record)
        batch = Batch(entity_id=farm.id, base_id=base.id, product_code="tomato", product_class="vegetable",
                      quantity=100.0, unit="kg", harvest_date=now.date(), batch_no=PAYLOAD,
                      trace_code="XSS0001")  # fmt: skip
        s.add(batch)
        s.flush()
        test = BatchTest(batch_id=batch.id, institution=PAYLOAD, method=CheckMethod.RAPID, mode=CheckMode.SELF,
                         standard=PAYLOAD, items=[{"item": PAYLOAD, "result": PAYLOAD, "limit": PAYLOAD}],
                         result=TestResult.PASS, report_no=PAYLOAD, tested_on=now.date())  # fmt: skip
        s.add(test)
        s.flush()
        cert = Certificate(number="XSS000001", batch_id=batch.id, issuer_id=farm.id, product_code="tomato",
                           product_name=PAYLOAD, product_class="vegetable", quantity=100.0, unit="kg",
                           producer_name=PAYLOAD, origin=PAYLOAD, promise=PAYLOAD, basis=CertBasis.SELF_TEST,
                           test_id=test.id, report_no=PAYLOAD, issued_on=now.date(),
                           revoked_reason=PAYLOAD)  # fmt: skip
        supply = Supply(entity_id=farm.id, base_id=base.id, product_code="tomato", quantity=50.0, unit="kg",
                        period_from=now.date(), period_to=now.date() + timedelta(days=30), price=Decimal("4.50"),
                        note=PAYLOAD)  # fmt: skip
        demand = Demand(entity_id=canteen.id, product_code="tomato", quantity=20.0, unit="kg", period_from=now.date(),
                        period_to=now.date() + timedelta(days=30), place_name=PAYLOAD, lon=lon, lat=lat,
                        frequency=PAYLOAD, note=PAYLOAD)  # fmt: skip
        s.add_all([cert, supply, demand])
        s.flush()
        order = Order(number="XSS-O1", buyer_id=canteen.id, seller_id=farm.id, supply_id=supply.id,
                      placed_by=Side.BUYER, product_code="tomato", quantity=10.0, unit="kg", price=Decimal("4.50"),
                      amount=Decimal("45.00"), state=OrderState.DELIVERED, note=PAYLOAD,
                      cancel_reason=PAYLOAD)  # fmt: skip
        s.add(order)
        s.flush()
        s.add(Delivery(order_id=order.id, vehicle_plate="浙H12345", departed_at=now, arrived_at=now,
                       certificate_no=PAYLOAD, check_note=PAYLOAD))  # fmt: skip
        spot = Spot(name=PAYLOAD, capacity_instant=1000, capacity_daily=5000, description=PAYLOAD, lon=lon, lat=lat)
        s.add(spot)
        s.flush()
        s.add(Homestay(name=PAYLOAD, kind=StayKind.HOMESTAY, village_name=PAYLOAD, address=PAYLOAD, rooms=5, beds=8,
                       license_no=PAYLOAD[:27], grade=PAYLOAD[:20]))  # fmt: skip
        s.add(TourismEvent(title=PAYLOAD, kind=EventKind.FESTIVAL, starts_at=now + timedelta(days=1),
                           ends_at=now + timedelta(days=2), place=PAYLOAD, spot_id=spot.id, description=PAYLOAD,
                           public=True))  # fmt: skip
        item = HeritageItem(name=PAYLOAD, level=HeritageLevel.COUNTY, category="folk_literature", description=PAYLOAD)
        s.add(item)
        s.flush()
        s.add(HeritageInheritor(item_id=item.id, name=PAYLOAD, level=HeritageLevel.COUNTY))
        s.add(TraditionalVillage(name=PAYLOAD, town=PAYLOAD, batch=1, listed_year=2012, description=PAYLOAD))
        return {"entity_id": farm.id, "base_id": base.id, "record_id": record.id, "batch_id": batch.id,
                "certificate_id": cert.id, "order_id": order.id, "spot_id": spot.id,
                "code": batch.trace_code}  # fmt: skip


def _safety(db, w) -> dict[str, object]:
    """The safety records that carry free text: a plan with two published versions (criteria, triggers, duties,
    the report schedule's recipient, the measures), an exercise, a closed event with its tasks, feedback, a
    command and its reply, notes, reports and a review; the four kinds of resources; a key place with its
    checklist, an inspection and a hazard; a camera with an event type and an event; a road, a parking lot
    and a published road incident (the public /portal/roads shows it)."""
    from datetime import timedelta

    from shapely.geometry import LineString

    from countyos.core.clock import utcnow
    from countyos.org.models import Department
    from countyos.safety.models.cameras import Camera, CameraEvent, CameraEventType, EventOutcome
    from countyos.safety.models.events import TaskFeedback
    from countyos.safety.models.inspections import (
        Checklist,
        Hazard,
        HazardAction,
        HazardLevel,
        HazardLog,
        HazardState,
        Inspection,
        InspectionResult,
        Place,
        RiskGrade,
    )
    from countyos.safety.models.plans import ExerciseKind, PlanType, ResponseLevel
    from countyos.safety.models.resources import Expert, Shelter, StockLine, Team, TeamKind, TeamMember, Warehouse
    from countyos.safety.models.traffic import (
        IncidentKind,
        IncidentState,
        ParkingLot,
        RoadClass,
        RoadIncident,
        RoadSegment,
    )
    from countyos.safety.schemas.plans import ExerciseIn, PlanBody, PlanIn
    from countyos.safety.schemas.reports import LessonsIn, ReportIn
    from countyos.safety.service import events, events_tasks, plans, plans_exercises, reports, reports_review

    lon, lat = w.point_a
    now = utcnow()
    boss = w.actor(db, w.ops_all)  # every safety permission, in the centre: the duties' department
    with db.unit_of_work() as s:
        centre = s.get(Department, w.centre).name
        plan = plans.create_plan(s, actor=boss, data=PlanIn(code="XSS-PLAN", name=PAYLOAD, type=PlanType.FLOOD,
                                                            lead_department_id=w.centre, summary=PAYLOAD))  # fmt: skip
        for n in (1, 2):
            body = PlanBody.model_validate({
                "levels": [{"level": "IV", "criteria": PAYLOAD + str(n),
                            "triggers": [{"kind": "case", "category": "C01001", "description": PAYLOAD}],
                            "duties": [{"department": centre, "duty": PAYLOAD + str(n), "deadline_minutes": 60}]}],
                "reports": {"to": PAYLOAD}, "measures": PAYLOAD})  # fmt: skip
            plans.save_draft(s, actor=boss, plan_id=plan.id, body=body, note=PAYLOAD)
            version = plans.publish(s, actor=boss, plan_id=plan.id)
        plans_exercises.create(s, actor=boss, data=ExerciseIn(plan_id=plan.id, held_on=now.date(),
                               kind=ExerciseKind.TABLETOP, title=PAYLOAD, place=PAYLOAD, participants=[PAYLOAD],
                               summary=PAYLOAD, problems=PAYLOAD))  # fmt: skip
        started = now - timedelta(hours=2)
        event = events.start(s, actor=boss, type=PlanType.FLOOD, level=ResponseLevel.IV, title=PAYLOAD,
                             plan_id=plan.id, version_id=version.id, lon=lon, lat=lat, place=PAYLOAD,
                             description=PAYLOAD, at=started)  # fmt: skip
        (task,) = events.tasks_of(s, event_id=event.id)
        events_tasks.acknowledge(s, actor=boss, task_id=task.id, at=started + timedelta(minutes=5))
        events_tasks.feedback(s, actor=boss, task_id=task.id, text=PAYLOAD, at=started + timedelta(minutes=10))
        command = events_tasks.give_command(s, actor=boss, event_id=event.id, text=PAYLOAD,
                                            at=started + timedelta(minutes=15))  # fmt: skip
        events_tasks.acknowledge_command(s, actor=boss, command_id=command.id, reply=PAYLOAD,
                                         at=started + timedelta(minutes=20))  # fmt: skip
        events.note(s, actor=boss, event_id=event.id, text=PAYLOAD, at=started + timedelta(minutes=30))
        events.close(s, actor=boss, event_id=event.id, note=PAYLOAD, at=started + timedelta(hours=1))
        rows = reports.ensure(s, event, now=now) or reports.of_event(s, event_id=event.id)
        for report in rows:
            reports.save(s, actor=boss, report_id=report.id, data=ReportIn(body=PAYLOAD, to=PAYLOAD))
        reports_review.save_lessons(s, actor=boss, event_id=event.id, data=LessonsIn(lessons=PAYLOAD))
        feedback_id = s.scalar(select(TaskFeedback.id).where(TaskFeedback.task_id == task.id))
        ids: dict[str, object] = {"plan_id": plan.id, "number": version.number, "event_id": event.id,
                                  "report_id": rows[0].id, "feedback_id": feedback_id}  # fmt: skip
    with db.unit_of_work() as s:
        warehouse = Warehouse(name=PAYLOAD, lon=lon, lat=lat, address=PAYLOAD, contact=PAYLOAD)
        team = Team(name=PAYLOAD, kind=TeamKind.VOLUNTEER, lon=lon, lat=lat, leader=PAYLOAD, members_count=1,
                    equipment=PAYLOAD)  # fmt: skip
        shelter = Shelter(name=PAYLOAD, lon=lon, lat=lat, address=PAYLOAD, capacity=100, facilities=PAYLOAD,
                          township=PAYLOAD)  # fmt: skip
        expert = Expert(name=PAYLOAD, field=PAYLOAD, unit=PAYLOAD, lon=lon, lat=lat)
        s.add_all([warehouse, team, shelter, expert])
        s.flush()
        s.add(StockLine(warehouse_id=warehouse.id, material="assault_boat", quantity=2, note=PAYLOAD))
        s.add(TeamMember(team_id=team.id, name=PAYLOAD, role=PAYLOAD))
        items = [{"code": "X01", "text": PAYLOAD, "category": "fire", "level": "general", "days": 7}]
        checklist = Checklist(code="XSS", version=1, name=PAYLOAD, items=items, source=PAYLOAD, loaded_by=PAYLOAD)
        place = Place(name=PAYLOAD, kind="school", address=PAYLOAD, lon=lon, lat=lat, township_name=PAYLOAD,
                      village_name=PAYLOAD, responsible_name=PAYLOAD, safety_manager=PAYLOAD, grade=RiskGrade.A,
                      created_by=PAYLOAD)  # fmt: skip
        s.add_all([checklist, place])
        s.flush()
        inspection = Inspection(place_id=place.id, checklist_id=checklist.id, inspector_id=w.ops_all.id,
                                inspector_name=PAYLOAD, at=now, result=InspectionResult.HAZARDS,
                                answers=[{"code": "X01", "outcome": "fail", "note": PAYLOAD}], hazards=1,
                                note=PAYLOAD)  # fmt: skip
        s.add(inspection)
        s.flush()
        hazard = Hazard(place_id=place.id, inspection_id=inspection.id, item_code="X01", item_text=PAYLOAD,
                        category="fire", level=HazardLevel.GENERAL, description=PAYLOAD, responsible=PAYLOAD,
                        found_at=now, deadline_on=now.date() + timedelta(days=7),
                        case_error=PAYLOAD)  # fmt: skip
        s.add(hazard)
        s.flush()
        s.add(HazardLog(hazard_id=hazard.id, at=now, action=HazardAction.FOUND, to_state=HazardState.OPEN,
                        actor_id=w.ops_all.id, actor_name=PAYLOAD, note=PAYLOAD))  # fmt: skip
        camera = Camera(code="33112300001320000001", name=PAYLOAD, lon=lon, lat=lat, place=PAYLOAD,
                        township_name=PAYLOAD, notes=PAYLOAD)  # fmt: skip
        kind = CameraEventType(code="xss_type", name_zh=PAYLOAD, name_en=PAYLOAD)
        s.add_all([camera, kind])
        s.flush()
        seen = CameraEvent(camera_id=camera.id, type_code="xss_type", occurred_at=now, confidence=0.9,
                           outcome=EventOutcome.UNMAPPED, external_id=PAYLOAD, extra={"note": PAYLOAD})  # fmt: skip
        line = LineString([(lon, lat), (lon + 0.01, lat + 0.01)])
        road = RoadSegment(code="X999", name=PAYLOAD, road_class=RoadClass.COUNTY, geom=line, length_m=1400.0,
                           start_lon=lon, start_lat=lat, end_lon=lon + 0.01, end_lat=lat + 0.01)  # fmt: skip
        lot = ParkingLot(name=PAYLOAD, lon=lon, lat=lat, address=PAYLOAD, township=PAYLOAD[:60], capacity=50,
                         fee=PAYLOAD, hours=PAYLOAD)  # fmt: skip
        s.add_all([seen, road, lot])
        s.flush()
        incident = RoadIncident(token="xss" + "0" * 29, kind=IncidentKind.CLOSURE, title=PAYLOAD,
                                description=PAYLOAD, road_id=road.id, from_words=PAYLOAD, to_words=PAYLOAD,
                                starts_at=now - timedelta(hours=1), detour=PAYLOAD, note=PAYLOAD,
                                state=IncidentState.PUBLISHED, created_by=w.ops_all.id, published_at=now)  # fmt: skip
        s.add(incident)
        s.flush()
        return {**ids, "kind": ["warehouse", "team", "shelter", "expert"],
                "record_id": [warehouse.id, team.id, shelter.id, expert.id], "camera_id": camera.id,
                "warehouse_id": warehouse.id, "team_id": team.id,  # no route names these: for must_show
                "camera_event_id": seen.id, "place_id": place.id, "inspection_id": inspection.id,
                "hazard_id": hazard.id, "incident_id": incident.id, "lot_id": lot.id, "road_id": road.id,
                "code": kind.code}  # fmt: skip


def _programme(db, w) -> dict[str, object]:
    """The programme records that carry free text: a phase (name, goal), a module's plan and switch notes (eco
    switched off and back on), an operating company and a partner (name, contact, address, description), a
    project (name, description, spend note) with a contract (title, instalment label) and its KPI, assessed
    for a past month, approved, returned, approved, locked and amended (each reason the payload); a partner's
    developer, a sandbox key and two partner services (one rejected with a note, one approved and listed)."""
    from datetime import timedelta

    from countyos.core.actor import Actor
    from countyos.core.clock import utcnow
    from countyos.ioc.service.scope import today as local_today
    from countyos.programme import permissions as P
    from countyos.programme.models.projects import AssessmentPeriod, OrgKind, ProjectKind
    from countyos.programme.schemas.kpis import KpiIn
    from countyos.programme.schemas.modules import PhaseIn
    from countyos.programme.schemas.partners import KeyIn, MemberIn, ReviewIn, ServiceIn
    from countyos.programme.schemas.projects import ContractIn, InstalmentIn, OrgIn, ProjectIn, SpendIn
    from countyos.programme.service import (
        kpis,
        kpis_assess,
        modules,
        modules_phases,
        partners,
        partners_services,
        payments_lock,
        projects,
        projects_contracts,
    )
    from tests import factories

    office = w.actor(db, w.ops_all)  # every programme permission (none is administrative)
    assert {P.MANAGE, P.ASSESS, P.FINANCE, P.MODULES, P.PARTNERS} <= office.permissions
    developer = factories.person(db, ["partner_developer"])
    dev = Actor(id=developer.id, name=developer.username, permissions=frozenset({P.DEVELOPER}))
    now = utcnow()
    today = local_today(now)
    with db.unit_of_work() as s:
        phase = modules_phases.create(s, actor=office, data=PhaseIn(number=9, name=PAYLOAD, goal=PAYLOAD))
        modules.plan(s, actor=office, code="eco", phase_id=phase.id, planned_on=today, note=PAYLOAD)
        modules.switch(s, actor=office, code="eco", on=False, note=PAYLOAD)
        modules.switch(s, actor=office, code="eco", on=True, note=PAYLOAD)
        assert "eco" not in modules.disabled(s)  # the other domains' pages must not answer 404
        operator = projects.create_org(s, actor=office, data=OrgIn(
            name=PAYLOAD, kind=OrgKind.OPERATOR, contact_name=PAYLOAD, contact_phone="13812345678", address=PAYLOAD,
            description=PAYLOAD))  # fmt: skip
        partner = projects.create_org(s, actor=office, data=OrgIn(
            name=PAYLOAD + "2", kind=OrgKind.PARTNER, contact_name=PAYLOAD, address=PAYLOAD,
            description=PAYLOAD))  # fmt: skip
        project = projects.create_project(s, actor=office, data=ProjectIn(
            code="XSS-P1", name=PAYLOAD, kind=ProjectKind.OPERATION, phase_id=phase.id, modules=["cases", "eco"],
            budget_fen=50_000_000, funding_model="gov_one_off", operator_id=operator.id,
            description=PAYLOAD))  # fmt: skip
        projects.add_spend(s, actor=office, project_id=project.id,
                           data=SpendIn(spent_on=today, amount_fen=1_000_000, note=PAYLOAD))  # fmt: skip
        first = (today.replace(day=1) - timedelta(days=70)).replace(day=1)  # two whole months have ended
        contract = projects_contracts.create(s, actor=office, data=ContractIn(
            code="XSS-C1", title=PAYLOAD, project_id=project.id, party_id=operator.id, starts_on=first,
            ends_on=first + timedelta(days=730), amount_fen=24_000_000, period=AssessmentPeriod.MONTH))  # fmt: skip
        projects_contracts.add_instalment(s, actor=office, contract_id=contract.id, data=InstalmentIn(
            due_on=first + timedelta(days=40), amount_fen=1_000_000, label=PAYLOAD))  # fmt: skip
        kpis.add(s, actor=office, contract=contract, data=KpiIn(kpi="on_time_rate", target=90, weight=100))
        projects_contracts.act(s, actor=office, contract_id=contract.id, action="activate")
        assessment = kpis_assess.assess(s, actor=office, contract=contract, period_start=first, now=now)
        kpis_assess.approve(s, actor=office, assessment=assessment, now=now)
        payments_lock.give_back(s, actor=office, assessment=assessment, reason=PAYLOAD)
        kpis_assess.approve(s, actor=office, assessment=assessment, now=now)
        payments_lock.lock(s, actor=office, assessment=assessment)
        payments_lock.amend(s, actor=office, assessment=assessment, reason=PAYLOAD,
                            payable_fen=assessment.base_fen // 2)  # fmt: skip
        partners.add_member(s, actor=office, org_id=partner.id, data=MemberIn(user_id=developer.id))
        key, _ = partners.issue_key(s, actor=office, org_id=partner.id, data=KeyIn(name=PAYLOAD, scopes=["geo.read"]))
        text = {"name": PAYLOAD, "summary": PAYLOAD, "description": PAYLOAD, "url": "https://xss.example/" + PAYLOAD,
                "category": "data", "uses": ["geo.read"], "contact": PAYLOAD}  # fmt: skip
        rejected = partners_services.submit(s, actor=dev, org_id=partner.id, data=ServiceIn(**text))
        partners_services.review(s, actor=office, service_id=rejected.id, data=ReviewIn(action="reject", note=PAYLOAD))
        listed = partners_services.submit(s, actor=dev, org_id=partner.id,
                                          data=ServiceIn(**{**text, "name": PAYLOAD + "2"}))  # fmt: skip
        partners_services.review(s, actor=office, service_id=listed.id, data=ReviewIn(action="approve"))
        return {"phase_id": phase.id, "org_id": [operator.id, partner.id], "project_id": project.id,
                "contract_id": contract.id, "assessment_id": assessment.id, "key_id": key.id,
                "service_id": [rejected.id, listed.id], "module": "eco", "developer": developer}  # fmt: skip


def _online_application(db, w, matter_id: int) -> int:
    """An application made online by ops_all's own account (the applicant's pages show it), its
    applicant name, address and the window's 一次性告知 carrying the payload."""
    from countyos.core.actor import Actor
    from countyos.services.lifecycle import Action
    from countyos.services.schemas import ApplicationIn, PlainActionIn
    from countyos.services.service import applications

    applicant = Actor(id=w.ops_all.id, name="申请人", permissions=frozenset({applications.APPLY}))
    window = Actor(id=w.ops_all.id, name="窗口", permissions=frozenset({applications.WINDOW}))
    with db.unit_of_work() as s:
        app = applications.create(
            s,
            actor=applicant,
            data=ApplicationIn(matter_id=matter_id, applicant_name=PAYLOAD, id_number="33112319580315002X",
                               address=PAYLOAD),
        )  # fmt: skip
        data = PlainActionIn(version=app.version, note=PAYLOAD)
        applications.act(s, actor=window, application_id=app.id, action=Action.REQUEST_CORRECTION, data=data)
        return app.id


PARAM = re.compile(r"\{([a-z_]+)(?::[a-z]+)?\}")


def page_urls(app, ids: dict[str, list[object]]) -> Iterator[str]:
    for route in api_routes(app):
        if "GET" not in route.methods or route.path.startswith(MACHINE):
            continue
        names = PARAM.findall(route.path)
        if "fmt" in names or "attachment_id" in names or "file_token" in names:
            continue  # downloads (CSV/Excel/photos), not pages
        if route.path.endswith((".js", ".geojson")) or route.path.endswith("/export"):
            continue
        missing = [n for n in names if n not in ids]
        assert not missing, f"{route.path}: add an object for {missing} to plant() in tests/security/test_stored_xss.py"
        for values in itertools.product(*(ids[n] for n in names)):
            chosen = dict(zip(names, values, strict=True))
            yield PARAM.sub(lambda m, chosen=chosen: str(chosen[m.group(1)]), route.path)


@pytest.fixture
def sessions(app, db, world) -> Iterator[list[TestClient]]:
    """Logged-in browsers of users who together may see every page, and an anonymous one."""
    clients = []
    for p in (world.ops_all, world.sysadmin, world.secadmin, world.auditadmin, None):
        c = TestClient(app, base_url="http://testserver")
        c.__enter__()
        if p is not None:
            login(c, p)
        clients.append(c)
    yield clients
    for c in clients:
        c.__exit__(None, None, None)


def explicit_urls(ids: dict[str, list[object]]) -> list[str]:
    """Pages the walk of the routes does not reach: their ids are in the query string. The payment table's PDF
    and Excel are binary (not checked for markup) but must still be made from the payload (no 500)."""
    contract, project = ids["contract_id"][0], ids["project_id"][0]
    return [f"/programme/payments?contract={contract}", f"/programme/assessments?contract={contract}",
            f"/programme/contracts?project={project}", f"/programme/index?project={project}",
            f"/programme/payments.pdf?contract={contract}", f"/programme/payments.xlsx?contract={contract}",
            f"/programme/index.xlsx?project={project}"]  # fmt: skip


def test_payload_is_escaped_on_every_page(client, app, db, world, sessions):
    ids = plant(client, db, world)
    developer = ids.pop("developer")[0]  # a partner's developer: the developer portal's own pages
    with TestClient(app, base_url="http://testserver") as dev:
        login(dev, developer)
        _walk(app, ids, world, [*sessions, dev])
    # The payment table's exports carry the payload as text in a binary file: made, not refused.
    contract = ids["contract_id"][0]
    for url, kind in ((f"/programme/payments.pdf?contract={contract}", "application/pdf"),
                      (f"/programme/payments.xlsx?contract={contract}", "application/vnd.openxml")):  # fmt: skip
        r = sessions[0].get(url)
        assert r.status_code == 200 and r.headers["content-type"].startswith(kind), (url, r.status_code)


def _walk(app, ids: dict[str, list[object]], world: World, sessions: list[TestClient]) -> None:
    shown: dict[str, list[str]] = {}
    unsafe: list[str] = []
    visited = 0
    for url in [*page_urls(app, ids), *explicit_urls(ids)]:
        query = "&" if "?" in url else "?"
        for c in sessions:
            for target in (url, url + query + urlencode({"q": PAYLOAD, "next": PAYLOAD, "search": PAYLOAD})):
                r = c.get(target, follow_redirects=False)
                assert r.status_code < 500, (target, r.status_code, r.text[:500])
                if not r.headers.get("content-type", "").startswith("text/html"):
                    continue
                visited += 1
                if RAW in r.text:
                    unsafe.append(target)
                if any(e in r.text for e in ESCAPED):
                    shown.setdefault(url, []).append(target)
    assert not unsafe, f"the payload is markup on: {sorted(set(unsafe))}"
    assert visited > 40
    must_show = [
        "/admin/departments",  # department name
        f"/admin/users/{world.handler_works.id}",  # display name
        "/admin/roles",  # role name and description
        "/admin/tokens",  # token name
        f"/cases/{ids['case_id'][0]}",  # description, title, address
        f"/cases/{world.case_works}",  # comment, the handler's display name, the department name
        f"/r/{ids['token'][0]}",  # the citizen's own page
        f"/sensing/devices/{world.gauge}",  # device name
        "/sensing/rules",  # rule name
        "/admin/audit",  # what the audit log recorded
        f"/services/my/{ids['application_id'][1]}",  # the applicant's own application
        f"/services/applications/{ids['application_id'][0]}",  # applicant, address, the timeline's note
        f"/services/supervision/warnings/{ids['warning_id'][0]}",  # reason, feedback, 督办, its record
        f"/services/ratings/{ids['rating_id'][0]}",  # the rating's comment, rater, window, 追评, the step's note
        f"/services/applications/{ids['application_id'][3]}/certificate",  # holder, result, issuer
        f"/services/verify/{ids['certificate_token'][0]}",  # the public verification page
        f"/services/applications/{ids['application_id'][4]}/notice",  # the applicant, the 一次性告知's words
        f"/data/resources/{ids['resource_id'][0]}",  # title, summary, items, the load's source
        f"/open/datasets/{ids['name'][0]}",  # the open-data portal: title, summary, item labels, preview rows
        f"/data/requests/{ids['request_id'][0]}",  # the request's purpose
        "/data/sharing",  # requests and grants
        "/data/downloads",  # the download of the resource: its title, its department's name
        f"/portal/cases/{ids['number'][0]}",  # the public map's page of an Open311 report: its description
        f"/portal/notices/{ids['notice_token'][0]}",  # a notice's title, body and list
        f"/portal/facilities/{ids['facility_token'][0]}",  # a facility's name, address, hours, services
        "/portal/notices",  # the list of notices
        "/portal/facilities",  # the directory
        "/portal/publish",  # the publisher's list
        f"/portal/publish/{ids['notice_id'][0]}",  # the publisher's page of the notice
        f"/portal/facilities/manage/{ids['facility_id'][0]}",  # the keeper's page of the facility
        f"/village/producers/{ids['entity_id'][0]}",  # the producer's name, address, contact, its base
        f"/village/bases/{ids['base_id'][0]}",  # the base's name
        f"/village/records/{ids['record_id'][0]}",  # the record's note and input
        f"/village/batches/{ids['batch_id'][0]}",  # batch number, test institution, certificate
        f"/village/certificates/{ids['certificate_id'][0]}",  # the certificate's printed words
        f"/t/{ids['code'][1]}",  # the public trace page
        f"/village/orders/{ids['order_id'][0]}",  # the order's note, buyer, producer, the check note
        f"/village/tourism/spots/{ids['spot_id'][0]}",  # a scenic spot's name and description
        "/village/tourism/homestays",  # the homestays' register
        "/village/tourism/events",  # the events calendar
        "/village/tourism/culture",  # 非遗 items, inheritors, 传统村落
        f"/safety/plans/{ids['plan_id'][0]}",  # the plan's name, summary, its versions' notes, the exercise
        f"/safety/plans/{ids['plan_id'][0]}/versions/{ids['number'][1]}",  # criteria, triggers, duties, measures
        "/safety/exercises",  # the exercise's title, place, summary, problems
        f"/safety/events/{ids['event_id'][0]}",  # the situation: title, place, tasks, feedback, commands, log
        f"/safety/reports/{ids['report_id'][0]}",  # the report's text and recipient
        f"/safety/events/{ids['event_id'][0]}/review",  # the lessons, the event's record
        f"/safety/resources/warehouse/{ids['warehouse_id'][0]}",  # a warehouse's name, address, keeper, stock note
        f"/safety/resources/team/{ids['team_id'][0]}",  # a team's name, leader, equipment, members
        f"/safety/places/{ids['place_id'][0]}",  # a key place's name, address, responsible person
        f"/safety/inspections/{ids['inspection_id'][0]}",  # the checklist item's text, the answer's note
        f"/safety/hazards/{ids['hazard_id'][0]}",  # the hazard's description, responsible person, its log
        f"/safety/cameras/{ids['camera_id'][0]}",  # a camera's name, place, notes
        f"/safety/traffic/incidents/{ids['incident_id'][0]}",  # an incident's title, description, detour
        f"/safety/traffic/parking/{ids['lot_id'][0]}",  # a parking lot's name, address, fee, hours
        f"/safety/traffic/roads/{ids['road_id'][0]}",  # a road's name
        "/portal/roads",  # the public page: the published incident's title, description, detour; the lot
        "/programme",  # the front page: the project's name
        f"/programme/projects/{ids['project_id'][0]}",  # name, description, spend note, contract, instalment
        f"/programme/contracts/{ids['contract_id'][0]}",  # title, instalment label
        f"/programme/contracts/{ids['contract_id'][0]}/kpis",  # the contract's title
        f"/programme/assessments/{ids['assessment_id'][0]}",  # the contract, the changes after locking
        f"/programme/assessments/{ids['assessment_id'][0]}/amendments",  # each change's reason
        f"/programme/payments?contract={ids['contract_id'][0]}",  # the payment table: contract, amendments
        f"/programme/orgs/{ids['org_id'][0]}",  # the organisation's name, contact, address, description
        "/programme/roadmap",  # the phase's name and goal
        f"/programme/roadmap/phases/{ids['phase_id'][0]}",  # the phase's form
        "/programme/modules/eco",  # the module's note
        f"/programme/index?project={ids['project_id'][0]}",  # the 盆景 index: the project's name
        f"/programme/partners/{ids['org_id'][1]}",  # the partner: name, members, the key's name, services
        "/programme/partners/services",  # the services under review: name, summary, contact, note
        "/developers/catalogue",  # the public catalogue: the approved service, its partner and link
        "/developers/keys",  # the developer's keys
        "/developers/services",  # the developer's services and the rejection's note
    ]
    not_shown = [u for u in must_show if u not in shown]
    assert not not_shown, f"these pages should show the planted text (escaped): {not_shown}"
