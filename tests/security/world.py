"""A small but real county for the security suites: the packaged boundaries of 遂昌县 with 5 km unit
grids, departments, one person per role (plus a user holding every non-administrative permission),
the GB/T 47678.5 categories with routing, two grid workers on different grids, cases in two
departments, a river gauge with a device token and an Open311 reporting app.

Everything goes through the domains' services (the same code paths the pages and the API use).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from countyos import domains
from countyos.cases.models import CategoryKind, Channel
from countyos.cases.schemas import ActionIn
from countyos.cases.service import cases, categories, routing, transitions
from countyos.core.actor import Actor
from countyos.core.db import Database
from countyos.core.permissions import ADMIN_FAMILIES
from countyos.geo.models import Grid
from countyos.geo.service import divisions, grids
from countyos.org.models import DepartmentKind, Permission, Role
from countyos.org.service import auth, users
from countyos.sensing.service import devices
from countyos.sensing.service.devices import DeviceSpec, MetricSpec
from tests.factories import Person, department, open311_app, person, token_for
from tests.harness import Baseline

FACTORY = Actor(id=None, name="factory")
COUNTY = "331123"

GAUGE = DeviceSpec(
    device_key="sec-wl-01",
    name="安全测试水位站",
    device_class="river_gauge",
    lon=119.27,
    lat=28.59,
    expected_interval_s=300,
    metrics=(MetricSpec("water_level", "水位", "metre", "m", valid_min=-5, valid_max=50),),
)


def ops_permissions() -> list[str]:
    """Every permission outside the three separated administrator families."""
    return sorted(p.code for p in domains.all_permissions() if p.family not in ADMIN_FAMILIES)


@dataclass
class World:
    centre: int
    works: int  # 住建局
    enforcement: int  # 执法局
    intake: Person
    shift: Person
    dispatcher: Person
    handler_works: Person
    handler_enforcement: Person
    worker_a: Person  # grid worker of grid_a
    worker_b: Person  # grid worker of grid_b
    leader: Person
    data_admin: Person
    sysadmin: Person
    secadmin: Person
    auditadmin: Person
    ops_all: Person  # every non-administrative permission
    open311_app: Person
    open311_key: str
    grid_a: str
    grid_b: str
    point_a: tuple[float, float]
    point_b: tuple[float, float]
    cat_manhole: int  # C01001, routed to 住建局
    cat_garbage: int  # M06010, routed to 执法局
    case_works: int  # dispatched to 住建局, in grid_a
    case_enforcement: int  # dispatched to 执法局, in grid_b
    gauge: int
    level: int  # the gauge's datastream
    device_token: str
    extra: dict[str, int] = field(default_factory=dict)

    def actor(self, db: Database, p: Person) -> Actor:
        with db.reading() as s:
            return auth.actor_for(users.get(s, user_id=p.id), "127.0.0.1")

    def bearer(self, db: Database, p: Person, scopes: list[str] | None = None) -> dict[str, str]:
        """An API token of P with all of P's permissions (or SCOPES)."""
        if scopes is None:
            with db.reading() as s:
                scopes = sorted(users.get(s, user_id=p.id).permission_codes)
        return {"Authorization": f"Bearer {token_for(db, p, scopes)}"}


def _grid_points(db: Database) -> list[tuple[str, str, tuple[float, float]]]:
    """(grid code, township code, a point inside) of whole grids in two different townships."""
    with db.reading() as s:
        rows = list(s.scalars(select(Grid).order_by(Grid.code)))
        out: dict[str, tuple[str, str, tuple[float, float]]] = {}
        for g in rows:
            if g.township_code in out:
                continue
            p = g.geom.representative_point()
            out[g.township_code] = (g.code, g.township_code, (round(p.x, 6), round(p.y, 6)))
            if len(out) == 2:
                break
    return list(out.values())


def _make_ops_role(db: Database) -> str:
    with db.unit_of_work() as s:
        role = Role(code="ops_all", name="全部业务权限", is_builtin=False)
        role.permissions = list(s.scalars(select(Permission).where(Permission.code.in_(ops_permissions()))))
        s.add(role)
    return "ops_all"


def build(db: Database) -> World:
    centre = department(db, "县城市运行管理中心", DepartmentKind.OPS_CENTRE)
    works = department(db, "县住房和城乡建设局")
    enforcement = department(db, "县综合行政执法局")
    with db.unit_of_work() as s:
        divisions.bootstrap(s, actor=FACTORY, county_code=COUNTY)
        grids.generate(s, actor=FACTORY, cell_m=5000)
    (grid_a, _town_a, point_a), (grid_b, _town_b, point_b) = _grid_points(db)

    worker_a = person(db, ["inspector"], department_id=centre)
    worker_b = person(db, ["inspector"], department_id=centre)
    with db.unit_of_work() as s:
        grids.update(s, actor=FACTORY, code=grid_a, worker_ids=[worker_a.id])
        grids.update(s, actor=FACTORY, code=grid_b, worker_ids=[worker_b.id])
        categories.import_gb_directory(s, actor=FACTORY)
        categories.ensure_default_limits(s)
        manhole = categories.get_by_code(s, kind=CategoryKind.COMPONENT, code="01001")
        garbage = categories.get_by_code(s, kind=CategoryKind.MATTER, code="06010")
        assert manhole is not None and garbage is not None
        routing.save_rule(s, actor=FACTORY, category_id=manhole.id, department_id=works)
        routing.save_rule(s, actor=FACTORY, category_id=garbage.id, department_id=enforcement)
        cat_manhole, cat_garbage = manhole.id, garbage.id

    app_user, open311_key = open311_app(db, [])

    w = World(
        centre=centre,
        works=works,
        enforcement=enforcement,
        intake=person(db, ["intake"], department_id=centre),
        shift=person(db, ["shift_leader"], department_id=centre),
        dispatcher=person(db, ["dispatcher"], department_id=centre),
        handler_works=person(db, ["handler"], department_id=works),
        handler_enforcement=person(db, ["handler"], department_id=enforcement),
        worker_a=worker_a,
        worker_b=worker_b,
        leader=person(db, ["leader"], department_id=centre),
        data_admin=person(db, ["data_admin"], department_id=centre),
        sysadmin=person(db, ["sysadmin"]),
        secadmin=person(db, ["secadmin"]),
        auditadmin=person(db, ["auditadmin"]),
        ops_all=person(db, [_make_ops_role(db)], department_id=centre),
        open311_app=app_user,
        open311_key=open311_key,
        grid_a=grid_a,
        grid_b=grid_b,
        point_a=point_a,
        point_b=point_b,
        cat_manhole=cat_manhole,
        cat_garbage=cat_garbage,
        case_works=0,
        case_enforcement=0,
        gauge=0,
        level=0,
        device_token="",
    )
    w.case_works = dispatched_case(db, w, w.worker_a, cat_manhole, point_a)
    w.case_enforcement = dispatched_case(db, w, w.worker_b, cat_garbage, point_b)
    with db.unit_of_work() as s:
        thing = devices.register(s, actor=FACTORY, spec=GAUGE)
        (ds,) = devices.datastreams_of(s, thing_id=thing.id)
        _, w.device_token = devices.issue_token(s, actor=FACTORY, thing_id=thing.id, name="gauge")
        w.gauge, w.level = thing.id, ds.id
    return w


BASELINE = Baseline("security world", lambda db, _built: build(db))


def new_case(
    db: Database, w: World, reporter: Person, category_id: int, point: tuple[float, float], text: str = "井盖缺失"
) -> int:
    with db.unit_of_work() as s:
        case, _, _ = cases.create(
            s,
            actor=w.actor(db, reporter),
            new=cases.NewCase(
                channel=Channel.GRID,
                category_id=category_id,
                description=text,
                lon=point[0],
                lat=point[1],
                reporter=cases.ReporterIn(user_id=reporter.id),
            ),
        )
        return case.id


def dispatched_case(db: Database, w: World, reporter: Person, category_id: int, point: tuple[float, float]) -> int:
    """A case reported by REPORTER in its grid, accepted, registered and dispatched by routing."""
    from countyos.cases.lifecycle import Action

    cid = new_case(db, w, reporter, category_id, point)
    for p, action in ((w.intake, Action.ACCEPT), (w.shift, Action.REGISTER), (w.dispatcher, Action.DISPATCH)):
        with db.unit_of_work() as s:
            transitions.apply(s, actor=w.actor(db, p), case_id=cid, data=ActionIn(action=action))
    return cid


AUDIT_TABLES = {"org_audit_event", "org_audit_head"}


def row_counts(db: Database) -> dict[str, int]:
    """The number of rows of every table (the audit log's own tables left out)."""
    from sqlalchemy import func, table

    from countyos.core.db import Base

    with db.reading() as s:
        return {
            t.name: int(s.scalar(select(func.count()).select_from(table(t.name))) or 0)
            for t in Base.metadata.sorted_tables
            if t.name not in AUDIT_TABLES
        }


def files_under(folder) -> set[str]:
    from pathlib import Path

    root = Path(folder)
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()} if root.exists() else set()
