"""The demo county's producers and buyers: about 80 producers (合作社, 家庭农场, 种养大户, 农户, a few
enterprises) spread over 遂昌's villages, each with one or two 基地 near their village's centre (0.2–20 ha)
growing the county's produce (茶叶, 高山蔬菜, 菊米, 番薯, 竹笋, 香菇, 猕猴桃, 土鸡, 稻田鱼 …), some
certifications (one expired); the ``farmer`` account's family farm in 大柘镇大田村 with a greenhouse of
高山蔬菜 and ``greenhouse-01`` on it, the ``coop`` account's tea cooperative with its tea garden; five buyers
(the county middle school canteen, bound to ``buyer``, the county hospital canteen, a supermarket, an
e-commerce shop, a wholesaler). The greenhouse and soil stations are attached to bases and the three field
rules (frost, heat, soil drought; ``data/producers_rules.json``) are made as sensing rules.

Everything goes through the services (checks, encryption, audit); deterministic for one seed.
"""

from __future__ import annotations

import json
import math
from datetime import date, timedelta
from importlib import resources
from typing import Any

import numpy as np
from shapely.geometry import Polygon
from sqlalchemy import select
from sqlalchemy.orm import Session

from countyos.core.actor import Actor
from countyos.core.clock import utcnow
from countyos.core.idnumbers import resident_check_char
from countyos.geo.models import DivisionLevel
from countyos.geo.service import divisions
from countyos.org.service import uscc
from countyos.sensing.models import AlarmKind, Rule
from countyos.sensing.service import alarms as sensing_alarms
from countyos.sensing.service import devices as sensing_devices
from countyos.sensing.service import rules as sensing_rules
from countyos.sensing.service import streams
from countyos.village.models.producers import (
    BaseDevice,
    CertKind,
    Entity,
    EntityKind,
    Facility,
    IdKind,
    SubjectCodeType,
)
from countyos.village.permissions import AGRI_MANAGE
from countyos.village.schemas.producers import BaseIn, CertificationIn, EntityIn
from countyos.village.service import producers, producers_bases, producers_tasks

ACTOR = Actor(id=None, name="demo", permissions=frozenset({AGRI_MANAGE}))
SEED = 1818
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
SURNAMES = "叶周吴王毛李张刘陈蓝雷郑徐朱黄何胡邱钟华罗潘"
GIVEN = ["根富", "建国", "水林", "桂英", "秀芳", "志强", "海平", "金土", "丽萍", "春生", "火旺", "月娥", "德华",
         "伟东", "小芬", "荣根", "有才", "玉兰", "国平", "新民", "美华", "长青", "樟木", "爱珍"]  # fmt: skip
# themes: (what the name says, facility, product codes, hectares low/high)
THEMES: list[tuple[str, Facility, list[str], float, float]] = [
    ("茶叶", Facility.TEA_GARDEN, ["tea_fresh"], 2.0, 20.0),
    ("高山蔬菜", Facility.OPEN_FIELD, ["cabbage", "radish", "green_bean"], 1.0, 12.0),
    ("设施蔬菜", Facility.GREENHOUSE, ["tomato", "pepper", "eggplant"], 0.2, 3.0),
    ("菊米", Facility.OPEN_FIELD, ["chrysanthemum_rice"], 0.5, 6.0),
    ("番薯", Facility.OPEN_FIELD, ["sweet_potato", "dried_sweet_potato"], 0.5, 8.0),
    ("竹笋", Facility.FOREST_LAND, ["bamboo_shoot"], 3.0, 20.0),
    ("香菇", Facility.GREENHOUSE, ["shiitake"], 0.2, 2.0),
    ("猕猴桃", Facility.ORCHARD, ["kiwi"], 1.0, 10.0),
    ("黄桃", Facility.ORCHARD, ["yellow_peach", "bayberry"], 1.0, 8.0),
    ("土鸡", Facility.PEN, ["chicken", "egg"], 0.3, 3.0),
    ("稻田鱼", Facility.POND, ["paddy_fish", "rice"], 1.0, 10.0),
    ("生猪", Facility.PEN, ["pig"], 0.3, 2.0),
]
# kinds and how many of each (about 80 producers besides the two bound to demo accounts)
MIX = [
    (EntityKind.COOPERATIVE, 14),
    (EntityKind.FAMILY_FARM, 24),
    (EntityKind.LARGE_GROWER, 12),
    (EntityKind.FARMER, 24),
    (EntityKind.ENTERPRISE, 5),
]
BUYERS: list[tuple[EntityKind, str, str, str]] = [  # kind, name, township, account
    (EntityKind.SCHOOL_CANTEEN, "遂昌县中学食堂", "妙高街道", "buyer"),
    (EntityKind.HOSPITAL_CANTEEN, "遂昌县人民医院职工食堂", "妙高街道", ""),
    (EntityKind.SUPERMARKET, "遂昌县万家福超市有限公司", "云峰街道", ""),
    (EntityKind.ECOMMERCE, "遂昌县赶街电子商务有限公司", "妙高街道", ""),
    (EntityKind.WHOLESALER, "遂昌县农副产品批发市场经营部", "云峰街道", ""),
]
CERT_ISSUERS = {
    CertKind.GREEN: "中国绿色食品发展中心",
    CertKind.ORGANIC: "浙江公信认证有限公司",
    CertKind.GEO_INDICATION: "农业农村部",
}


def _uscc(rng: np.random.Generator, head: str) -> str:
    body = head + "331123" + "".join(ALPHABET[int(i)] for i in rng.integers(0, len(ALPHABET), 9))
    return body + uscc.check_char(body)


def _id_number(rng: np.random.Generator) -> str:
    born = date(1955, 1, 1).toordinal() + int(rng.integers(0, 365 * 40))
    d = date.fromordinal(born)
    first17 = f"331123{d:%Y%m%d}{int(rng.integers(0, 1000)):03d}"
    return first17 + resident_check_char(first17)


def _phone(rng: np.random.Generator) -> str:
    return "1" + str(int(rng.choice([35, 36, 37, 38, 39, 58, 59, 88]))) + f"{int(rng.integers(0, 10**8)):08d}"


def _person(rng: np.random.Generator) -> str:
    return SURNAMES[int(rng.integers(0, len(SURNAMES)))] + GIVEN[int(rng.integers(0, len(GIVEN)))]


def _villages(session: Session) -> dict[str, list[tuple[str, str, float, float]]]:
    """(village code, village name, lon, lat) by township name."""
    county = divisions.the_county(session)
    if county is None:
        return {}
    out: dict[str, list[tuple[str, str, float, float]]] = {}
    for t in divisions.children(session, parent_code=county.code):
        for v in divisions.children(session, parent_code=t.code):
            if v.level != DivisionLevel.VILLAGE or v.geom is None or v.geom.is_empty:
                continue
            p = v.geom.representative_point()
            out.setdefault(t.name, []).append((v.code, v.name, float(p.x), float(p.y)))
    return out


def _plot(rng: np.random.Generator, lon: float, lat: float, hectares: float) -> Polygon:
    """A slightly skewed quadrilateral of about HECTARES near (lon, lat)."""
    side = math.sqrt(hectares * 10_000)  # metres
    dx, dy = side / (111_320 * math.cos(math.radians(lat))), side / 110_574
    cx = lon + float(rng.normal(0, 0.004))
    cy = lat + float(rng.normal(0, 0.003))
    a = float(rng.uniform(0, math.pi / 2))
    pts = []
    for k, (u, v) in enumerate([(-0.5, -0.5), (0.5, -0.5), (0.5, 0.5), (-0.5, 0.5)]):
        j = 1 + 0.12 * math.sin(k * 2.1 + a)
        x, y = u * j, v * j
        pts.append((cx + (x * math.cos(a) - y * math.sin(a)) * dx, cy + (x * math.sin(a) + y * math.cos(a)) * dy))
    return Polygon([*pts, pts[0]])


def _entity(
    session: Session, rng: np.random.Generator, kind: EntityKind, name: str, village: tuple[str, str, float, float],
    contact: str,
) -> Entity:  # fmt: skip
    person = kind in (EntityKind.FARMER, EntityKind.LARGE_GROWER)
    head = {EntityKind.COOPERATIVE: "93", EntityKind.FAMILY_FARM: "92", EntityKind.ENTERPRISE: "91"}.get(kind, "12")
    body = EntityIn(
        kind=kind, name=name[:120],
        subject_code_type=SubjectCodeType.PERSON if person else SubjectCodeType.OPERATOR,
        id_kind=IdKind.RESIDENT if person else IdKind.USCC,
        uscc=None if person else _uscc(rng, head), id_number=_id_number(rng) if person else None,
        legal_person=contact, village_code=village[0], address=f"{village[1].removesuffix('村委会')}",
        contact_name=contact, phone=_phone(rng),
    )  # fmt: skip
    return producers.create_entity(session, actor=ACTOR, body=body)


def _base(
    session: Session, rng: np.random.Generator, e: Entity, theme: tuple[str, Facility, list[str], float, float],
    village: tuple[str, str, float, float], name: str, *, facility: Facility | None = None,
    products_: list[str] | None = None, hectares: float | None = None,
) -> int:  # fmt: skip
    _, fac, prods, lo, hi = theme
    ha = hectares or float(np.exp(rng.uniform(math.log(lo), math.log(hi))))
    poly = _plot(rng, village[2], village[3], ha)
    b = producers_bases.create_base(
        session,
        actor=ACTOR,
        body=BaseIn(
            entity_id=e.id,
            name=name[:100],
            facility=facility or fac,
            product_codes=products_ or prods,
            village_code=village[0],
            geometry=poly.__geo_interface__,
        ),
    )
    return b.id


def _bind(session: Session, ctx: Any, username: str, entity_id: int) -> None:
    uid = getattr(ctx, "user_ids", {}).get(username)
    if uid is not None:
        producers.add_member(session, actor=ACTOR, entity_id=entity_id, user_id=uid)


def _attach(session: Session, base_id: int, device_key: str) -> bool:
    if sensing_devices.get_by_key(session, device_key=device_key) is None:
        return False
    producers_bases.attach(session, actor=ACTOR, base_id=base_id, device_key=device_key)
    return True


def _rules(session: Session) -> None:
    raw = json.loads(resources.files("countyos.village").joinpath("data/producers_rules.json").read_text("utf-8"))
    have = set(session.scalars(select(Rule.name)))
    for r in raw["rules"]:
        if r["name"] in have:
            continue
        op = sensing_devices.observed_property(session, name=r["observed_property"])
        data = {k: v for k, v in r.items() if k != "observed_property"}
        sensing_rules.save(session, actor=ACTOR, data={**data, "observed_property_id": op.id})


def _last_frost(session: Session) -> None:
    """The stations were put up a month ago; last night's frost in greenhouse-01 (cleared since) left the
    farmer a task."""
    now = utcnow()
    for bd in session.scalars(select(BaseDevice)):
        bd.attached_at = now - timedelta(days=30)
    thing = sensing_devices.get_by_key(session, device_key="greenhouse-01")
    rule = session.scalar(select(Rule).where(Rule.name.like("大棚霜冻%")).limit(1))
    stream = streams.by_key(session, "greenhouse-01", "air_temperature")
    if thing is None or rule is None or stream is None:
        return
    at = now - timedelta(hours=6)
    alarm, _ = sensing_alarms.raise_alarm(
        session, kind=AlarmKind.RULE, thing_id=thing.id, datastream_id=stream.id, rule_id=rule.id,
        severity=rule.severity, title=f"{rule.name}：{thing.name} 1.4 °C", value=1.4,
        dedupe_seconds=rule.dedupe_seconds, at=at,
    )  # fmt: skip
    sensing_alarms.apply(session, alarm=alarm, action="clear", actor=ACTOR, at=at + timedelta(hours=2))
    producers_tasks.make_tasks(session, now=now)


def load(session: Session, ctx: Any) -> None:
    rng = np.random.default_rng(SEED)
    villages = _villages(session)
    if not villages:
        return
    townships = sorted(villages)
    flat = [v for t in townships for v in villages[t]]
    dazhe = villages.get("大柘镇", flat)
    datian = next((v for v in dazhe if v[1].startswith("大田")), dazhe[0])

    # the two producers bound to demo accounts
    farm = _entity(session, rng, EntityKind.FAMILY_FARM, "遂昌县叶根富家庭农场", datian, "叶根富")
    _bind(session, ctx, "farmer", farm.id)
    gh = _base(session, rng, farm, THEMES[2], datian, "大田村高山蔬菜大棚", hectares=1.2)
    _base(session, rng, farm, THEMES[1], datian, "大田村高山蔬菜露地", hectares=3.5)
    tea_village = villages.get("石练镇", flat)[0] if villages.get("石练镇") else flat[len(flat) // 2]
    coop = _entity(session, rng, EntityKind.COOPERATIVE, "遂昌县石练龙谷茶叶专业合作社", tea_village, "周雪芳")
    _bind(session, ctx, "coop", coop.id)
    tea = _base(session, rng, coop, THEMES[0], tea_village, "龙谷生态茶园", hectares=15.0)
    bases_for_devices = [gh]
    soil_bases = [tea]

    made: list[Entity] = [farm, coop]
    n = 0
    for kind, count in MIX:
        for _ in range(count):
            n += 1
            v = flat[int(rng.integers(0, len(flat)))]
            theme = THEMES[int(rng.integers(0, len(THEMES)))]
            vname = v[1].removesuffix("村委会").removesuffix("居民委员会").removesuffix("社区")
            who = _person(rng)
            name = {
                EntityKind.COOPERATIVE: f"遂昌县{vname}{theme[0]}专业合作社",
                EntityKind.FAMILY_FARM: f"遂昌县{who}家庭农场",
                EntityKind.LARGE_GROWER: f"{who}（{theme[0]}种养大户）",
                EntityKind.FARMER: f"{who}（{vname}农户）",
                EntityKind.ENTERPRISE: f"遂昌{vname}{theme[0]}农业开发有限公司",
            }[kind]
            if any(m.name == name for m in made):
                name = f"{name}{n}"
            e = _entity(session, rng, kind, name, v, who)
            made.append(e)
            bid = _base(session, rng, e, theme, v, f"{vname}{theme[0]}基地")
            if theme[1] == Facility.GREENHOUSE and len(bases_for_devices) < 3:
                bases_for_devices.append(bid)
            if theme[1] in (Facility.OPEN_FIELD, Facility.TEA_GARDEN, Facility.ORCHARD) and len(soil_bases) < 4:
                soil_bases.append(bid)
            if rng.random() < 0.35:
                second = THEMES[int(rng.integers(0, len(THEMES)))]
                _base(session, rng, e, second, v, f"{vname}{second[0]}二号基地")

    # certifications: green food, organic, geographical indication; one expired
    for issued, e in enumerate(made[:: max(1, len(made) // 14)]):
        cert = [CertKind.GREEN, CertKind.ORGANIC, CertKind.GEO_INDICATION][issued % 3]
        today = producers.today_local()
        start = date(today.year - 1 - issued % 2, 1 + issued % 12, 1)
        end = date(start.year + 3, start.month, 1)  # 3 years: still valid
        if issued == 1:
            start, end = date(today.year - 4, 5, 1), date(today.year - 1, 4, 30)  # expired
        codes = sorted({c for b in producers_bases.list_bases(session, actor=ACTOR, entity_id=e.id)
                        for c in b.product_codes})[:5]  # fmt: skip
        producers.add_certification(
            session,
            actor=ACTOR,
            entity_id=e.id,
            body=CertificationIn(kind=cert, number=f"{['LB', 'YJ', 'AGI'][issued % 3]}-33-{2300 + issued:06d}",
                                 issuer=CERT_ISSUERS[cert], product_codes=codes, valid_from=start, valid_to=end),
        )  # fmt: skip

    # buyers
    for kind, name, township, account in BUYERS:
        vs = villages.get(township) or flat
        e = _entity(session, rng, kind, name, vs[0], _person(rng))
        if account:
            _bind(session, ctx, account, e.id)

    # field stations on bases, and the rules that make their tasks
    for k, bid in enumerate(bases_for_devices[:3]):
        _attach(session, bid, f"greenhouse-{k + 1:02d}")
    for k, bid in enumerate(soil_bases[:4]):
        _attach(session, bid, f"soil-{k + 1:02d}")
    _rules(session)
    _last_frost(session)
    if hasattr(ctx, "notes"):
        ctx.notes.append(
            f"数字乡村: {len(made)} producers and {len(BUYERS)} buyers (/village/producers, user nync); "
            "producers on the phone at /village/my (farmer, coop)"
        )
