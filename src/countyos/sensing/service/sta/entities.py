"""The SensorThings entity sets as data: their tables, properties and navigation links.

Each :class:`EntityDef` says how to select the entity (a FROM clause built on an alias, so that the
same entity can appear several times in one query), how each JSON property maps to a SQL expression,
and how each navigation property links two aliases. The reader, the filter translator and the writer
all work from these definitions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    FromClause,
    Select,
    and_,
    any_,
    case,
    exists,
    func,
    literal_column,
    null,
    or_,
    select,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased, outerjoin

from countyos.sensing import models as m
from countyos.sensing.service.times import interval, iso

Alias = Any  # an aliased ORM class


@dataclass(frozen=True)
class Prop:
    """A JSON property: its SQL expression on an alias, kind and how a row value becomes JSON."""

    expr: Callable[[Alias], ColumnElement[Any]]
    kind: str  # id | str | num | json | time | interval | dt | geo
    out: Callable[[Any], Any] = lambda v: v
    extra: Callable[[Alias], list[ColumnElement[Any]]] | None = None  # more columns read for output
    # the columns read for output when the entity's side table is joined (``EntityDef.joined``), in
    # place of ``expr`` and ``extra``: one outer join instead of a correlated subquery per column and row
    output: Callable[[Alias, Alias], list[ColumnElement[Any]]] | None = None
    geo: tuple[str, str] | None = None  # (lon, lat) attribute names for plain-SQL geo functions


@dataclass(frozen=True)
class Nav:
    target: str  # entity set name
    many: bool
    # condition linking a parent alias and a child alias (used for filters and expands)
    link: Callable[[Alias, Alias], ColumnElement[Any]]
    # to-many: the children of the parent with this id (a number or an uncorrelated scalar subquery),
    # as a condition on the child's own key columns, so that a path like /Datastreams(1)/Observations
    # is planned from an index on the child (``datastream_id = ?``) and not as a correlated EXISTS
    by_parent_id: Callable[[Alias, Any], ColumnElement[Any]] | None = None
    # to-one: the child's id as an expression of the parent row (e.g. the parent's foreign key)
    child_id_of: Callable[[Alias], ColumnElement[Any]] | None = None


@dataclass
class EntityDef:
    name: str  # singular, e.g. Thing
    plural: str  # entity set, e.g. Things
    model: type[Any]
    props: dict[str, Prop]
    navs: dict[str, Nav]
    default_order: str = "id"
    # a side table read for output (an alias of it and the outer join's condition), see Prop.output
    joined: Callable[[Alias], tuple[Alias, ColumnElement[Any]]] | None = None
    required: tuple[str, ...] = ()
    aliases_made: list[Alias] = field(default_factory=list)

    def alias(self) -> Alias:
        return aliased(self.model)


def _id(a: Alias) -> Any:
    return a.id


def col(name: str) -> Callable[[Alias], ColumnElement[Any]]:
    return lambda a: getattr(a, name)


def _geo_out(v: Any) -> Any:
    return v


def _to_one(target: str, child_id_of: Callable[[Alias], ColumnElement[Any]]) -> Nav:
    return Nav(target, False, lambda parent, child: child.id == child_id_of(parent), child_id_of=child_id_of)


def _to_many(target: str, by_parent_id: Callable[[Alias, Any], ColumnElement[Any]]) -> Nav:
    return Nav(target, True, lambda parent, child: by_parent_id(child, parent.id), by_parent_id=by_parent_id)


def _fk_to_one(target: str, fk: str) -> Nav:
    return _to_one(target, lambda parent: getattr(parent, fk))


def _fk_to_many(target: str, fk: str) -> Nav:
    return _to_many(target, lambda child, pid: getattr(child, fk) == pid)


def _via(target: str, table: Any, parent_col: str, child_col: str) -> Nav:
    def by_parent_id(child: Alias, pid: Any) -> Any:
        t = table.alias()
        # correlate_except: the parent may belong to a query two levels up (a $filter across the link)
        return child.id.in_(select(t.c[child_col]).where(t.c[parent_col] == pid).correlate_except(t))

    return _to_many(target, by_parent_id)


def _extra(name: str) -> Callable[[Alias], ColumnElement[Any]]:
    """A column of sensing_observation_extra for this observation (correlated scalar subquery)."""

    def expr(a: Alias) -> ColumnElement[Any]:
        x = aliased(m.ObservationExtra)
        return select(getattr(x, name)).where(x.observation_id == a.id).scalar_subquery()

    return expr


def _observed(kind: str, column: str | None, *extras: str) -> Prop:
    """A property of an Observation: COLUMN of sensing_observation (None: the first of EXTRAS in its
    place) and the columns EXTRAS of sensing_observation_extra. ``$filter`` and ``$orderby`` read the
    extras by correlated subqueries; output reads them from the outer join (``EntityDef.joined``)."""
    rest = extras if column is not None else extras[1:]
    first: Callable[[Alias, Alias], Any]
    if column is not None:
        expr, first = col(column), lambda a, x: getattr(a, column)
    else:
        expr, first = _extra(extras[0]), lambda a, x: getattr(x, extras[0])
    return Prop(
        expr,
        kind,
        extra=(lambda a: [_extra(n)(a) for n in rest]) if rest else None,
        output=lambda a, x: [first(a, x), *(getattr(x, n) for n in rest)],
    )


def _observation_extra(a: Alias) -> tuple[Alias, ColumnElement[Any]]:
    x = aliased(m.ObservationExtra)
    return x, x.observation_id == a.id


def _if_observed(stream_col: str, a: Alias, value: ColumnElement[Any]) -> ColumnElement[Any]:
    """VALUE only for a datastream with a latest value: one without has no observations, and its
    first and last time are then known without probing the observations' index in every monthly
    partition (PostgreSQL). A CASE, so that the min/max stays a plain subquery that both databases
    answer from one end of the (datastream, time) index. Every stored observation leaves a latest
    value (``store.store``; deletions re-point it, retention keeps it)."""
    if stream_col != "datastream_id":
        return value
    observed = exists(select(literal_column("1")).where(m.Latest.datastream_id == a.id).correlate_except(m.Latest))
    return case((observed, value), else_=null())


def _phen_start(stream_col: str) -> Callable[[Alias], ColumnElement[Any]]:
    def expr(a: Alias) -> ColumnElement[Any]:
        o = aliased(m.Observation)
        first = select(func.min(o.phenomenon_us)).where(getattr(o, stream_col) == a.id).scalar_subquery()
        return _if_observed(stream_col, a, first)

    return expr


def _phen_end(stream_col: str) -> Callable[[Alias], ColumnElement[Any]]:
    def expr(a: Alias) -> ColumnElement[Any]:
        o = aliased(m.Observation)
        last = select(func.max(o.phenomenon_us)).where(getattr(o, stream_col) == a.id).scalar_subquery()
        return _if_observed(stream_col, a, last)

    return expr


# The subqueries of links say correlate_except(their own table): the parent may sit two query
# levels up (a $filter across the link is an EXISTS around the child), beyond auto-correlation.
def _observation_foi(a: Alias) -> Any:
    ds = aliased(m.Datastream)
    mds = aliased(m.MultiDatastream)
    return func.coalesce(
        a.foi_id,
        select(ds.default_foi_id).where(ds.id == a.datastream_id).correlate_except(ds).scalar_subquery(),
        select(mds.default_foi_id).where(mds.id == a.multi_datastream_id).correlate_except(mds).scalar_subquery(),
    )


class _PerDialect(ColumnElement[Any]):
    """One condition written two ways: for PostgreSQL and for the other backends (SQLite)."""

    inherit_cache = False
    type = Boolean()

    def __init__(self, postgresql: ColumnElement[Any], other: ColumnElement[Any]) -> None:
        self.postgresql = postgresql
        self.other = other


@compiles(_PerDialect)
def _per_dialect(element: _PerDialect, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(element.other, **kw))


@compiles(_PerDialect, "postgresql")
def _per_dialect_pg(element: _PerDialect, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(element.postgresql, **kw))


def _foi_observations(child: Alias, pid: Any) -> Any:
    """Observations of a feature: their own ``foi_id``, or none and their datastream's default one.

    An OR of three conditions, each planned from an index (``ix_sensing_observation_foi`` and the two
    (stream, time) indexes). PostgreSQL combines them in a bitmap when each compares a column with
    values: the datastreams are one array (``= ANY``), evaluated once. SQLite estimates every
    ``IN (subquery)`` at many rows; the datastreams' observations are joined instead (few
    datastreams, each from its index), then found by id.
    """
    ds = aliased(m.Datastream)
    mds = aliased(m.MultiDatastream)
    own = child.foi_id == pid
    # coalesce: an expression around the subquery, so that it is = ANY of one array (not of its rows)
    none: ColumnElement[Any] = literal_column("'{}'::integer[]")
    streams = func.coalesce(
        select(func.array_agg(ds.id)).where(ds.default_foi_id == pid).correlate_except(ds).scalar_subquery(), none
    )
    multi = func.coalesce(
        select(func.array_agg(mds.id)).where(mds.default_foi_id == pid).correlate_except(mds).scalar_subquery(), none
    )
    postgresql = or_(
        own,
        and_(child.datastream_id == any_(streams), child.foi_id.is_(None)),
        and_(child.multi_datastream_id == any_(multi), child.foi_id.is_(None)),
    )
    o = aliased(m.Observation)
    by_stream = (
        select(o.id)
        .select_from(ds)
        .join(o, o.datastream_id == ds.id)
        .where(ds.default_foi_id == pid, o.foi_id.is_(None))
        .correlate_except(ds, o)
    )
    other = or_(
        own,
        child.id.in_(by_stream),
        and_(
            child.multi_datastream_id.in_(select(mds.id).where(mds.default_foi_id == pid).correlate_except(mds)),
            child.foi_id.is_(None),
        ),
    )
    return _PerDialect(postgresql, other)


def _mds_properties(child: Alias, pid: Any) -> Any:
    p = aliased(m.MultiDatastreamProperty)
    return child.id.in_(select(p.observed_property_id).where(p.multi_datastream_id == pid).correlate_except(p))


def _op_mds(child: Alias, pid: Any) -> Any:
    p = aliased(m.MultiDatastreamProperty)
    return child.id.in_(select(p.multi_datastream_id).where(p.observed_property_id == pid).correlate_except(p))


def _common(*, name: bool = True, description: bool = True, properties: bool = True) -> dict[str, Prop]:
    out: dict[str, Prop] = {"id": Prop(_id, "id")}
    if name:
        out["name"] = Prop(col("name"), "str")
    if description:
        out["description"] = Prop(col("description"), "str")
    if properties:
        out["properties"] = Prop(col("properties"), "json")
    return out


def _interval_prop(start: Callable[[Alias], ColumnElement[Any]], end: Callable[[Alias], ColumnElement[Any]]) -> Prop:
    return Prop(start, "interval", extra=lambda a: [end(a)])


ENTITIES: dict[str, EntityDef] = {
    "Things": EntityDef(
        "Thing",
        "Things",
        m.Thing,
        _common(),
        {
            "Locations": _via("Locations", m.thing_location, "thing_id", "location_id"),
            "HistoricalLocations": _fk_to_many("HistoricalLocations", "thing_id"),
            "Datastreams": _fk_to_many("Datastreams", "thing_id"),
            "MultiDatastreams": _fk_to_many("MultiDatastreams", "thing_id"),
        },
        required=("name",),
    ),
    "Locations": EntityDef(
        "Location",
        "Locations",
        m.Location,
        {
            **_common(),
            "encodingType": Prop(col("encoding_type"), "str"),
            "location": Prop(col("location"), "geo", geo=("lon", "lat")),
        },
        {
            "Things": _via("Things", m.thing_location, "location_id", "thing_id"),
            "HistoricalLocations": _via(
                "HistoricalLocations", m.historical_location_location, "location_id", "historical_location_id"
            ),
        },
        required=("name", "encodingType", "location"),
    ),
    "HistoricalLocations": EntityDef(
        "HistoricalLocation",
        "HistoricalLocations",
        m.HistoricalLocation,
        {"id": Prop(_id, "id"), "time": Prop(col("time"), "dt")},
        {
            "Thing": _fk_to_one("Things", "thing_id"),
            "Locations": _via("Locations", m.historical_location_location, "historical_location_id", "location_id"),
        },
        required=("time",),
    ),
    "Sensors": EntityDef(
        "Sensor",
        "Sensors",
        m.Sensor,
        {**_common(), "encodingType": Prop(col("encoding_type"), "str"), "metadata": Prop(col("meta"), "str")},
        {
            "Datastreams": _fk_to_many("Datastreams", "sensor_id"),
            "MultiDatastreams": _fk_to_many("MultiDatastreams", "sensor_id"),
        },
        required=("name", "encodingType", "metadata"),
    ),
    "ObservedProperties": EntityDef(
        "ObservedProperty",
        "ObservedProperties",
        m.ObservedProperty,
        {**_common(), "definition": Prop(col("definition"), "str")},
        {
            "Datastreams": _fk_to_many("Datastreams", "observed_property_id"),
            "MultiDatastreams": _to_many("MultiDatastreams", _op_mds),
        },
        required=("name", "definition"),
    ),
    "Datastreams": EntityDef(
        "Datastream",
        "Datastreams",
        m.Datastream,
        {
            **_common(),
            "observationType": Prop(col("observation_type"), "str"),
            "unitOfMeasurement": Prop(col("unit"), "json"),
            "observedArea": Prop(col("observed_area"), "json"),
            "phenomenonTime": _interval_prop(_phen_start("datastream_id"), _phen_end("datastream_id")),
            "resultTime": Prop(lambda a: null(), "interval", extra=lambda a: [null()]),
        },
        {
            "Thing": _fk_to_one("Things", "thing_id"),
            "Sensor": _fk_to_one("Sensors", "sensor_id"),
            "ObservedProperty": _fk_to_one("ObservedProperties", "observed_property_id"),
            "Observations": _fk_to_many("Observations", "datastream_id"),
        },
        required=("name", "unitOfMeasurement", "observationType", "Thing", "Sensor", "ObservedProperty"),
    ),
    "MultiDatastreams": EntityDef(
        "MultiDatastream",
        "MultiDatastreams",
        m.MultiDatastream,
        {
            **_common(),
            "observationType": Prop(col("observation_type"), "str"),
            "unitOfMeasurements": Prop(col("units"), "json"),
            "multiObservationDataTypes": Prop(col("observation_types"), "json"),
            "observedArea": Prop(col("observed_area"), "json"),
            "phenomenonTime": _interval_prop(_phen_start("multi_datastream_id"), _phen_end("multi_datastream_id")),
            "resultTime": Prop(lambda a: null(), "interval", extra=lambda a: [null()]),
        },
        {
            "Thing": _fk_to_one("Things", "thing_id"),
            "Sensor": _fk_to_one("Sensors", "sensor_id"),
            "ObservedProperties": _to_many("ObservedProperties", _mds_properties),
            "Observations": _fk_to_many("Observations", "multi_datastream_id"),
        },
        required=("name", "unitOfMeasurements", "multiObservationDataTypes", "Thing", "Sensor", "ObservedProperties"),
    ),
    "Observations": EntityDef(
        "Observation",
        "Observations",
        m.Observation,
        {
            "id": Prop(_id, "id"),
            "phenomenonTime": _observed("time", "phenomenon_us", "phenomenon_end_us"),
            "resultTime": _observed("time", None, "result_time_us"),
            "result": _observed("num", "result", "result_json"),
            "resultQuality": _observed("json", None, "result_quality"),
            "validTime": _observed("interval", None, "valid_start_us", "valid_end_us"),
            "parameters": _observed("json", None, "parameters"),
        },
        {
            "Datastream": _fk_to_one("Datastreams", "datastream_id"),
            "MultiDatastream": _fk_to_one("MultiDatastreams", "multi_datastream_id"),
            "FeatureOfInterest": _to_one("FeaturesOfInterest", _observation_foi),
        },
        required=("result",),
        joined=_observation_extra,
    ),
    "FeaturesOfInterest": EntityDef(
        "FeatureOfInterest",
        "FeaturesOfInterest",
        m.FeatureOfInterest,
        {
            **_common(),
            "encodingType": Prop(col("encoding_type"), "str"),
            "feature": Prop(col("feature"), "geo", geo=("lon", "lat")),
        },
        {"Observations": _to_many("Observations", _foi_observations)},
        required=("name", "encodingType", "feature"),
    ),
}

SINGULAR = {e.name: e for e in ENTITIES.values()}


def entity(name: str) -> EntityDef:
    return ENTITIES.get(name) or SINGULAR[name]


def to_json_value(prop: Prop, values: list[Any]) -> Any:
    """A row's value(s) of one property as SensorThings JSON."""
    v = values[0]
    if prop.kind == "time":
        if len(values) > 1 and values[1] is not None:
            return interval(v, values[1])
        return iso(v)
    if prop.kind == "interval":
        return interval(v, values[1] if len(values) > 1 else None)
    if prop.kind == "dt":
        return None if v is None else v.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    if prop.kind == "num" and len(values) > 1:  # Observation.result: number, or the JSON of others
        return values[1] if values[1] is not None else v
    return v


@dataclass(frozen=True)
class Columns:
    """The SQL columns of some properties, where each property's values are in the row, and the FROM
    clause that has them (the alias, outer-joined to the entity's side table when one is read)."""

    cols: list[ColumnElement[Any]]
    spans: list[tuple[str, int, int]]
    source: Any


def columns(ent: EntityDef, a: Alias, names: list[str]) -> Columns:
    """SQL columns for the given properties and where each property's values are in the row."""
    cols: list[ColumnElement[Any]] = []
    spans: list[tuple[str, int, int]] = []
    side = ent.joined(a) if ent.joined and any(ent.props[n].output for n in names) else None
    for n in names:
        p = ent.props[n]
        start = len(cols)
        if side is not None and p.output is not None:
            exprs = p.output(a, side[0])
        else:
            exprs = [p.expr(a), *(p.extra(a) if p.extra else [])]
        for x in exprs:
            cols.append(x.label(f"p{len(cols)}"))
        spans.append((n, start, len(cols)))
    source = outerjoin(a, side[0], side[1]) if side is not None else a
    return Columns(cols, spans, source)


def base_select(ent: EntityDef, a: Alias, names: list[str]) -> tuple[Select[Any], list[tuple[str, int, int]]]:
    """The properties' columns selected from the entity (and its side table when one is read)."""
    c = columns(ent, a, names)
    return select(*c.cols).select_from(c.source), c.spans


__all__ = ["ENTITIES", "Alias", "EntityDef", "FromClause", "Nav", "Prop", "entity"]
