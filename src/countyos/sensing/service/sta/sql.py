"""``$filter`` / ``$orderby`` ASTs → SQLAlchemy expressions (never evaluated row by row in Python).

Properties across navigation links (``Datastream/Thing/name eq 'x'``) become correlated ``EXISTS``
subqueries around the smallest boolean expression that uses them; in ``$orderby`` they become
correlated scalar subqueries (to-one links only). Time functions, string and math functions map to
each backend's SQL. Geometry: on PostgreSQL the ``st_*`` functions, ``geo.distance``, ``geo.length``
and ``geo.intersects`` are PostGIS functions on the stored GeoJSON; on SQLite (no SpatiaLite) they are
one application-defined SQL function (``geometry.sta_geo``, shapely) called inside the same SQL
statement, comparing the stored geometry with the WKT literal (planar, in degrees, as PostGIS on
geometry type).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import shapely
import shapely.wkt
from sqlalchemy import (
    Float,
    Integer,
    Numeric,
    String,
    and_,
    cast,
    exists,
    false,
    func,
    literal,
    literal_column,
    not_,
    null,
    or_,
    select,
    true,
)
from sqlalchemy.sql.elements import ColumnElement

from countyos.sensing.service import geometry
from countyos.sensing.service.sta import entities as E
from countyos.sensing.service.sta.parser import BinOp, Call, Junction, Lit, Neg, Node, Not, Path, StaQueryError
from countyos.sensing.service.times import now_us


@dataclass
class Val:
    expr: ColumnElement[Any]
    kind: str  # num str bool null time dt geo json id any
    wrappers: list[tuple[Any, ColumnElement[Any]]] = field(default_factory=list)
    geo_point: tuple[ColumnElement[Any], ColumnElement[Any]] | None = None  # (lon, lat) on SQLite
    result_of: E.Alias | None = None  # Observation.result: a number, or text kept as JSON


class Translator:
    def __init__(self, ent: E.EntityDef, alias: E.Alias, dialect: str) -> None:
        self.ent = ent
        self.alias = alias
        self.pg = dialect == "postgresql"

    # --- entry points ---------------------------------------------------------------------------
    def condition(self, node: Node) -> ColumnElement[bool]:
        v = self.visit(node)
        if v.kind not in ("bool", "null", "any"):
            raise StaQueryError("$filter must be a condition (true or false), not a value")
        return self._wrap(v)

    def order_key(self, node: Node) -> ColumnElement[Any]:
        v = self.visit(node, scalar=True)
        return v.expr

    # --- helpers --------------------------------------------------------------------------------
    def _wrap(self, v: Val) -> ColumnElement[bool]:
        cond = v.expr
        for child, link in reversed(v.wrappers):
            cond = exists(select(literal(1)).select_from(child).where(link, cond))
        return cond

    def _bool(self, expr: ColumnElement[Any], *parts: Val) -> Val:
        wrappers = [w for p in parts for w in p.wrappers]
        return Val(expr, "bool", wrappers)

    def visit(self, node: Node, *, scalar: bool = False) -> Val:
        if isinstance(node, Lit):
            return self.literal(node)
        if isinstance(node, Path):
            return self.path(node, scalar=scalar)
        if isinstance(node, Not):
            inner = self.visit(node.operand)
            if inner.kind not in ("bool", "any"):
                raise StaQueryError("$filter: 'not' needs a condition")
            return Val(not_(self._wrap(inner)), "bool")
        if isinstance(node, Neg):
            inner = self.visit(node.operand)
            return Val(-inner.expr, "num", inner.wrappers)
        if isinstance(node, Junction):
            return self.junction(node.op, node.items)
        if isinstance(node, BinOp):
            return self.binop(node)
        if isinstance(node, Call):
            return self.call(node)
        raise StaQueryError("$filter: unsupported expression")

    def literal(self, node: Lit) -> Val:
        if node.kind == "null":
            return Val(null(), "null")
        if node.kind == "bool":
            return Val(true() if node.value else false(), "bool")
        if node.kind == "geo":
            _geometry_literal(node.value)  # a malformed or huge literal is a 400 naming it, on both backends
            return Val(literal(node.value, String), "geo")
        if node.kind == "duration":
            raise StaQueryError("$filter: durations are not supported")
        return Val(literal(node.value), node.kind)

    def path(self, node: Path, *, scalar: bool = False) -> Val:
        ent, alias = self.ent, self.alias
        wrappers: list[tuple[Any, ColumnElement[Any]]] = []
        segs = list(node.segments)
        json_path: list[str] = []
        while segs:
            seg = segs.pop(0)
            to_one = ent.navs[seg].child_id_of if seg in ent.navs else None
            if to_one is not None and len(segs) == 1 and segs[0] in ("id", "@iot.id"):
                # ``Datastream/id``: this row's own foreign key (planned from its index), not an EXISTS
                return self._scalar(Val(to_one(alias), "num", wrappers), scalar=scalar)
            if seg in ent.navs:
                nav = ent.navs[seg]
                if scalar and nav.many:
                    raise StaQueryError(f"$orderby: {seg} is a collection; only single entities can be ordered by")
                target = E.entity(nav.target)
                child = target.alias()
                wrappers.append((child, nav.link(alias, child)))
                ent, alias = target, child
                if not segs:
                    raise StaQueryError(f"$filter: {seg} is an entity; name one of its properties")
                continue
            name = "id" if seg in ("id", "@iot.id") else seg
            if name not in ent.props:
                raise StaQueryError(f"$filter: {ent.name} has no property {seg!r}")
            prop = ent.props[name]
            if prop.kind == "json" and segs:
                json_path, segs = segs, []
            expr = prop.expr(alias)
            kind = {"id": "num", "interval": "time"}.get(prop.kind, prop.kind)
            point = None
            if prop.geo is not None:
                point = (getattr(alias, prop.geo[0]), getattr(alias, prop.geo[1]))
            if json_path:
                expr = self._json_get(expr, json_path)
                kind = "any"
            v = Val(expr, kind, wrappers, point, alias if (ent.name == "Observation" and name == "result") else None)
            return self._scalar(v, scalar=scalar)
        raise StaQueryError("$filter: empty property path")

    def _scalar(self, v: Val, *, scalar: bool) -> Val:
        """In ``$orderby`` a value across to-one links is a correlated scalar subquery."""
        if not scalar or not v.wrappers:
            return v
        sub = v.expr
        for child, link in reversed(v.wrappers):
            sub = select(sub).select_from(child).where(link).limit(1).scalar_subquery()
        return Val(sub, v.kind)

    def _json_get(self, expr: ColumnElement[Any], keys: list[str]) -> ColumnElement[Any]:
        if self.pg:
            return func.json_extract_path_text(expr, *keys)
        return func.json_extract(expr, "$." + ".".join(keys))

    def _time_expr(self, v: Val) -> ColumnElement[Any]:
        """A time value as a SQL timestamp for the date/time functions."""
        if v.kind == "dt":
            return v.expr
        if self.pg:
            return func.timezone("UTC", func.to_timestamp(cast(v.expr, Float) / 1_000_000))
        return func.datetime(cast(v.expr, Float) / 1_000_000, "unixepoch")

    def _align(self, a: Val, b: Val) -> tuple[ColumnElement[Any], ColumnElement[Any]]:
        """Make two sides comparable (times in µs vs datetime columns, JSON text vs numbers)."""
        x, y = a.expr, b.expr
        if a.kind == "dt" and b.kind == "time":
            y = literal(_dt(b))
        if b.kind == "dt" and a.kind == "time":
            x = literal(_dt(a))
        if a.kind == "any" and b.kind == "num":
            x = cast(x, Float)
        if b.kind == "any" and a.kind == "num":
            y = cast(y, Float)
        if a.kind == "any" and b.kind == "str" and not self.pg:
            x = cast(x, String)
        if a.result_of is not None and b.kind == "str":
            x = self._result_text(a.result_of)
        if b.result_of is not None and a.kind == "str":
            y = self._result_text(b.result_of)
        return x, y

    def _result_text(self, alias: E.Alias) -> ColumnElement[Any]:
        rj = E.ENTITIES["Observations"].props["result"].extra(alias)[0]  # type: ignore[misc]
        if self.pg:
            return rj.op("#>>")(literal_column("'{}'::text[]"))
        return func.json_extract(rj, "$")

    def junction(self, op: str, items: tuple[Node, ...]) -> Val:
        """``a and b and …`` / ``a or b or …`` as one flat SQL list (a long chain never nests)."""
        conditions = []
        for item in items:
            side = self.visit(item)
            if side.kind not in ("bool", "any", "null"):
                raise StaQueryError(f"$filter: both sides of '{op}' must be conditions")
            conditions.append(self._wrap(side))
        return Val((and_ if op == "and" else or_)(*conditions), "bool")

    def binop(self, node: BinOp) -> Val:
        op = node.op
        if op in ("and", "or"):
            return self.junction(op, (node.left, node.right))
        left, right = self.visit(node.left), self.visit(node.right)
        if op in ("eq", "ne", "gt", "ge", "lt", "le"):
            if right.kind == "null" or left.kind == "null":
                other = left if right.kind == "null" else right
                if op not in ("eq", "ne"):
                    raise StaQueryError("$filter: null can only be compared with eq or ne")
                isnull = other.expr.is_(None) if op == "eq" else other.expr.is_not(None)
                return self._bool(isnull, left, right)
            if "geo" in (left.kind, right.kind) or "json" in (left.kind, right.kind):
                raise StaQueryError(f"$filter: {op} cannot compare geometries or objects")
            if "bool" in (left.kind, right.kind) and op not in ("eq", "ne"):
                raise StaQueryError(f"$filter: true/false can only be compared with eq or ne, not {op}")
            text_result = (left.result_of is not None and right.kind == "str") or (
                right.result_of is not None and left.kind == "str"
            )
            if not text_result and not _comparable(left.kind, right.kind):
                raise StaQueryError(f"$filter: cannot compare a {_KIND[left.kind]} with a {_KIND[right.kind]}")
            x, y = self._align(left, right)
            cmp: ColumnElement[Any] = {
                "eq": lambda: x == y,
                "ne": lambda: x != y,
                "gt": lambda: x > y,
                "ge": lambda: x >= y,
                "lt": lambda: x < y,
                "le": lambda: x <= y,
            }[op]()
            return self._bool(cmp, left, right)
        # arithmetic
        for side in (left, right):
            if side.kind not in ("num", "any"):
                raise StaQueryError(f"$filter: '{op}' needs numbers")
        x, y = left.expr, right.expr
        expr: ColumnElement[Any]
        if op == "add":
            expr = x + y
        elif op == "sub":
            expr = x - y
        elif op == "mul":
            expr = x * y
        elif op == "div":
            expr = cast(x, Float) / func.nullif(y, 0)  # by zero: null (no match), not a database error
        elif self.pg:  # mod: the remainder with the dividend's sign, of decimals too
            expr = func.mod(cast(x, Numeric), cast(func.nullif(y, 0), Numeric))
        else:  # SQLite's % truncates both sides to integers first
            expr = x - y * cast(cast(x, Float) / func.nullif(y, 0), Integer)
        return Val(expr, "num", left.wrappers + right.wrappers)

    # --- functions ------------------------------------------------------------------------------
    def call(self, node: Call) -> Val:
        name, args = node.name, [self.visit(a) for a in node.args]
        spec = FUNCTIONS.get(name)
        if spec is None:
            raise StaQueryError(f"$filter: unknown function {name}()")
        arity, fn = spec
        if len(args) not in arity:
            want = " or ".join(str(n) for n in arity)
            raise StaQueryError(f"$filter: {name}() takes {want} argument(s), got {len(args)}")
        wanted = ARG_KINDS.get(name)
        if wanted is not None:
            for i, a in enumerate(args):
                ok = wanted[min(i, len(wanted) - 1)]
                if a.kind not in ok:
                    raise StaQueryError(f"$filter: argument {i + 1} of {name}() must be a {_KIND[sorted(ok)[0]]}")
        result: Val = fn(self, args)
        result.wrappers = [w for a in args for w in a.wrappers] + result.wrappers
        return result

    def geometry(self, v: Val) -> ColumnElement[Any]:
        """A PostGIS geometry of a stored GeoJSON value or a WKT literal."""
        if v.kind == "geo" and v.geo_point is None:
            return func.ST_GeomFromText(v.expr, 4326)
        if v.kind != "geo":
            raise StaQueryError("$filter: geometry functions need a location, a feature or a geometry literal")
        js = func.coalesce(v.expr.op("->")(literal("geometry")), v.expr)
        return func.ST_SetSRID(func.ST_GeomFromGeoJSON(cast(js, String)), 4326)


_KIND = {
    "num": "number",
    "str": "text",
    "bool": "true/false",
    "null": "null",
    "time": "time",
    "dt": "time",
    "geo": "geometry",
    "json": "object",
    "any": "value",
    "id": "number",
}
_SAME = [{"num", "any", "id"}, {"str", "any"}, {"time", "dt"}, {"bool", "any"}]


def _comparable(a: str, b: str) -> bool:
    if a == b:
        return True
    return any(a in group and b in group for group in _SAME)


def _dt(v: Val) -> Any:
    from countyos.sensing.service.times import from_us

    return from_us(int(v.expr.value))


MAX_GEOMETRY_POINTS = 1_000


def _geometry_literal(text: str) -> Any:
    """A WKT literal, parsed once (cached) and bounded in size."""
    shown = text if len(text) <= 60 else text[:57] + "..."
    try:
        geom = shapely.wkt.loads(text)
    except Exception as exc:  # shapely raises several error types for bad WKT
        raise StaQueryError(f"$filter: {shown!r} is not a valid WKT geometry") from exc
    if shapely.get_num_coordinates(geom) > MAX_GEOMETRY_POINTS:
        raise StaQueryError(f"$filter: a geometry literal may have at most {MAX_GEOMETRY_POINTS} points")
    return geom


def _lit_geom(v: Val) -> Any:
    return _geometry_literal(str(v.expr.value))


def _stored_and_literal(args: list[Val], name: str) -> tuple[Val, str, bool]:
    """SQLite: (the stored location or feature, the WKT literal, whether the literal came first)."""
    a, b = args
    swapped = a.geo_point is None
    stored, lit = (b, a) if swapped else (a, b)
    if stored.geo_point is None or lit.geo_point is not None or lit.kind != "geo":
        raise StaQueryError(f"$filter: on SQLite {name} compares a location or feature with a geometry literal")
    _lit_geom(lit)  # a malformed literal is a 400 naming it, not an empty answer
    return stored, str(lit.expr.value), swapped


_CONVERSE = {"within": "contains", "contains": "within"}  # the others are symmetric


def _sqlite_geo(op: str, stored: Val, wkt: str | None, pattern: Any = None) -> ColumnElement[Any]:
    """``geometry.sta_geo`` (shapely, registered on each SQLite connection) inside the SQL query."""
    call: ColumnElement[Any] = getattr(func, geometry.SQLITE_FUNCTION)(
        literal(op), stored.expr, literal(wkt, String), pattern if pattern is not None else literal(None, String)
    )
    return call


def _spatial(pg_fn: str) -> Any:
    op = pg_fn.removeprefix("ST_").lower()

    def fn(t: Translator, args: list[Val]) -> Val:
        a, b = args
        if t.pg:
            return Val(getattr(func, pg_fn)(t.geometry(a), t.geometry(b)), "bool")
        stored, wkt, swapped = _stored_and_literal(args, pg_fn.lower())
        return Val(_sqlite_geo(_CONVERSE.get(op, op) if swapped else op, stored, wkt) == 1, "bool")

    return fn


def _distance(t: Translator, args: list[Val]) -> Val:
    a, b = args
    if t.pg:
        return Val(func.ST_Distance(t.geometry(a), t.geometry(b)), "num")
    stored, wkt, _ = _stored_and_literal(args, "geo.distance")
    return Val(_sqlite_geo("distance", stored, wkt), "num")


def _length(t: Translator, args: list[Val]) -> Val:
    if t.pg:
        return Val(func.ST_Length(t.geometry(args[0])), "num")
    if args[0].geo_point is None:
        raise StaQueryError("$filter: on SQLite geo.length measures a stored location or feature")
    return Val(_sqlite_geo("length", args[0], None), "num")


def _part(pg_field: str, sqlite_fmt: str) -> Any:
    def fn(t: Translator, args: list[Val]) -> Val:
        ts = t._time_expr(args[0])
        if t.pg:
            return Val(cast(func.extract(pg_field, ts), Integer), "num")
        return Val(cast(func.strftime(sqlite_fmt, ts), Integer), "num")

    return fn


def _fractional(t: Translator, args: list[Val]) -> Val:
    v = args[0]
    if v.kind == "time":
        return Val(cast(v.expr % 1_000_000, Float) / 1_000_000, "num")
    ts = t._time_expr(v)
    if t.pg:
        return Val(func.extract("microseconds", ts) / 1e6 - func.floor(func.extract("second", ts)), "num")
    return Val(cast(func.strftime("%f", ts), Float) - cast(func.strftime("%S", ts), Float), "num")


def _date(t: Translator, args: list[Val]) -> Val:
    ts = t._time_expr(args[0])
    return Val(func.to_char(ts, "YYYY-MM-DD") if t.pg else func.strftime("%Y-%m-%d", ts), "str")


def _time(t: Translator, args: list[Val]) -> Val:
    ts = t._time_expr(args[0])
    return Val(func.to_char(ts, "HH24:MI:SS") if t.pg else func.strftime("%H:%M:%S", ts), "str")


def _str(args: list[Val], i: int) -> ColumnElement[Any]:
    return args[i].expr


# Text tests compare characters, never LIKE patterns: ``%``, ``_`` and ``\\`` in a value (or in another
# property) are plain characters, and the comparison is case-sensitive on SQLite as on PostgreSQL
# (OData's semantics; SQLite's LIKE ignores ASCII case).
def _contains(t: Translator, text: ColumnElement[Any], part: ColumnElement[Any]) -> Val:
    return Val((func.strpos if t.pg else func.instr)(text, part) > 0, "bool")


def _startswith(t: Translator, text: ColumnElement[Any], part: ColumnElement[Any]) -> Val:
    return Val(func.substr(text, 1, func.length(part)) == part, "bool")


def _endswith(t: Translator, text: ColumnElement[Any], part: ColumnElement[Any]) -> Val:
    start = func.length(text) - func.length(part) + 1
    return Val(and_(start >= 1, func.substr(text, start) == part), "bool")


FUNCTIONS: dict[str, tuple[tuple[int, ...], Any]] = {
    # strings
    "substringof": ((2,), lambda t, a: _contains(t, _str(a, 1), _str(a, 0))),
    "contains": ((2,), lambda t, a: _contains(t, _str(a, 0), _str(a, 1))),
    "startswith": ((2,), lambda t, a: _startswith(t, _str(a, 0), _str(a, 1))),
    "endswith": ((2,), lambda t, a: _endswith(t, _str(a, 0), _str(a, 1))),
    "length": ((1,), lambda t, a: Val(func.length(_str(a, 0)), "num")),
    "indexof": (
        (2,),
        lambda t, a: Val((func.strpos if t.pg else func.instr)(_str(a, 0), _str(a, 1)) - 1, "num"),
    ),
    "substring": (
        (2, 3),
        lambda t, a: Val(func.substr(_str(a, 0), a[1].expr + 1, *([a[2].expr] if len(a) == 3 else [])), "str"),
    ),
    "tolower": ((1,), lambda t, a: Val(func.lower(_str(a, 0)), "str")),
    "toupper": ((1,), lambda t, a: Val(func.upper(_str(a, 0)), "str")),
    "trim": ((1,), lambda t, a: Val(func.trim(_str(a, 0)), "str")),
    "concat": ((2,), lambda t, a: Val(_str(a, 0).concat(_str(a, 1)), "str")),
    # dates and times
    "year": ((1,), _part("year", "%Y")),
    "month": ((1,), _part("month", "%m")),
    "day": ((1,), _part("day", "%d")),
    "hour": ((1,), _part("hour", "%H")),
    "minute": ((1,), _part("minute", "%M")),
    "second": ((1,), _part("second", "%S")),
    "fractionalseconds": ((1,), _fractional),
    "date": ((1,), _date),
    "time": ((1,), _time),
    "totaloffsetminutes": ((1,), lambda t, a: Val(literal(0), "num")),
    "now": ((0,), lambda t, a: Val(literal(now_us()), "time")),
    "mindatetime": ((0,), lambda t, a: Val(literal(-62135596800 * 1_000_000), "time")),
    "maxdatetime": ((0,), lambda t, a: Val(literal(253402300799 * 1_000_000), "time")),
    # math
    "round": ((1,), lambda t, a: Val(func.round(a[0].expr), "num")),
    "floor": ((1,), lambda t, a: Val(func.floor(a[0].expr), "num")),
    "ceiling": ((1,), lambda t, a: Val(func.ceil(a[0].expr) if t.pg else func.ceiling(a[0].expr), "num")),
    # geometry
    "geo.distance": ((2,), _distance),
    "geo.length": ((1,), _length),
    "geo.intersects": ((2,), _spatial("ST_Intersects")),
    "st_intersects": ((2,), _spatial("ST_Intersects")),
    "st_within": ((2,), _spatial("ST_Within")),
    "st_contains": ((2,), _spatial("ST_Contains")),
    "st_equals": ((2,), _spatial("ST_Equals")),
    "st_disjoint": ((2,), _spatial("ST_Disjoint")),
    "st_touches": ((2,), _spatial("ST_Touches")),
    "st_overlaps": ((2,), _spatial("ST_Overlaps")),
    "st_crosses": ((2,), _spatial("ST_Crosses")),
    "st_relate": ((3,), lambda t, a: _relate(t, a)),
}


_S = {"str", "any"}
_N = {"num", "any", "id"}
_T = {"time", "dt"}
_G = {"geo"}
ARG_KINDS: dict[str, tuple[set[str], ...]] = {
    **{
        f: (_S,)
        for f in (
            "substringof",
            "contains",
            "startswith",
            "endswith",
            "length",
            "indexof",
            "tolower",
            "toupper",
            "trim",
            "concat",
        )
    },
    "substring": (_S, _N),
    **{
        f: (_T,)
        for f in (
            "year",
            "month",
            "day",
            "hour",
            "minute",
            "second",
            "fractionalseconds",
            "date",
            "time",
            "totaloffsetminutes",
        )
    },
    **{f: (_N,) for f in ("round", "floor", "ceiling")},
    **{
        f: (_G,)
        for f in (
            "geo.distance",
            "geo.length",
            "geo.intersects",
            "st_intersects",
            "st_within",
            "st_contains",
            "st_equals",
            "st_disjoint",
            "st_touches",
            "st_overlaps",
            "st_crosses",
        )
    },
    "st_relate": (_G, _G, {"str"}),
}


def _relate(t: Translator, args: list[Val]) -> Val:
    if t.pg:
        return Val(func.ST_Relate(t.geometry(args[0]), t.geometry(args[1]), args[2].expr), "bool")
    stored, wkt, swapped = _stored_and_literal(args[:2], "st_relate")
    pattern = args[2].expr
    if swapped:  # the DE-9IM matrix of (literal, stored) is the transpose of (stored, literal)
        text = str(getattr(pattern, "value", ""))
        if len(text) != 9:
            raise StaQueryError("$filter: st_relate needs a DE-9IM pattern of 9 characters")
        pattern = literal("".join(text[i] for i in (0, 3, 6, 1, 4, 7, 2, 5, 8)), String)
    return Val(_sqlite_geo("relate", stored, wkt, pattern) == 1, "bool")
