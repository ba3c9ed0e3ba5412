"""The data part of the demonstration county: about 40 resources of its departments
(``data/demo_resources.toml``) with their rows, a year of load history, the 数据沉淀 that follows from it,
two connectors reading a demo department database file, four CountyOS live sources, and a few sharing
requests and grants with calls.

Rows are generated deterministically from each resource's template (enterprises with valid credit codes,
places inside the county, people with valid ID numbers — fictitious), written to a file and loaded
through the one load path, as a department's file would be.
"""

from __future__ import annotations

import csv
import json
import random
import sqlite3
import tempfile
import tomllib
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from shapely.geometry import Point, box
from shapely.geometry.base import BaseGeometry
from sqlalchemy.orm import Session

from countyos.core.actor import Actor
from countyos.core.clock import utcnow
from countyos.core.demo import DemoContext
from countyos.core.idnumbers import resident_check_char
from countyos.core.settings import get_settings
from countyos.data.codes import OpenType
from countyos.data.lifecycle import State
from countyos.data.models import Download, Load, Resource
from countyos.data.schemas import ActionIn, ConnectorIn, DecisionIn, ResourceIn, ShareRequestIn
from countyos.data.service import catalogue, connectors, loads, sharing
from countyos.geo import service as geo
from countyos.org.models import DepartmentKind
from countyos.org.service import departments, uscc

ACTOR = Actor(id=None, name="demo", permissions=frozenset({catalogue.MANAGE, catalogue.REVIEW}))
DATA = Path(__file__).parent / "data" / "demo_resources.toml"
TOWNS = ["妙高街道", "云峰街道", "北界镇", "大柘镇", "金竹镇", "湖山乡", "焦滩乡", "濂竹乡"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董叶"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英建华文"
WORDS = ["绿源", "山水", "金竹", "乌溪", "仙侠", "汤公", "红星", "云峰", "茶香", "竹韵", "高坪", "神龙"]
TRADES = ["农业开发", "茶业", "竹木制品", "旅游开发", "食品", "建材", "电子商务", "物流", "民宿管理", "生态农业"]


def _item(name: str, label: str, type_: str = "text", **flags: Any) -> dict[str, Any]:
    return {"name": name, "label": label, "type": type_, "open": flags.pop("open", True), **flags}


TEMPLATES: dict[str, list[dict[str, Any]]] = {
    "enterprise": [
        _item("name", "企业名称"),
        _item("uscc", "统一社会信用代码", is_key=True),
        _item("founded", "成立日期", "date"),
        _item("capital", "注册资本（万元）", "number"),
        _item("township", "所属乡镇"),
        _item("address", "住所"),
        _item("legal_person", "法定代表人", sensitive=True, open=False),
        _item("phone", "联系电话", sensitive=True, open=False),
    ],
    "licence": [
        _item("number", "编号", is_key=True),
        _item("holder", "主体名称"),
        _item("uscc", "统一社会信用代码"),
        _item("item", "事项内容"),
        _item("issued", "发布日期", "date"),
        _item("valid_until", "有效期至", "date"),
        _item("status", "状态"),
    ],
    "price": [
        _item("day", "日期", "date"),
        _item("product", "品名"),
        _item("market", "市场"),
        _item("unit", "计量单位"),
        _item("price", "价格（元）", "number"),
    ],
    "place": [
        _item("name", "名称"),
        _item("kind", "类别"),
        _item("township", "所属乡镇"),
        _item("address", "地址"),
        _item("phone", "联系电话"),
        _item("capacity", "规模", "integer"),
        _item("geometry", "位置", "geometry"),
    ],
    "area": [
        _item("code", "编号", is_key=True),
        _item("name", "名称"),
        _item("township", "所属乡镇"),
        _item("area_mu", "面积（亩）", "number"),
        _item("geometry", "范围", "geometry"),
    ],
    "people": [
        _item("name", "姓名", sensitive=True, open=False),
        _item("id_number", "公民身份号码", sensitive=True, open=False),
        _item("phone", "联系电话", sensitive=True, open=False, shared=False),
        _item("township", "所属乡镇", open=False),
        _item("village", "所属村（社区）", open=False),
        _item("household", "家庭人口", "integer", open=False),
        _item("amount", "月保障金额（元）", "number", open=False),
        _item("since", "认定日期", "date", open=False),
    ],
    "stat": [_item("month", "月份"), _item("item", "统计项"), _item("count", "数量", "integer")],
    "live": [],
}
RULES: dict[str, list[dict[str, Any]]] = {
    "enterprise": [
        {"kind": "not_null", "column": "name"},
        {"kind": "uscc", "column": "uscc"},
        {"kind": "unique", "column": "uscc"},
        {"kind": "phone", "column": "phone"},
    ],
    "licence": [
        {"kind": "unique", "column": "number"},
        {"kind": "uscc", "column": "uscc"},
        {"kind": "code_list", "column": "status", "params": {"values": ["有效", "注销", "过期"]}},
    ],
    "price": [{"kind": "range", "column": "price", "params": {"min": 0, "max": 1000}}],
    "place": [{"kind": "not_null", "column": "name"}, {"kind": "in_county", "column": "geometry"}],
    "area": [{"kind": "unique", "column": "code"}],
    "people": [{"kind": "resident_id", "column": "id_number"}, {"kind": "phone", "column": "phone"}],
}


def resources() -> list[dict[str, Any]]:
    with DATA.open("rb") as f:
        return list(tomllib.load(f)["resource"])


class Rows:
    """Deterministic fictitious rows of a template, inside the county."""

    def __init__(self, seed: int, county: BaseGeometry | None) -> None:
        self.rnd = random.Random(seed)
        self.county = county if county is not None else box(119.0, 28.4, 119.4, 28.8)
        self.seq = 0

    def point(self) -> Point:
        minx, miny, maxx, maxy = self.county.bounds
        for _ in range(200):
            p = Point(self.rnd.uniform(minx, maxx), self.rnd.uniform(miny, maxy))
            if self.county.contains(p):
                return p
        return self.county.representative_point()

    def uscc(self, head: str = "91331123") -> str:
        self.seq += 1
        first17 = f"{head}MA2{self.seq:06d}"[:17]
        return first17 + uscc.check_char(first17)

    def person(self) -> str:
        return self.rnd.choice(SURNAMES) + "".join(self.rnd.choice(GIVEN) for _ in range(self.rnd.choice((1, 2))))

    def id_number(self) -> str:
        born = date(1940, 1, 1) + timedelta(days=self.rnd.randrange(0, 365 * 60))
        first17 = f"331123{born:%Y%m%d}{self.rnd.randrange(0, 1000):03d}"
        return first17 + resident_check_char(first17)

    def phone(self) -> str:
        return f"1{self.rnd.choice('35789')}{self.rnd.randrange(0, 10**9):09d}"

    def day(self, start: date, span: int) -> str:
        return (start + timedelta(days=self.rnd.randrange(0, max(span, 1)))).isoformat()

    def row(self, template: str, n: int, title: str) -> list[Any]:
        r, town = self.rnd, self.rnd.choice(TOWNS)
        if template == "enterprise":
            return [
                f"遂昌县{r.choice(WORDS)}{r.choice(TRADES)}有限公司{n}",
                self.uscc(),
                self.day(date(1998, 1, 1), 9800),
                round(r.uniform(10, 5000), 1),
                town,
                f"{town}{r.choice(WORDS)}路{r.randrange(1, 300)}号",
                self.person(),
                self.phone(),
            ]
        if template == "licence":
            issued = date.today() - timedelta(days=r.randrange(0, 1500))
            return [
                f"JY{33112300000 + n:011d}",
                f"遂昌县{r.choice(WORDS)}{r.choice(TRADES)}店",
                self.uscc("92331123"),
                title.replace("信息", "").replace("结果", ""),
                issued.isoformat(),
                (issued + timedelta(days=1825)).isoformat(),
                r.choice(["有效", "有效", "有效", "注销", "过期"]),
            ]
        if template == "price":
            products = [
                ("青菜", "斤", 3.0),
                ("猪肉", "斤", 16.0),
                ("鸡蛋", "斤", 6.0),
                ("大米", "斤", 3.2),
                ("高山茶叶", "斤", 280.0),
                ("竹笋", "斤", 5.0),
                ("土鸡", "只", 120.0),
                ("菜籽油", "斤", 12.0),
            ]
            name, unit, base = products[n % len(products)]
            return [
                self.day(date.today() - timedelta(days=40), 40),
                name,
                r.choice(["县城农贸市场", "北界集市", "大柘农贸市场"]),
                unit,
                round(base * r.uniform(0.8, 1.25), 2),
            ]
        if template == "place":
            p = self.point()
            return [
                f"{town}{title.replace('名录', '').replace('位置和泊位', '').replace('位置', '')}{n}",
                r.choice(["一类", "二类", "三类"]),
                town,
                f"{town}{r.choice(WORDS)}路{r.randrange(1, 300)}号",
                f"0578-{r.randrange(8000000, 8999999)}",
                r.randrange(10, 500),
                json.dumps({"type": "Point", "coordinates": [round(p.x, 6), round(p.y, 6)]}),
            ]
        if template == "area":
            p = self.point()
            d = 0.002
            ring = [[p.x - d, p.y - d], [p.x + d, p.y - d], [p.x + d, p.y + d], [p.x - d, p.y + d], [p.x - d, p.y - d]]
            return [
                f"Q{n:05d}",
                f"{town}{title[:4]}{n}",
                town,
                round(r.uniform(5, 800), 1),
                json.dumps({"type": "Polygon", "coordinates": [[[round(x, 6), round(y, 6)] for x, y in ring]]}),
            ]
        if template == "people":
            return [
                self.person(),
                self.id_number(),
                self.phone(),
                town,
                f"{town}{r.choice(WORDS)}村",
                r.randrange(1, 6),
                round(r.uniform(300, 1200), 0),
                self.day(date(2015, 1, 1), 3600),
            ]
        if template == "stat":
            month = (date.today().replace(day=1) - timedelta(days=31 * (n // 3))).strftime("%Y-%m")
            return [month, ["新增", "变更", "注销"][n % 3], r.randrange(10, 800)]
        raise KeyError(template)


def _write(path: Path, template: str, rows: Iterator[list[Any]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow([i["label"] for i in TEMPLATES[template]])
        w.writerows(rows)


def _department(session: Session, ctx: DemoContext, name: str, seq: int) -> int:
    dep = departments.get_by_name(session, name=name)
    if dep is None:
        first17 = f"11{ctx.county_code}{'0' * 6}{seq:03d}"[:17]
        dep = departments.create(
            session,
            actor=ACTOR,
            name=name,
            kind=DepartmentKind.DEPARTMENT,
            uscc_code=first17 + uscc.check_char(first17),
            division_code=ctx.county_code,
        )
        ctx.department_ids[name] = dep.id
    return dep.id


def _load(session: Session, rid: int, path: Path, *, at: Any) -> Load:
    load = loads.load_file(session, actor=ACTOR, resource_id=rid, path=path, filename=path.name)
    load.started_at, load.finished_at = at, at + timedelta(seconds=max(load.seconds, 0.1))
    return load


def _department_database(folder: Path, gen: Rows) -> Path:
    """A department's own database file (市场监管局 登记系统), read by two connectors."""
    path = folder / "scjg_registry.db"
    path.unlink(missing_ok=True)
    con = sqlite3.connect(path)
    con.execute(
        "CREATE TABLE abnormal (qymc TEXT, xydm TEXT, clrq TEXT, zczb REAL, ssxz TEXT, zs TEXT, fddbr TEXT, lxdh TEXT)"
    )
    con.executemany(
        "INSERT INTO abnormal VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [gen.row("enterprise", n, "") for n in range(1, 41)]
    )
    con.execute("CREATE TABLE checks (bh TEXT, mc TEXT, xydm TEXT, nr TEXT, rq TEXT, yxq TEXT, zt TEXT)")
    con.executemany(
        "INSERT INTO checks VALUES (?, ?, ?, ?, ?, ?, ?)", [gen.row("licence", n, "产品质量抽检") for n in range(1, 61)]
    )
    con.commit()
    con.close()
    return path


CONNECTOR_QUERIES = {
    "registry_abnormal": 'SELECT qymc AS "企业名称", xydm AS "统一社会信用代码", clrq AS "成立日期", '
    'zczb AS "注册资本（万元）", ssxz AS "所属乡镇", zs AS "住所", fddbr AS "法定代表人", lxdh AS "联系电话" '
    "FROM abnormal",
    "registry_checks": 'SELECT bh AS "编号", mc AS "主体名称", xydm AS "统一社会信用代码", nr AS "事项内容", '
    'rq AS "发布日期", yxq AS "有效期至", zt AS "状态" FROM checks',
}


def load(session: Session, ctx: DemoContext) -> None:
    now = utcnow()
    county = geo.the_county(session)
    gen = Rows(20261203, county.geom if county is not None else None)
    folder = get_settings().data_dir / "demo"
    folder.mkdir(parents=True, exist_ok=True)
    registry = _department_database(folder, gen)
    ids: dict[str, int] = {}
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        for seq, spec in enumerate(resources(), start=301):
            template = spec["template"]
            live = template == "live"
            provider = _department(session, ctx, spec["provider"], seq)
            classes = [*spec.get("class", []), "", "", "", ""][:4]
            data = ResourceIn.model_validate(
                {
                    "name": spec["name"],
                    "code": f"331123-{seq:04d}",
                    "title": spec["title"],
                    "summary": f"{spec['provider']}提供的{spec['title']}，{'实时' if live else '按更新周期'}更新。",
                    "class_1": classes[0],
                    "class_2": classes[1],
                    "class_3": classes[2],
                    "class_4": classes[3],
                    "provider_id": provider,
                    "format": "数据库" if template == "live" else "电子表格",
                    "share_type": spec["share"],
                    "share_condition": spec.get("condition", ""),
                    "open_type": spec["open"],
                    "open_condition": "",
                    "update_cycle": spec["cycle"],
                    "source_system": "CountyOS" if template == "live" else f"{spec['provider']}业务系统",
                    "grade": spec.get("grade", "general"),
                    "sensitivity": spec.get("sensitivity", 1),
                    "keywords": spec.get("keywords", []),
                    "themes": spec.get("themes", []),
                    "items": TEMPLATES[template],
                    "rules": RULES.get(template, []),
                }
            )
            rid = catalogue.create(session, actor=ACTOR, data=data).id
            ids[spec["name"]] = rid
            if template == "live":
                source = ConnectorIn(
                    name=spec["title"],
                    kind="countyos",
                    address=spec["live"],
                    every_minutes=spec.get("every_minutes", 1440),
                )
                connectors.run(
                    session,
                    actor=ACTOR,
                    connector_id=connectors.create(session, actor=ACTOR, resource_id=rid, data=source).id,
                )
            elif "connector" in spec:
                pull = ConnectorIn(
                    name=f"市场监管局登记系统：{spec['title']}",
                    kind="sql",
                    address=f"sqlite:///{registry}",
                    query=CONNECTOR_QUERIES[spec["connector"]],
                    every_minutes=1440,
                )
                connectors.run(
                    session,
                    actor=ACTOR,
                    connector_id=connectors.create(session, actor=ACTOR, resource_id=rid, data=pull).id,
                )
            else:
                history = int(spec.get("history", 1))
                for k in range(history):
                    months_ago = history - 1 - k
                    count = max(spec["rows"] - months_ago * max(spec["rows"] // 40, 1), 1)
                    path = Path(tmp) / f"{spec['name']}-{k}.csv"
                    _write(path, template, (gen.row(template, n, spec["title"]) for n in range(1, count + 1)))
                    at = now - timedelta(days=30 * months_ago + (60 if spec.get("stale") else 0), hours=seq % 7)
                    _load(session, rid, path, at=at)
            state = spec.get("state", "published")
            steps = {"draft": [], "in_review": ["submit"], "published": ["submit", "approve"]}[state]
            for action in steps:
                res = catalogue.get(session, rid)
                catalogue.act(session, actor=ACTOR, resource_id=rid, data=ActionIn(action=action, version=res.version))
            if state == "published":
                res = catalogue.get(session, rid)
                res.published_on = (now - timedelta(days=30 * int(spec.get("history", 1)))).date()
    _sharing(session, ctx, ids)
    _downloads(session, [ids[name] for name in ids], now)
    ctx.notes.append(
        f"Data: {len(ids)} resources in the catalogue (/data/resources); open data at /open, "
        "CKAN at /api/3/action/package_list, DCAT at /catalog.ttl."
    )


def _downloads(session: Session, resource_ids: list[int], now: datetime) -> None:
    """A year of anonymous downloads of the open resources from the portal: a few a week each, more
    for the popular ones, in the formats people take (most CSV and Excel)."""
    rng = random.Random(20261204)
    rows: list[Download] = []
    for rid in resource_ids:
        res = session.get(Resource, rid)
        if res is None or res.state != State.PUBLISHED or res.open_type != OpenType.UNCONDITIONAL:
            continue
        current = session.get(Load, res.current_load_id) if res.current_load_id else None
        if current is None:
            continue
        weekly = rng.choice((1, 2, 3, 5, 8))
        for day in range(365, 0, -1):
            for _ in range(sum(rng.random() < weekly / 7 for _ in range(2))):
                fmt = rng.choices(("CSV", "XLSX", "JSON"), weights=(5, 4, 1))[0]
                at = now - timedelta(days=day, minutes=rng.randrange(0, 24 * 60))
                rows.append(Download(resource_id=rid, load_id=current.id, format=fmt, rows=current.rows_loaded, at=at))
    session.add_all(rows)
    session.flush()


def _sharing(session: Session, ctx: DemoContext, ids: dict[str, int]) -> None:
    """Requests and grants between departments, with a few calls on them."""
    until = date.today() + timedelta(days=365)

    def actor_of(dept: str) -> Actor:
        found = departments.get_by_name(session, name=dept)
        assert found is not None, dept  # the services and org demos made it
        permissions = frozenset({catalogue.MANAGE, sharing.REQUEST})
        return Actor(id=None, name=f"{dept}数据专员", permissions=permissions, department_id=found.id)

    education, town, civil = actor_of("县教育局"), actor_of("大柘镇人民政府"), actor_of("县民政局")
    calls: list[str] = []
    _, key = sharing.request(
        session,
        actor=education,
        resource_id=ids["qiye-dengji"],
        data=ShareRequestIn(
            purpose="核查校外培训机构的市场主体登记", fields=["name", "uscc", "founded", "address"], until=until
        ),
    )
    calls += [key] * 12 if key else []
    req, _ = sharing.request(
        session,
        actor=town,
        resource_id=ids["dibao-duixiang"],
        data=ShareRequestIn(
            purpose="本镇低保对象动态核查和入户走访（依据《社会救助暂行办法》）",
            fields=["name", "id_number", "township", "village", "household", "amount"],
            until=until,
        ),
    )
    _, _, key = sharing.decide(
        session,
        actor=civil,
        request_id=req.id,
        data=DecisionIn(
            decision="approve",
            version=req.version,
            fields=["name", "id_number", "village", "household"],
            row_filter={"township": ["大柘镇"]},
            quota_per_day=200,
        ),
    )
    calls += [key] * 5 if key else []
    req, _ = sharing.request(
        session,
        actor=town,
        resource_id=ids["tekun-renyuan"],
        data=ShareRequestIn(purpose="特困人员走访慰问名单", fields=["name", "village"], until=until),
    )
    sharing.request(
        session,
        actor=education,
        resource_id=ids["canji-ren"],
        data=ShareRequestIn(purpose="残疾儿童随班就读核查", fields=["name", "township"], until=until),
    )  # refused: 不予共享
    for k in calls:
        sharing.read(session, key=k, limit=50)
