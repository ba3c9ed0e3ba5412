"""The SensorThings read lane: the common reads are answered before routing, with the answer the
route gives; everything else (a refusal, a session, credentials that are not kept, a write) is
handed to the route untouched."""

from __future__ import annotations

from typing import Any

import pytest

from countyos.sensing.api import sta
from tests.factories import person, token_for
from tests.loops import run_alone
from tests.sensing.sta_helpers import machine
from tests.sensing.sta_world import STA


class Passed:
    """Through the lane as ASGI, the route replaced by a recorder (status 599)."""

    def __init__(self, app: Any, path: str, query: str = "", headers: dict[str, str] | None = None,
                 method: str = "GET") -> None:  # fmt: skip
        self.handed: list[str] = []
        sent: list[dict[str, Any]] = []

        async def route(scope: Any, receive: Any, send: Any) -> None:
            self.handed.append(scope["path"])
            await send({"type": "http.response.start", "status": 599, "headers": []})
            await send({"type": "http.response.body", "body": b""})

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        raw = [(b"host", b"testserver")] + [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
        self.scope: dict[str, Any] = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
            "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": query.encode(),
            "root_path": "", "headers": raw, "client": ("127.0.0.1", 5000), "server": ("testserver", 80),
            "state": {}, "app": app,
        }  # fmt: skip
        run_alone(sta.ReadLane(route)(self.scope, receive, send))
        self.status = sent[0]["status"]
        self.body = b"".join(m.get("body", b"") for m in sent[1:])


@pytest.fixture
def thing(client, db) -> int:
    r = client.post(f"{STA}/Things", json={"name": "雨量站", "description": "d"}, headers=machine(db))
    assert r.status_code == 201, r.text
    return int(r.json()["@iot.id"])


def test_an_anonymous_read_is_answered_as_the_route_answers_it(app, client, thing):
    lane = Passed(app, f"{STA}/Things({thing})", "$select=name,description")
    assert (lane.status, lane.handed) == (200, [])
    assert lane.scope["route"].path == f"{STA}/{{path:path}}"  # the metrics name the route
    # the route, reached by a request the lane hands over (a session cookie that names no session)
    routed = client.get(f"{STA}/Things({thing})?$select=name,description", headers={"Cookie": "countyos_session=x"})
    assert routed.status_code == 200
    assert lane.body == routed.content


@pytest.mark.parametrize(
    "path, query, status",
    [
        ("/Things", "$top=many", 400),  # a bad query
        ("/Things(999999)", "", 404),  # not found
        ("/Nothings", "", 404),
    ],
)
def test_the_reads_own_errors_are_told_as_the_route_tells_them(app, client, path, query, status):
    lane = Passed(app, f"{STA}{path}", query, headers={"Accept": "application/json"})
    assert (lane.status, lane.handed) == (status, [])  # not read a second time by the route
    routed = client.get(f"{STA}{path}?{query}", headers={"Accept": "application/json", "Cookie": "countyos_session=x"})
    assert routed.status_code == status
    assert lane.body == routed.content
    lane_page = Passed(app, f"{STA}{path}", query, headers={"Accept": "text/html"})  # a person's browser
    routed_page = client.get(f"{STA}{path}?{query}", headers={"Accept": "text/html", "Cookie": "countyos_session=x"})
    assert (lane_page.status, routed_page.status_code) == (status, status)
    assert lane_page.body == routed_page.content


def test_a_session_a_write_and_other_paths_go_to_the_route(app, thing):
    assert Passed(app, f"{STA}/Things", headers={"Cookie": "countyos_session=abc"}).handed
    assert Passed(app, f"{STA}/Things", method="POST").handed
    assert Passed(app, STA).handed  # the service root is a route of its own
    assert Passed(app, f"{STA}/").handed
    assert Passed(app, "/api/v1/healthz").handed
    assert Passed(app, f"{STA}/Things", headers={"Authorization": "Bearer cos_not_a_token"}).handed
    assert Passed(app, f"{STA}/Things", headers={"Authorization": "Basic !!"}).handed


@pytest.mark.committed  # credentials are kept from committed reads only
def test_credentials_are_the_lanes_once_the_route_has_checked_them(app, client, db):
    p = person(db, ["data_admin"])
    bearer = {"Authorization": f"Bearer {token_for(db, p, ['sensing.read'])}"}
    assert Passed(app, f"{STA}/Things", headers=bearer).handed  # not checked yet: the route checks it
    assert client.get(f"{STA}/Things", headers=bearer).status_code == 200  # … and keeps it,
    writer = getattr(app.state, "side_writer", None)  # the token's last use, written aside, empties the cache
    assert writer is None or writer.drain()
    assert client.get(f"{STA}/Things", headers=bearer).status_code == 200  # then for good
    kept = Passed(app, f"{STA}/Things", headers=bearer)
    assert (kept.status, kept.handed) == (200, [])
    assert kept.scope["state"]["auth"].user.id == p.id
    basic = machine(db)
    assert Passed(app, f"{STA}/Things", headers=basic).handed
    assert client.get(f"{STA}/Things", headers=basic).status_code == 200
    assert Passed(app, f"{STA}/Things", headers=basic).handed == []


def test_reads_that_need_a_permission_are_checked(app, client, db, settings, monkeypatch, thing):
    monkeypatch.setattr(settings, "sta_public_read", False)
    assert Passed(app, f"{STA}/Things").handed  # anonymous: the route refuses it (and records that)
    assert client.get(f"{STA}/Things").status_code == 401
    p = person(db, ["data_admin"])
    writer_only = {"Authorization": f"Bearer {token_for(db, p, ['sensing.write'])}"}
    assert client.get(f"{STA}/Things", headers=writer_only).status_code == 403
    assert Passed(app, f"{STA}/Things", headers=writer_only).handed
