"""Reading SensorThings resources: path resolution, one SQL query per collection and per expanded
navigation level (children of all parents at once, also below the first level; ``$top`` inside
``$expand`` with a window function; ``$count`` inside ``$expand`` one grouped count per level), JSON
with ``@iot.selfLink``, navigation links and ``@iot.nextLink`` (which keeps every option of its level).

Every read is bounded (:mod:`.limits`): the entities one response holds are counted as they are
fetched (each expansion query asks for at most one row more than the response still has room for),
and every statement runs under the request's time budget.

``$count`` of the observations of one datastream without a filter is answered from the running count
kept by ingest instead of counting millions of rows.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import (
    BigInteger,
    BindParameter,
    ColumnElement,
    and_,
    any_,
    bindparam,
    exists,
    func,
    literal,
    or_,
    select,
    true,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session, aliased

from countyos.sensing import models as m
from countyos.sensing.models import Latest, ObservationExtra
from countyos.sensing.service import geometry
from countyos.sensing.service.sta import entities as E
from countyos.sensing.service.sta import fast
from countyos.sensing.service.sta.limits import Budget, bounded_time
from countyos.sensing.service.sta.parser import Path, StaQueryError
from countyos.sensing.service.sta.query import DEFAULT_TOP, Options
from countyos.sensing.service.sta.sql import Translator
from countyos.sensing.service.times import interval, iso, iso_many

MAX_PATH_SEGMENTS = 12
_MAX_ID = 2**63 - 1
_SEG = re.compile(r"^([A-Za-z]+)(?:\((\d+|'[^']*')\))?$")


class StaNotFound(LookupError):
    pass


Cons = Callable[[E.Alias], ColumnElement[bool]]


@dataclass
class Target:
    ent: E.EntityDef
    cons: Cons
    single: bool
    prop: str | None = None
    value: bool = False  # /$value
    ref: bool = False  # /$ref
    parent: tuple[str, int, str] | None = None  # (parent entity set, parent id, navigation) for POST
    key: int | None = None
    count_hint: int | None = None  # datastream id whose raw count answers $count
    series: bool = False  # the observations of one datastream: in time order unless $orderby says otherwise
    feature: int | None = None  # FeaturesOfInterest(feature)/Observations: see _prepared
    path_ids: list[tuple[str, int]] = field(default_factory=list)
    shape: str = ""  # the path with its ids as #: requests of one shape share their statements
    binds: dict[str, int] = field(default_factory=dict)  # the ids of the path, by bind parameter name


def _bind(binds: dict[str, int], k: int) -> BindParameter[int]:
    """The id of a path segment as a named bind parameter (``sta_k0``, ``sta_k1`` …), so that a
    statement built for one request serves the next one of the same shape with other ids."""
    name = f"sta_k{len(binds)}"
    binds[name] = k
    return bindparam(name, k, type_=BigInteger())


def _key(text: str) -> int:
    if text.startswith("'"):
        text = text[1:-1]
    try:
        key = int(text)
    except ValueError as exc:
        raise StaNotFound(f"no entity with id {text[:40]}") from exc
    if not 0 < key <= _MAX_ID:  # ids are positive 64-bit integers; others name nothing
        raise StaNotFound(f"no entity with id {text[:40]}")
    return key


def resolve(path: str) -> Target:
    segs = [s for s in path.strip("/").split("/") if s]
    if not segs:
        raise StaQueryError("empty resource path")
    if len(segs) > MAX_PATH_SEGMENTS:  # each navigation nests a subquery
        raise StaQueryError(f"a resource path may have at most {MAX_PATH_SEGMENTS} segments")
    m0 = _SEG.match(segs[0])
    if m0 is None or m0.group(1) not in E.ENTITIES:
        raise StaNotFound(f"there is no entity set {segs[0]!r}")
    ent = E.ENTITIES[m0.group(1)]
    binds: dict[str, int] = {}
    target = Target(ent, lambda a: true(), single=False, binds=binds)
    plain = False  # the target is exactly the entity with id target.key (the first segment)
    if m0.group(2) is not None:
        plain = True
        k = _key(m0.group(2))
        b = _bind(binds, k)
        target = Target(
            ent,
            lambda a, b=b: a.id == b,  # type: ignore[misc]
            single=True,
            key=k,
            path_ids=[(ent.plural, k)],
            binds=binds,
        )
    for seg in segs[1:]:
        if seg == "$value":
            if target.prop is None:
                raise StaQueryError("$value follows a property")
            target.value = True
            continue
        if seg == "$ref":
            target.ref = True
            continue
        if target.prop is not None:
            raise StaQueryError(f"nothing can follow the property {target.prop}")
        m = _SEG.match(seg)
        if m is None:
            raise StaQueryError(f"{seg!r} is not a valid path segment")
        name, key = m.group(1), m.group(2)
        if not target.single:
            raise StaQueryError(f"{seg}: navigate from a single entity (add its id in parentheses)")
        if (name in target.ent.navs and key is None) or (key is not None and name in target.ent.navs):
            nav = target.ent.navs[name]
            child_ent = E.entity(nav.target)
            parent_ent, parent_cons = target.ent, target.cons

            pkey = _bind(binds, target.key) if plain and target.key is not None else None
            cons = _navigation(parent_ent, parent_cons, nav, pkey)
            parent = (parent_ent.plural, target.key, name) if target.key is not None else None
            hint = target.key if (plain and parent_ent.plural == "Datastreams" and name == "Observations") else None
            single = not nav.many
            series = _series(parent_ent, name)
            new = Target(
                child_ent,
                cons,
                single,
                parent=parent,
                count_hint=hint,
                series=series,
                path_ids=target.path_ids,
                binds=binds,
            )
            if plain and parent_ent.plural == "FeaturesOfInterest" and name == "Observations":
                new.feature = target.key
            if key is not None:
                k = _key(key)
                b = _bind(binds, k)
                new = Target(
                    child_ent,
                    lambda c, b=b, inner=cons: and_(c.id == b, inner(c)),  # type: ignore[misc]
                    True,
                    parent=parent,
                    key=k,
                    path_ids=[*target.path_ids, (child_ent.plural, k)],
                    binds=binds,
                )
            elif single:
                new.key = None
            target, plain = new, False
            continue
        if name in target.ent.props and key is None:
            target.prop = name
            continue
        raise StaNotFound(f"{target.ent.name} has no property or navigation {name!r}")
    target.shape = _SHAPE.sub("(#)", "/".join(segs))
    return target


_SHAPE = re.compile(r"\((?:\d+|'[^']*')\)")


def _navigation(parent_ent: E.EntityDef, parent_cons: Cons, nav: E.Nav, key: BindParameter[int] | None) -> Cons:
    """The condition on a child alias for the children of one parent reached by ``nav``.

    Written on the child's own key columns, so that both databases plan it from an index on the
    filtered key: ``/Datastreams(1)/Observations`` is ``datastream_id = 1``. A parent known only by a
    longer path (``/Things(1)/Datastreams(2)/Observations``) is one uncorrelated scalar subquery,
    evaluated once (no row: no children). Never a correlated ``EXISTS`` per child row.
    """

    def parent_id() -> Any:
        if key is not None:
            return key
        p = parent_ent.alias()
        return select(p.id).where(parent_cons(p)).limit(1).correlate(None).scalar_subquery()

    if nav.by_parent_id is not None:
        by_parent_id = nav.by_parent_id
        return lambda c: by_parent_id(c, parent_id())
    if nav.child_id_of is not None:
        child_id_of = nav.child_id_of

        def to_one(c: E.Alias) -> Any:
            p = parent_ent.alias()
            return c.id == select(child_id_of(p)).where(parent_cons(p)).limit(1).correlate(None).scalar_subquery()

        return to_one

    def linked(c: E.Alias) -> Any:  # pragma: no cover - every navigation has one of the two above
        p = parent_ent.alias()
        return exists(select(literal(1)).select_from(p).where(parent_cons(p), nav.link(p, c)))

    return linked


@dataclass
class Ctx:
    session: Session
    base: str  # e.g. http://host/sta/v1.1
    dialect: str
    budget: Budget = field(default_factory=Budget)
    # the request's shape as fast.key_of gives it: a collection read of one statement is kept there
    keep_as: tuple[str, str, str, bytes] | None = None

    def __post_init__(self) -> None:
        if self.dialect == "sqlite":  # geometry functions of $filter (shapely) on this connection
            geometry.register_sqlite(self.session.connection().connection.dbapi_connection)

    def rows(self, stmt: Any, params: dict[str, Any] | None = None) -> list[Any]:
        """Core rows of a statement (no ORM result processing), within the time budget."""
        self.budget.check_time()
        return self.session.connection().execute(stmt, params).all()  # type: ignore[return-value]

    def scalar(self, stmt: Any) -> Any:
        self.budget.check_time()
        return self.session.scalar(stmt)


# Statements by query shape: (kind, dialect, path with its ids as #, the query options, …) → what
# was built for the first request of that shape. Path ids, id lists and row limits are bind
# parameters given at execution, so a statement object serves every request of its shape, and
# SQLAlchemy finds its compiled form from the key memoised on that object. A query with now() is
# never kept (its time is a literal). Bounded: the oldest half goes when it is full.
PLANS_MAX = 1024
_plans: dict[tuple[Any, ...], Any] = {}
_plans_lock = threading.Lock()


def plan(key: tuple[Any, ...] | None, make: Callable[[], Any]) -> Any:
    if key is None:
        return make()
    got = _plans.get(key)
    if got is None:
        got = make()
        with _plans_lock:
            if len(_plans) >= PLANS_MAX:
                for old in list(_plans)[: PLANS_MAX // 2]:
                    del _plans[old]
            _plans[key] = got
    return got


def clear_plans() -> None:
    with _plans_lock:
        _plans.clear()
    fast.clear()


def _query_key(ctx: Ctx, target: Target, query: dict[str, str], opts: Options) -> tuple[Any, ...] | None:
    if target.feature is not None or not target.shape:
        return None
    if any("now(" in v.lower() for v in query.values()):
        return None
    return (ctx.dialect, target.shape, tuple(query.items()), opts.top, opts.skip, DEFAULT_TOP)


def bounded(ctx: Ctx) -> AbstractContextManager[None]:
    """The request's statements run within its time budget (see :func:`limits.bounded_time`)."""
    return bounded_time(ctx.session, ctx.budget)


def _series(parent: E.EntityDef, nav_name: str) -> bool:
    return nav_name == "Observations" and parent.plural in ("Datastreams", "MultiDatastreams")


def _order(ent: E.EntityDef, a: E.Alias, opts: Options, dialect: str, *, series: bool = False) -> list[Any]:
    """``$orderby`` then the id. The observations of one datastream come in time order by default:
    the index on (datastream, time) answers both the condition and the order, where an order by id
    alone would scan the table in id order (or sort every observation of the datastream)."""
    if series and not opts.orderby:
        return [a.phenomenon_us.asc(), a.id.asc()]
    out = []
    t = Translator(ent, a, dialect)
    for node, desc in opts.orderby:
        key = t.order_key(node)
        out.append(key.desc() if desc else key.asc())
    out.append(a.id.asc())
    return out


def _names(ent: E.EntityDef, opts: Options) -> tuple[list[str], list[str]]:
    if opts.select:
        props = [n for n in opts.select if n in ent.props]
        navs = [n for n in opts.select if n in ent.navs]
    else:
        props, navs = list(ent.props), list(ent.navs)
    return ["id", *[p for p in props if p != "id"]], navs


def _builder(
    ctx: Ctx, ent: E.EntityDef, spans: list[tuple[str, int, int]], opts: Options, navs: list[str]
) -> Callable[[Any], dict[str, Any]]:
    """A row → JSON function made once per query (one entity read)."""
    page = _page_builder(ctx, ent, spans, opts, navs)
    return lambda row: page([row])[0]


def _page_builder(
    ctx: Ctx, ent: E.EntityDef, spans: list[tuple[str, int, int]], opts: Options, navs: list[str]
) -> Callable[[Sequence[Any]], list[dict[str, Any]]]:
    """Rows → JSON objects, made once per query (thousands of rows share the same shape). Times are
    formatted a column at a time (:func:`_time_column`), every other property row by row."""
    selected = set(opts.select) if opts.select else None
    with_id = selected is None or "id" in selected
    id_at = spans[0][1]
    prefix = f"{ctx.base}/{ent.plural}("
    plain: list[tuple[str, int]] = []
    columns: list[tuple[str, str, int, int]] = []  # (name, kind, start, end) formatted column-wise
    special: list[tuple[str, Callable[[Any], Any]]] = []
    for name, start, end in spans:
        if name == "id":
            continue
        prop = ent.props[name]
        if end - start == 1 and prop.kind in ("id", "str", "num", "json", "geo"):
            plain.append((name, start))
        elif (prop.kind == "time" and end - start in (1, 2)) or (prop.kind == "interval" and end - start == 2):
            columns.append((name, prop.kind, start, end))
        else:
            special.append((name, _converter(prop, start, end)))
    links = [(f"{nav}@iot.navigationLink", f"/{nav}") for nav in navs if nav not in opts.expand]

    keys = [
        *(["@iot.id", "@iot.selfLink"] if with_id else []),
        *(name for name, _ in plain),
        *(name for name, *_ in columns),
        *(name for name, _ in special),
        *(key for key, _ in links),
    ]

    def build(rows: Sequence[Any]) -> list[dict[str, Any]]:
        # column by column, then each object zipped from its row of columns (no per-key Python)
        ids = [row[id_at] for row in rows]
        self_links = [f"{prefix}{rid})" for rid in ids]
        cols: list[list[Any]] = [ids, self_links] if with_id else []
        cols += [[row[i] for row in rows] for _, i in plain]
        cols += [_time_column(rows, kind, start, end) for _, kind, start, end in columns]
        cols += [[convert(row) for row in rows] for _, convert in special]
        cols += [[link + suffix for link in self_links] for _, suffix in links]
        if not cols:
            return [{} for _ in rows]
        # every column has a value per row and every row a value per key (built so above): zip's
        # strict check would double the cost of the page
        return [dict(zip(keys, values, strict=False)) for values in zip(*cols, strict=False)]

    return build


def _time_column(rows: Sequence[Any], kind: str, start: int, end: int) -> list[str | None]:
    """One time property of every row as text, as :func:`_converter` gives it row by row: a time in
    µs (``time``, one column), a time that may be an interval (``time``, start and end: the end is
    shown only when there is one) or an ``interval``."""
    firsts = [row[start] for row in rows]
    known = [i for i, v in enumerate(firsts) if v is not None]
    texts: list[str | None] = [None] * len(rows)
    for i, t in zip(known, iso_many([firsts[i] for i in known]), strict=True):
        texts[i] = t
    if end - start == 2:
        second = start + 1
        for i in known:
            row = rows[i]
            if row[second] is not None and row[second] != row[start]:
                texts[i] = interval(row[start], row[second])
    return texts


def _converter(prop: E.Prop, start: int, end: int) -> Callable[[Any], Any]:
    """A row's value of one property as JSON (``entities.to_json_value``), specialised once per query
    for the common kinds: times and intervals in µs, a number or the JSON of another result."""
    second = start + 1
    if prop.kind == "time" and end - start == 1:
        return lambda row: iso(row[start])
    if prop.kind == "time" and end - start == 2:
        return lambda row: iso(row[start]) if row[second] is None else interval(row[start], row[second])
    if prop.kind == "interval" and end - start == 2:
        return lambda row: interval(row[start], row[second])
    if prop.kind == "num" and end - start == 2:
        return lambda row: row[start] if row[second] is None else row[second]
    to_json = E.to_json_value
    return lambda row: to_json(prop, list(row[start:end]))


def _entity_json(
    ctx: Ctx, ent: E.EntityDef, row: Any, spans: list[tuple[str, int, int]], opts: Options, navs: list[str]
) -> dict[str, Any]:
    return _builder(ctx, ent, spans, opts, navs)(row)


def _where(ctx: Ctx, ent: E.EntityDef, a: E.Alias, opts: Options) -> ColumnElement[bool]:
    if opts.filter is None:
        return true()
    return Translator(ent, a, ctx.dialect).condition(opts.filter)


def _prepared(ctx: Ctx, target: Target) -> Target:
    """``FeaturesOfInterest(id)/Observations``: the feature's datastreams are read first (a few rows),
    so that both planners see the observations' condition as values of indexed columns and estimate
    it from their statistics (a subquery of unknown size is planned as a scan of every observation)."""
    if target.feature is None:
        return target
    k = target.feature
    ds = ctx.rows(select(m.Datastream.id).where(m.Datastream.default_foi_id == k))
    mds = ctx.rows(select(m.MultiDatastream.id).where(m.MultiDatastream.default_foi_id == k))

    def cons(o: E.Alias) -> Any:
        return or_(
            o.foi_id == k,
            and_(o.datastream_id.in_([r[0] for r in ds]), o.foi_id.is_(None)),
            and_(o.multi_datastream_id.in_([r[0] for r in mds]), o.foi_id.is_(None)),
        )

    return replace(target, cons=cons, feature=None)


@dataclass(frozen=True)
class _Collection:
    stmt: Any
    parents: Any  # the ids of the page as a subquery (for expanding many parents)
    spans: list[tuple[str, int, int]]
    navs: list[str]


def _collection_plan(ctx: Ctx, target: Target, opts: Options) -> _Collection:
    ent = target.ent
    a = ent.alias()
    where = and_(target.cons(a), _where(ctx, ent, a, opts))
    top = DEFAULT_TOP if opts.top is None else opts.top
    props, navs = _names(ent, opts)
    stmt, spans = E.base_select(ent, a, props)
    order = _order(ent, a, opts, ctx.dialect, series=target.series)
    stmt = stmt.where(where).order_by(*order).limit(top + 1).offset(opts.skip)
    parents = select(a.id).where(where).order_by(*order).limit(top).offset(opts.skip)
    return _Collection(stmt, parents, spans, navs)


def read_collection(ctx: Ctx, target: Target, opts: Options, *, query: dict[str, str], path: str) -> dict[str, Any]:
    key = _query_key(ctx, target, query, opts)
    target = _prepared(ctx, target)
    ent = target.ent
    top = DEFAULT_TOP if opts.top is None else opts.top
    p = plan(None if key is None else ("collection", *key), lambda: _collection_plan(ctx, target, opts))
    spans = p.spans
    rows = ctx.rows(p.stmt, target.binds)
    fetched = rows
    more = top > 0 and len(rows) > top  # $top=0 asks for no entities: no next page either
    rows = rows[:top]
    ctx.budget.take(len(rows))
    build = _page_builder(ctx, ent, spans, opts, p.navs)
    items = build(rows)
    # a long list of ids is cheaper to select again than to bind
    parents = p.parents if len(rows) > 500 else None
    _expand(ctx, ent, _by_id(items, [r[spans[0][1]] for r in rows]), opts, parents, key=key, binds=target.binds)
    out: dict[str, Any] = {}
    if opts.count:
        out["@iot.count"] = count(ctx, target, opts)
    out["value"] = items
    q = dict(query)  # every option of the request, the next page
    q["$skip"] = str(opts.skip + top)
    q["$top"] = str(top)
    if more:
        out["@iot.nextLink"] = f"{ctx.base}/{path}?{urlencode(q)}"
    if ctx.keep_as is not None and key is not None and not opts.expand and not opts.count:
        _keep(ctx, ctx.keep_as, p.stmt, target.binds, fetched, build, top, urlencode(q))
    return out


def _described(cursor: Any) -> tuple[Any, list[Any]]:
    rows = cursor.fetchall()
    return cursor.description, rows


def _keep(
    ctx: Ctx,
    key: tuple[str, str, str, bytes],
    stmt: Any,
    binds: dict[str, int],
    fetched: Sequence[Any],
    build: Callable[[Sequence[Any]], list[dict[str, Any]]],
    top: int,
    next_query: str,
) -> None:
    """Keep a read of one statement as SQL text (:mod:`fast`) for the next request of its shape."""
    slots = fast.slots_for(resolve, key[2])
    if slots is None:
        fast.forget(key)
        return
    dbapi = ctx.session.connection().connection.dbapi_connection
    assert dbapi is not None
    fast.keep(
        key,
        fast.Candidate(stmt, binds, slots, build, top, next_query),
        dialect=ctx.session.get_bind().dialect,
        run=lambda sql, params: _described(dbapi.execute(sql, params)),
        expected=fetched,
    )


def _by_id(items: list[dict[str, Any]], ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """Entities by id; one id can stand for several JSON objects (a to-one link reached from many)."""
    out: dict[int, list[dict[str, Any]]] = {}
    for i, item in zip(ids, items, strict=True):
        out.setdefault(i, []).append(item)
    return out


def count(ctx: Ctx, target: Target, opts: Options) -> int:
    target = _prepared(ctx, target)
    if target.count_hint is not None and opts.filter is None:
        latest = ctx.session.get(Latest, target.count_hint)
        return int(latest.raw_count) if latest else 0
    a = target.ent.alias()
    stmt = select(func.count()).select_from(a).where(target.cons(a), _where(ctx, target.ent, a, opts))
    return int(ctx.scalar(stmt) or 0)


def _entity_plan(target: Target, opts: Options) -> _Collection:
    ent = target.ent
    a = ent.alias()
    props, navs = _names(ent, opts)
    stmt, spans = E.base_select(ent, a, props)
    return _Collection(stmt.where(target.cons(a)).limit(1), None, spans, navs)


def read_entity(ctx: Ctx, target: Target, opts: Options, *, query: dict[str, str] | None = None) -> dict[str, Any]:
    ent = target.ent
    key = _query_key(ctx, target, query, opts) if query is not None else None
    p = plan(None if key is None else ("entity", *key), lambda: _entity_plan(target, opts))
    rows = ctx.rows(p.stmt, target.binds)
    if not rows:
        raise StaNotFound(f"{ent.name} not found")
    row = rows[0]
    ctx.budget.take(1)
    item = _entity_json(ctx, ent, row, p.spans, opts, p.navs)
    _expand(ctx, ent, {row[p.spans[0][1]]: [item]}, opts, key=key, binds=target.binds)
    return item


def read_property(ctx: Ctx, target: Target) -> Any:
    ent = target.ent
    a = ent.alias()
    assert target.prop is not None
    stmt, spans = E.base_select(ent, a, [target.prop])
    row = ctx.session.execute(stmt.where(target.cons(a)).limit(1)).first()
    if row is None:
        raise StaNotFound(f"{ent.name} not found")
    _, start, end = spans[0]
    return E.to_json_value(ent.props[target.prop], list(row[start:end]))


def read_refs(ctx: Ctx, target: Target, opts: Options) -> dict[str, Any]:
    target = _prepared(ctx, target)
    ent = target.ent
    a = ent.alias()
    top = DEFAULT_TOP if opts.top is None else opts.top
    order = _order(ent, a, Options(), ctx.dialect, series=target.series)
    stmt = select(a.id).where(target.cons(a), _where(ctx, ent, a, opts)).order_by(*order).limit(top).offset(opts.skip)
    links = [{"@iot.selfLink": f"{ctx.base}/{ent.plural}({r[0]})"} for r in ctx.rows(stmt)]
    return links[0] if target.single and links else {"value": links}


def _ids_param(dialect: str) -> Any:
    """The parents of an expanded level, given at execution as ``sta_ids``. On PostgreSQL one array
    (``= ANY``), so that the statement's text — and the driver's prepared statement — is the same
    for any number of parents; SQLite has no arrays, and gets one placeholder per id."""
    if dialect == "postgresql":
        return bindparam("sta_ids", type_=postgresql.ARRAY(BigInteger()))
    return bindparam("sta_ids", expanding=True)


def _among(column: Any, id_set: Any) -> Any:
    """COLUMN is one of the level's parents (:func:`_ids_param`, or a subquery of them)."""
    if isinstance(id_set, BindParameter) and not id_set.expanding:
        return column == any_(id_set)
    return column.in_(id_set)


@dataclass(frozen=True)
class _Level:
    stmt: Any  # the children of the parents sta_ids (or of the subquery of parents), sta_limit rows at most
    spans: list[tuple[str, int, int]]  # shifted by one: column 0 is the parent id
    navs: list[str]
    counts: Any  # the grouped $count, or None


def _level_plan(ctx: Ctx, ent: E.EntityDef, nav_name: str, sub: Options, parents: Any, *, latest: bool) -> _Level | Any:
    nav = ent.navs[nav_name]
    child_ent = E.entity(nav.target)
    id_set: Any = select(parents.subquery().c[0]) if parents is not None else _ids_param(ctx.dialect)
    props, navs = _names(child_ent, sub)
    if latest:
        return _latest_plan(id_set, sub)
    p, c = ent.alias(), child_ent.alias()
    out = E.columns(child_ent, c, props)
    cols, spans = out.cols, out.spans
    series = _series(ent, nav_name)
    where = and_(_among(p.id, id_set), nav.link(p, c), _where(ctx, child_ent, c, sub))
    top = DEFAULT_TOP if sub.top is None else sub.top
    if nav.many:
        stmt = _first_children(ctx, ent, nav, child_ent, sub, (p, c), out, series=series, id_set=id_set, top=top)
    else:
        stmt = select(p.id.label("pid"), *cols).select_from(out.source).join(p, true()).where(where).order_by(p.id)
    counts = _count_children_stmt(ctx, ent, nav, child_ent, sub, id_set) if nav.many and sub.count else None
    shifted = [(n, s + 1, e + 1) for n, s, e in spans]
    return _Level(stmt.limit(bindparam("sta_limit", type_=BigInteger())), shifted, navs, counts)


def _expand(
    ctx: Ctx,
    ent: E.EntityDef,
    by_id: dict[int, list[dict[str, Any]]],
    opts: Options,
    parents: Any = None,
    *,
    key: tuple[Any, ...] | None = None,
    binds: dict[str, int] | None = None,
) -> None:
    """Add the expanded navigation properties to ``by_id`` (parent id → its JSON objects): one query
    per navigation property for all parents, then one per level below for all children."""
    if not by_id or not opts.expand:
        return
    ids = list(by_id)
    for nav_name, sub in opts.expand.items():
        nav = ent.navs[nav_name]
        child_ent = E.entity(nav.target)
        latest = _latest_only(ent, nav_name, sub)
        level_key = None if key is None else ("level", *key, nav_name, parents is not None)
        lp = plan(level_key, lambda: _level_plan(ctx, ent, nav_name, sub, parents, latest=latest))  # noqa: B023
        params: dict[str, Any] = dict(binds or {}) if parents is not None else {"sta_ids": ids}
        if latest:
            _expand_latest(ctx, by_id, lp, params, sub, key=level_key)
            continue
        top = DEFAULT_TOP if sub.top is None else sub.top
        # At most one row more than the response has room for (besides each parent's look-ahead row):
        # reaching the limit means the response would be too large, whatever the rows are.
        limit = ctx.budget.room + len(ids) + 1
        rows = ctx.rows(lp.stmt, {**params, "sta_limit": limit})
        if len(rows) >= limit:
            ctx.budget.take(limit)  # raises, naming the limit
        grouped: dict[int, list[Any]] = {}
        for r in rows:
            grouped.setdefault(r[0], []).append(r)
        keep = top if nav.many else 1
        ctx.budget.take(sum(min(len(grouped.get(pid, ())), keep) * len(objs) for pid, objs in by_id.items()))
        counts = _count_children(ctx, lp.counts, params) if lp.counts is not None else {}
        shifted = lp.spans
        build = _page_builder(ctx, child_ent, shifted, sub, lp.navs)
        # every parent's kept children built as one page (a page per parent would pay the column
        # work hundreds of times over), then cut back into each parent's share
        kept = {pid: grouped.get(pid, [])[:keep] for pid in by_id}
        built = build([r for pid in by_id for r in kept[pid]])
        children_by_id: dict[int, list[dict[str, Any]]] = {}
        at = 0
        for pid, objs in by_id.items():
            children = kept[pid]
            more = nav.many and top > 0 and len(grouped.get(pid, ())) > top
            first = built[at : at + len(children)]
            at += len(children)
            for n, item in enumerate(objs):
                child_items = first if n == 0 else build(children)  # a parent listed twice: its own copies
                for r, child in zip(children, child_items, strict=True):
                    children_by_id.setdefault(r[shifted[0][1]], []).append(child)
                if nav.many:
                    item[nav_name] = child_items
                    if sub.count:
                        item[f"{nav_name}@iot.count"] = counts.get(pid, 0)
                    if more:
                        query = urlencode(sub.link_params(top=top, skip=sub.skip + top))
                        item[f"{nav_name}@iot.nextLink"] = f"{ctx.base}/{ent.plural}({pid})/{nav_name}?{query}"
                elif child_items:
                    item[nav_name] = child_items[0]
        if sub.expand:
            _expand(ctx, child_ent, children_by_id, sub, key=level_key)


def _first_children(
    ctx: Ctx,
    ent: E.EntityDef,
    nav: E.Nav,
    child_ent: E.EntityDef,
    sub: Options,
    aliases: tuple[E.Alias, E.Alias],
    out: E.Columns,
    *,
    series: bool,
    id_set: Any,
    top: int,
) -> Any:
    """The first ``$skip + $top + 1`` children of every parent in one query, as rows of (parent id,
    the child's columns, its rank), each parent's read from the index on the child's key in order and
    stopped after those rows (never every child of a parent ranked to keep a few).

    PostgreSQL: a ``LATERAL`` subquery per parent. SQLite (no ``LATERAL``): the ranked window of the
    children whose ids a correlated subquery lists (each a ``LIMIT`` on the index, then found by id).
    """
    p, c = aliases
    cols = out.cols
    first = sub.skip + top + 1
    if ctx.dialect == "postgresql":
        rank = func.row_number().over(order_by=_order(child_ent, c, sub, ctx.dialect, series=series)).label("rn")
        per_parent = (
            select(*cols, rank)
            .select_from(out.source)
            .where(nav.link(p, c), _where(ctx, child_ent, c, sub))
            .order_by(*_order(child_ent, c, sub, ctx.dialect, series=series))
            .limit(first)
            .lateral()
        )
        return (
            select(p.id.label("pid"), per_parent)
            .select_from(p)
            .join(per_parent, true())
            .where(_among(p.id, id_set), per_parent.c.rn > sub.skip)
            .order_by(p.id, per_parent.c.rn)
        )
    c2 = child_ent.alias()
    first_ids = (
        select(c2.id)
        .where(nav.link(p, c2), _where(ctx, child_ent, c2, sub))
        .order_by(*_order(child_ent, c2, sub, ctx.dialect, series=series))
        .limit(first)
    )
    where = and_(_among(p.id, id_set), nav.link(p, c), c.id.in_(first_ids))
    ranked = func.row_number().over(partition_by=p.id, order_by=_order(child_ent, c, sub, ctx.dialect, series=series))
    inner = (
        select(p.id.label("pid"), *cols, ranked.label("rn"))
        .select_from(out.source)
        .join(p, true())
        .where(where)
        .subquery()
    )
    return select(inner).where(inner.c.rn > sub.skip).order_by(inner.c.pid, inner.c.rn)


# Where each Observation property is found when the observation is read from sensing_latest (the
# covering latest-value table) and the rare rest from sensing_observation_extra.
_LATEST_COLUMNS: dict[str, Callable[[Any], list[Any]]] = {
    "id": lambda x: [Latest.observation_id],
    "phenomenonTime": lambda x: [Latest.phenomenon_us, x.phenomenon_end_us],
    "resultTime": lambda x: [x.result_time_us],
    "result": lambda x: [Latest.result, x.result_json],
    "resultQuality": lambda x: [x.result_quality],
    "validTime": lambda x: [x.valid_start_us, x.valid_end_us],
    "parameters": lambda x: [x.parameters],
}


@dataclass(frozen=True)
class _Latest:
    stmt: Any
    spans: list[tuple[str, int, int]]
    navs: list[str]


def _latest_plan(id_set: Any, sub: Options) -> _Latest:
    ent = E.ENTITIES["Observations"]
    x = aliased(ObservationExtra)
    props, navs = _names(ent, sub)
    cols: list[Any] = [Latest.datastream_id]
    spans: list[tuple[str, int, int]] = []
    for name in props:
        start = len(cols)
        cols += _LATEST_COLUMNS[name](x)
        spans.append((name, start, len(cols)))
    stmt = (
        select(*cols)
        .select_from(Latest)
        .outerjoin(x, x.observation_id == Latest.observation_id)
        .where(_among(Latest.datastream_id, id_set), Latest.observation_id > 0)
    )
    return _Latest(stmt, spans, navs)


def _expand_latest(
    ctx: Ctx,
    by_id: dict[int, list[dict[str, Any]]],
    lp: _Latest,
    params: dict[str, Any],
    sub: Options,
    *,
    key: tuple[Any, ...] | None,
) -> None:
    """``Observations($top=1;$orderby=phenomenonTime desc)`` of many datastreams: one read of
    ``sensing_latest`` (one narrow row per datastream, kept by ingest), never the observations table,
    and the common JSON (whole-second times, numeric results) built column-wise."""
    ent = E.ENTITIES["Observations"]
    spans, navs = lp.spans, lp.navs
    rows = ctx.rows(lp.stmt, params)  # Core rows: no ORM result processing; at most one per datastream
    ctx.budget.take(sum(len(by_id.get(r[0], ())) for r in rows))
    extra_at = [i for name, lo, hi in spans for i in range(lo + 1, hi) if name in ("phenomenonTime", "result")]
    plain = {name for name, _, _ in spans} <= {"id", "phenomenonTime", "result"} and not any(
        r[i] is not None for r in rows for i in extra_at
    )
    if plain:  # instants and numbers (the common case): the JSON is built column by column
        at = {name: lo for name, lo, _ in spans}
        oids = [r[at["id"]] for r in rows]
        prefix = f"{ctx.base}/Observations("
        with_id = not sub.select or "id" in sub.select
        objs: list[dict[str, Any]] = [{"@iot.id": o, "@iot.selfLink": f"{prefix}{o})"} if with_id else {} for o in oids]
        if "phenomenonTime" in at:
            for obj, text in zip(objs, iso_many([r[at["phenomenonTime"]] for r in rows]), strict=True):
                obj["phenomenonTime"] = text
        if "result" in at:
            i = at["result"]
            for obj, r in zip(objs, rows, strict=True):
                obj["result"] = r[i]
        for link_key, suffix in [(f"{n}@iot.navigationLink", f"/{n}") for n in navs if n not in sub.expand]:
            for obj, o in zip(objs, oids, strict=True):
                obj[link_key] = f"{prefix}{o}){suffix}"
    else:
        objs = _page_builder(ctx, ent, spans, sub, navs)(rows)
        oids = [r[spans[0][1]] for r in rows]
    for items in by_id.values():
        for item in items:
            item["Observations"] = []
    placed: dict[int, list[dict[str, Any]]] = {}
    for r, obj, oid in zip(rows, objs, oids, strict=True):
        for n, parent in enumerate(by_id.get(r[0], ())):
            mine = obj if n == 0 else dict(obj)  # a datastream listed twice gets its own copy
            parent["Observations"] = [mine]
            placed.setdefault(oid, []).append(mine)
    if sub.expand:
        _expand(ctx, ent, placed, sub, key=key)


def _latest_only(ent: E.EntityDef, nav_name: str, sub: Options) -> bool:
    if ent.plural != "Datastreams" or nav_name != "Observations":
        return False
    if sub.top != 1 or sub.skip or sub.filter is not None or sub.count or len(sub.orderby) != 1:
        return False
    node, desc = sub.orderby[0]
    return desc and isinstance(node, Path) and node.segments == ("phenomenonTime",)


def _count_children_stmt(ctx: Ctx, ent: E.EntityDef, nav: E.Nav, child: E.EntityDef, sub: Options, id_set: Any) -> Any:
    """``$count`` inside ``$expand``: the children of every parent counted in one grouped query (the
    observations of datastreams without a filter: the running counts kept by ingest)."""
    if ent.plural == "Datastreams" and child.plural == "Observations" and sub.filter is None:
        return select(Latest.datastream_id, Latest.raw_count).where(_among(Latest.datastream_id, id_set))
    p, c = ent.alias(), child.alias()
    return (
        select(p.id, func.count())
        .select_from(c)
        .join(p, true())
        .where(_among(p.id, id_set), nav.link(p, c), _where(ctx, child, c, sub))
        .group_by(p.id)
    )


def _count_children(ctx: Ctx, stmt: Any, params: dict[str, Any]) -> dict[int, int]:
    return {pid: int(n) for pid, n in ctx.rows(stmt, params)}


def data_array(ctx: Ctx, target: Target, opts: Options) -> dict[str, Any]:
    """Observations grouped per datastream as ``components`` + ``dataArray`` (the dataArray extension)."""
    target = _prepared(ctx, target)
    ent = target.ent
    a = ent.alias()
    comps = [n for n in (opts.select or ["id", "phenomenonTime", "result"]) if n in ent.props]
    out = E.columns(ent, a, comps)
    spans = out.spans
    top = DEFAULT_TOP if opts.top is None else opts.top
    stmt = (
        select(a.datastream_id, *out.cols)
        .select_from(out.source)
        .where(target.cons(a), _where(ctx, ent, a, opts))
        .order_by(*_order(ent, a, opts, ctx.dialect, series=target.series))
        .limit(top)
        .offset(opts.skip)
    )
    groups: dict[Any, list[list[Any]]] = {}
    rows = ctx.rows(stmt)
    ctx.budget.take(len(rows))
    for r in rows:
        groups.setdefault(r[0], []).append([E.to_json_value(ent.props[n], list(r[s + 1 : e + 1])) for n, s, e in spans])
    value = [
        {
            "Datastream@iot.navigationLink": f"{ctx.base}/Datastreams({ds})",
            "components": comps,
            "dataArray@iot.count": len(rows),
            "dataArray": rows,
        }
        for ds, rows in groups.items()
    ]
    return {"value": value}
