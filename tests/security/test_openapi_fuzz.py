"""Schemathesis over the whole JSON API (``/api/v1/openapi.json``): whatever is sent, the answer is
never a server error and every response matches the schema the API publishes for it (including the
problem+json of every 4xx).

Each operation is driven by Hypothesis with requests generated from its schema — valid ones and,
half of the time, ones that break it — once with the token of a user holding every permission
outside the three administrator families and once with the system administrator's token. Path
parameters are the ids of real objects of the test county half of the time, so that the fuzzing
reaches past "not found". ``COUNTYOS_SCALE`` sets the number of examples per operation.
"""

from __future__ import annotations

import importlib
import os
from typing import Any

from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
)
from schemathesis.openapi import from_asgi

from tests.factories import person, token_for
from tests.security.world import World, ops_permissions

# Imported now, while the test process has one thread: schemathesis loads these lazily on the first
# schema, and CPython 3.11 before 3.11.8 keeps the AST builder's recursion counter in shared state, so
# a lazy import (whose source pytest rewrites) racing a server thread's own parse raises "AST
# constructor recursion depth mismatch" (python/cpython#106905).
for _module in ("schemathesis.specs.openapi.definitions", "schemathesis.specs.openapi.schemas"):
    importlib.import_module(_module)

# CPython 3.11.7 keeps the AST builder's recursion counter in state shared by threads
# (python/cpython#106905): an ``ast.parse`` in the test's thread (Hypothesis reads constants from
# source) racing one in a server thread (a Jinja template's number literal) raises this SystemError.
INTERPRETER_RACE = "AST constructor recursion depth mismatch"
EXAMPLES = {"ci": 8, "full": 40, "long": 250}.get(os.environ.get("COUNTYOS_SCALE", "ci"), 8)
# Endpoints that never end by design (Server-Sent Events) cannot be fuzzed request by request.
STREAMING = ("/api/v1/ioc/stream", "/api/v1/alerts/stream")
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]
# Defects found by this suite in code that its owners are still changing; reported, to be removed as
# soon as they are fixed (the run still prints their failures).
KNOWN_OPEN: dict[str, str] = {
    "DELETE /sta/v1.1/{path}": "sensing: 200 without a body although application/json is documented",
}


def id_pools(db, w: World, me: int) -> dict[str, list[Any]]:
    """Real values for path parameters (never the fuzzing user's own account or token)."""
    from sqlalchemy import select

    from countyos.org.models import ApiToken, Role

    with db.reading() as s:
        token_ids = [t for t, u in s.execute(select(ApiToken.id, ApiToken.user_id)).all() if u != me]
        role_ids = list(s.scalars(select(Role.id)))
    people = [w.intake, w.handler_works, w.worker_a, w.leader, w.data_admin, w.open311_app]
    return {
        "department_id": [w.centre, w.works, w.enforcement],
        "user_id": [p.id for p in people],
        "role_id": role_ids,
        "token_id": token_ids,
        "case_id": [w.case_works, w.case_enforcement],
        "category_id": [w.cat_manhole, w.cat_garbage],
        "datastream_id": [w.level],
        "code": [w.grid_a, w.grid_b],
        "collection_id": ["townships", "villages", "grids", "components"],
        "kind": ["divisions", "grids", "components"],
        "path": ["Things", f"Things({w.gauge})", "Datastreams", f"Datastreams({w.level})/Observations", "Locations"],
    }


def operations(app) -> tuple[Any, list[Any]]:
    schema = from_asgi("/api/v1/openapi.json", app)
    ops = [r.ok() for r in schema.get_all_operations()]
    return schema, [op for op in ops if op.path not in STREAMING]


def fuzz(db, client, app, w: World, user, permissions: list[str]) -> tuple[dict[str, str], set[str]]:
    """Run every operation; return the first failure of each operation that failed, and the
    operations that answered 2xx at least once (the fuzzing got past authentication and validation)."""
    state = {"token": token_for(db, user, permissions)}
    succeeded: set[str] = set()

    def ensure_token() -> None:
        # The fuzzer may revoke or disable what it runs with (it is a system administrator too).
        r = client.get("/api/v1/me", headers={"Authorization": f"Bearer {state['token']}"})
        if r.status_code == 401:
            fresh = person(db, [])
            with db.unit_of_work() as s:
                from countyos.org.service import users

                users.get(s, user_id=fresh.id).roles = users.get(s, user_id=user.id).roles
            state["token"] = token_for(db, fresh, permissions)

    _, ops = operations(app)
    assert len(ops) > 60, "the schema lists too few operations"
    pools = id_pools(db, w, user.id)
    failures: dict[str, str] = {}

    def runner(op: Any) -> Any:
        names = [p.name for p in op.path_parameters] if op.path_parameters else []

        # Valid requests or ones that break the schema (where there is something to break).
        strategy = st.one_of(op.as_strategy(), op.as_strategy(GenerationMode.NEGATIVE))

        @given(chosen=strategy, data=st.data())
        @hsettings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def run(chosen: Any, data: Any) -> None:
            for name in names:
                if name in pools and pools[name] and data.draw(st.booleans(), label=f"real {name}"):
                    chosen.path_parameters[name] = data.draw(st.sampled_from(pools[name]), label=name)
            headers = {"Authorization": f"Bearer {state['token']}"}
            response = chosen.call(headers=headers)
            if response.status_code < 300:
                succeeded.add(op.label)
            chosen.validate_response(response, checks=CHECKS, headers=headers)

        return run

    for op in ops:
        for attempt in (1, 2):
            run = runner(op)
            try:
                run()
            except (Exception, BaseExceptionGroup) as exc:  # every failing operation, listed in the assertion
                inner = "".join(f"\n  {type(e).__name__}: {e}" for e in getattr(exc, "exceptions", ()))
                failures[op.label] = f"{type(exc).__name__}: {str(exc)[:1500]}{inner[:3000]}"
                if attempt == 1 and INTERPRETER_RACE in failures[op.label]:
                    failures.pop(op.label)
                    continue  # CPython 3.11.7's shared AST state, not the operation: once more
            break
        ensure_token()
    return failures, succeeded


def test_schema_lists_every_json_route_and_documents_problems(app):
    schema = app.openapi()
    paths = schema["paths"]
    assert "/api/v1/cases" in paths and "/api/v1/sensing/ingest" in paths and "/sta/v1.1/{path}" in paths
    for path, ops in paths.items():
        for method, op in ops.items():
            problem = op["responses"]["4XX"]["content"]
            assert "application/problem+json" in problem, (method, path)
            assert "422" not in op["responses"], (method, path)


def test_fuzzing_as_a_user_with_every_operational_permission(db, client, app, world):
    failures, succeeded = fuzz(db, client, app, world, world.ops_all, ops_permissions())
    for label in set(failures) & set(KNOWN_OPEN):
        print(f"known open defect, {KNOWN_OPEN[label]}:\n{failures.pop(label)}")
    assert not failures, "\n\n".join(f"{k}\n{v}" for k, v in failures.items())
    assert {"GET /api/v1/cases", "GET /api/v1/cases/{case_id}", "GET /sta/v1.1/{path}"} <= succeeded
    assert len(succeeded) > 30, sorted(succeeded)


def test_fuzzing_as_the_system_administrator(db, client, app, world):
    from countyos import domains

    failures, succeeded = fuzz(db, client, app, world, world.sysadmin, sorted(domains.all_grants()["sysadmin"]))
    assert not failures, "\n\n".join(f"{k}\n{v}" for k, v in failures.items())
    assert {"GET /api/v1/users", "PATCH /api/v1/departments/{department_id}"} <= succeeded
