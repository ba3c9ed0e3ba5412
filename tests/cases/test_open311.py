"""Open311 GeoReport v2 conformance: every method in XML and JSON, the spec's error format."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from countyos.cases.service import categories
from tests.cases.conftest import FACTORY, open311_app

BASE = "/open311/v2"


@pytest.fixture
def api_key(db, world):
    key = open311_app(db)
    with db.unit_of_work() as s:
        categories.update(
            s,
            actor=FACTORY,
            category_id=world.cat_garbage,
            changes={
                "attributes": [
                    {
                        "code": "AMOUNT",
                        "datatype": "singlevaluelist",
                        "required": True,
                        "description": "How much?",
                        "values": [{"key": "s", "name": "少量"}, {"key": "l", "name": "大量"}],
                    }
                ]
            },
        )
    return key


def post(client, fmt, data):
    return client.post(f"{BASE}/requests.{fmt}", data=data)


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_services_and_definition(client, world, api_key, fmt):
    r = client.get(f"{BASE}/services.{fmt}")
    assert r.status_code == 200
    if fmt == "json":
        assert r.headers["content-type"].startswith("application/json")
        services = {s["service_code"]: s for s in r.json()}
        assert services["M06010"]["metadata"] is True and services["M06010"]["type"] == "realtime"
        assert services["C01001"]["metadata"] is False and services["C01001"]["group"] == "市政公用设施"
        assert "C01" not in services  # groups are not services
    else:
        assert r.headers["content-type"].startswith("text/xml")
        assert r.text.startswith('<?xml version="1.0" encoding="utf-8"?>')
        root = ET.fromstring(r.content)
        assert root.tag == "services" and root.find("service/service_code") is not None
    d = client.get(f"{BASE}/services/M06010.{fmt}")
    assert d.status_code == 200
    if fmt == "json":
        attr = d.json()["attributes"][0]
        assert (
            attr["code"] == "AMOUNT" and attr["required"] is True and attr["values"][1] == {"key": "l", "name": "大量"}
        )
    else:
        root = ET.fromstring(d.content)
        assert root.tag == "service_definition" and root.findtext("attributes/attribute/values/value/key") == "s"
    missing = client.get(f"{BASE}/services/NOPE.{fmt}")
    assert missing.status_code == 404
    if fmt == "json":
        assert missing.json()[0]["code"] == 404 and "NOPE" in missing.json()[0]["description"]
    else:
        assert ET.fromstring(missing.content).tag == "errors"


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_post_get_and_token(client, world, api_key, fmt):
    r = post(
        client,
        fmt,
        {
            "api_key": api_key,
            "service_code": "M06010",
            "lat": "28.59",
            "long": "119.27",
            "description": "垃圾堆在路边",
            "attribute[AMOUNT]": "l",
            "phone": "13900001111",
            "first_name": "明",
            "last_name": "李",
            "account_id": "acc-1",
        },
    )
    assert r.status_code == 200, r.text
    if fmt == "json":
        created = r.json()[0]
        rid, notice = created["service_request_id"], created["service_notice"]
        assert created["account_id"] == "acc-1" and "token" not in created
    else:
        root = ET.fromstring(r.content)
        rid, notice = root.findtext("request/service_request_id"), root.findtext("request/service_notice")
    token = notice.rsplit("/", 1)[1]
    one = client.get(f"{BASE}/requests/{rid}.{fmt}")
    assert one.status_code == 200
    if fmt == "json":
        row = one.json()[0]
        assert row["status"] == "open" and row["service_code"] == "M06010" and row["lat"] == 28.59
        assert row["requested_datetime"].endswith("+00:00") and row["expected_datetime"]
        assert "13900001111" not in one.text  # the reporter's contact is never published
    else:
        assert ET.fromstring(one.content).findtext("request/status") == "open"
    t = client.get(f"{BASE}/tokens/{token}.{fmt}")
    assert t.status_code == 200 and rid in t.text
    listed = client.get(f"{BASE}/requests.{fmt}", params={"service_code": "M06010", "status": "open"})
    assert rid in listed.text
    assert rid not in client.get(f"{BASE}/requests.{fmt}", params={"status": "closed"}).text
    assert rid not in client.get(f"{BASE}/requests.{fmt}", params={"service_code": "C01001"}).text
    assert rid in client.get(f"{BASE}/requests.{fmt}", params={"service_request_id": f"{rid},999"}).text
    old = client.get(
        f"{BASE}/requests.{fmt}", params={"start_date": "2020-01-01T00:00:00Z", "end_date": "2020-02-01T00:00:00Z"}
    )
    assert old.status_code == 200 and rid not in old.text


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_post_errors_follow_the_spec(client, world, api_key, fmt):
    def err(r):
        if fmt == "json":
            return r.json()[0]["code"], r.json()[0]["description"]
        root = ET.fromstring(r.content)
        assert root.tag == "errors"
        return int(root.findtext("error/code")), root.findtext("error/description")

    ok = {"api_key": api_key, "service_code": "C01001", "lat": "28.59", "long": "119.27"}
    assert err(post(client, fmt, {**ok, "api_key": ""}))[0] == 403
    r = post(client, fmt, {**ok, "api_key": "cos_wrong_key"})
    assert r.status_code == 403 and "api_key" in err(r)[1]
    assert post(client, fmt, {**ok, "service_code": "ZZZ"}).status_code == 404
    r = post(client, fmt, {**ok, "service_code": ""})
    assert r.status_code == 400 and "service_code" in err(r)[1]
    r = post(client, fmt, {**ok, "lat": "31.2", "long": "121.5"})
    assert r.status_code == 400 and err(r)[0] == 400  # outside the county, said plainly
    r = post(client, fmt, {k: v for k, v in ok.items() if k not in ("lat", "long")} | {"address_string": "北街1号"})
    assert r.status_code == 400 and "lat" in err(r)[1]
    r = post(client, fmt, {**ok, "service_code": "M06010"})  # required attribute missing
    assert r.status_code == 400 and "AMOUNT" in err(r)[1]
    r = post(client, fmt, {**ok, "service_code": "M06010", "attribute[AMOUNT]": "x"})
    assert r.status_code == 400
    r = post(client, fmt, {**ok, "jurisdiction_id": "elsewhere.gov"})
    assert r.status_code == 404
    r = client.get(
        f"{BASE}/requests.{fmt}", params={"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"}
    )
    assert r.status_code == 400 and "90" in err(r)[1]
    assert client.get(f"{BASE}/requests/000.{fmt}").status_code == 404
    assert client.get(f"{BASE}/tokens/nope.{fmt}").status_code == 404


def test_discovery_and_unknown_format(client, world):
    d = client.get(f"{BASE}/discovery.json").json()
    assert d["endpoints"][0]["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert client.get(f"{BASE}/services.csv").status_code == 404


def test_idempotency_header_prevents_duplicates(client, world, api_key):
    data = {"api_key": api_key, "service_code": "C01001", "lat": "28.59", "long": "119.27"}
    a = client.post(f"{BASE}/requests.json", data=data, headers={"Idempotency-Key": "app-req-000001"}).json()
    b = client.post(f"{BASE}/requests.json", data=data, headers={"Idempotency-Key": "app-req-000001"}).json()
    assert a[0]["service_request_id"] == b[0]["service_request_id"]


def test_an_address_without_coordinates_is_placed_in_the_village_it_names(client, db, world, api_key):
    from countyos.cases.models import Case
    from countyos.cases.service import location
    from tests.geo.conftest import make_county

    make_county(db)  # the county's real divisions and grids, and the real lookup instead of the fake
    data = {"api_key": api_key, "service_code": "C01001", "address_string": "遂昌县妙高街道东红村12号门口"}
    with location.using(location._geo_locate()):
        r = post(client, "json", data)
    assert r.status_code == 200, r.text
    number = r.json()[0]["service_request_id"]
    got = client.get(f"{BASE}/requests/{number}.json").json()[0]
    assert got["address"] == data["address_string"] and got["lat"] and got["long"]
    with db.reading() as s:
        from sqlalchemy import select

        case = s.scalars(select(Case).where(Case.number == number)).one()
        assert case.attributes["location_from_address"] == "东红村委会"
        assert case.address == data["address_string"] and case.village_code == "331123001200"
    r = post(client, "xml", {**data, "address_string": "人民路88号"})  # names no place: the spec's 400
    assert r.status_code == 400 and b"lat" in r.content and b"<errors>" in r.content


def test_a_report_with_a_photo_can_be_written_on_a_second_try(db, world, api_key):
    """The group-commit writer runs a report again when its first try was rolled back (another report
    of the batch failed): the photo is read again from the start, and the report is written once."""
    import io

    from PIL import Image
    from sqlalchemy import func, select
    from starlette.datastructures import FormData, Headers, UploadFile

    from countyos.cases.models import Attachment
    from countyos.cases.open311 import _post

    buf = io.BytesIO()
    Image.new("RGB", (80, 60), (30, 30, 200)).save(buf, "JPEG")
    photo = UploadFile(io.BytesIO(buf.getvalue()), filename="p.jpg", headers=Headers({"content-type": "image/jpeg"}))
    form = FormData([("service_code", "C01001"), ("lat", "28.59"), ("long", "119.27"), ("media", photo)])
    with db.reading() as s:
        before = s.scalar(select(func.count()).select_from(Attachment))

    class RolledBack(Exception):
        pass

    with pytest.raises(RolledBack), db.unit_of_work() as s:  # the first try, undone
        _post(s, form=form, api_key=api_key, idempotency_key=None, ip="127.0.0.1")
        raise RolledBack
    with db.unit_of_work() as s:
        posted = _post(s, form=form, api_key=api_key, idempotency_key=None, ip="127.0.0.1")
    with db.reading() as s:
        assert s.scalar(select(func.count()).select_from(Attachment)) == before + 1
        att = s.scalars(select(Attachment).order_by(Attachment.id.desc())).first()
        assert att is not None and att.size == len(buf.getvalue())
    assert posted["service_request_id"]


def test_a_photo_posted_with_the_request_is_its_media(client, db, world, api_key):
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (80, 60), (200, 30, 30)).save(buf, "JPEG")
    data = {"api_key": api_key, "service_code": "C01001", "lat": "28.59", "long": "119.27"}
    r = client.post(f"{BASE}/requests.json", data=data, files={"media": ("p.jpg", buf.getvalue(), "image/jpeg")})
    assert r.status_code == 200, r.text
    got = client.get(f"{BASE}/requests/{r.json()[0]['service_request_id']}.json").json()[0]
    assert got["media_url"].startswith("http") and "/open311/v2/media/" in got["media_url"]
    photo = client.get(got["media_url"].split("127.0.0.1:8000", 1)[-1])
    assert photo.status_code == 200 and photo.headers["content-type"] == "image/jpeg"
    # a file that is not a photo is the spec's 400, and no request is created
    before = client.get(f"{BASE}/requests.json").json()
    r = client.post(f"{BASE}/requests.xml", data=data, files={"media": ("x.jpg", b"<html>", "image/jpeg")})
    assert r.status_code == 400 and b"<errors>" in r.content
    assert client.get(f"{BASE}/requests.json").json() == before
