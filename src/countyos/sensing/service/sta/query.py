"""SensorThings query options (``$filter``, ``$expand`` nested with options, ``$select``, ``$orderby``,
``$top``, ``$skip``, ``$count``, ``$resultFormat``) parsed and checked against the entity sets."""

from __future__ import annotations

from dataclasses import dataclass, field

from countyos.sensing.service.sta import entities as E
from countyos.sensing.service.sta.parser import Node, StaQueryError, parse_filter, parse_orderby, split_top_level

DEFAULT_TOP = 100
MAX_TOP = 10_000
KNOWN = {"$filter", "$expand", "$select", "$orderby", "$top", "$skip", "$count", "$resultFormat"}


@dataclass
class Options:
    filter: Node | None = None
    filter_text: str | None = None
    select: list[str] | None = None  # property and navigation names
    orderby: list[tuple[Node, bool]] = field(default_factory=list)
    top: int | None = None
    skip: int = 0
    count: bool = False
    expand: dict[str, Options] = field(default_factory=dict)
    result_format: str | None = None


def _int(name: str, value: str, low: int = 0) -> int:
    try:
        n = int(value)
    except ValueError as exc:
        raise StaQueryError(f"{name} must be a whole number, not {value!r}") from exc
    if n < low:
        raise StaQueryError(f"{name} must be at least {low}")
    return n


def parse(params: dict[str, str], ent: E.EntityDef, *, nested: bool = False) -> Options:
    o = Options()
    for key, value in params.items():
        if key not in KNOWN:
            if key.startswith("$"):
                raise StaQueryError(f"unknown query option {key}")
            continue
        if key == "$filter":
            o.filter, o.filter_text = parse_filter(value), value
        elif key == "$orderby":
            o.orderby = parse_orderby(value)
        elif key == "$top":
            o.top = _int("$top", value)
            if o.top > MAX_TOP:
                raise StaQueryError(f"$top may be at most {MAX_TOP}")
        elif key == "$skip":
            o.skip = _int("$skip", value)
        elif key == "$count":
            if value not in ("true", "false"):
                raise StaQueryError("$count must be true or false")
            o.count = value == "true"
        elif key == "$select":
            names = [s.strip() for s in value.split(",") if s.strip()]
            for n in names:
                base = "id" if n in ("id", "@iot.id") else n
                if base not in ent.props and base not in ent.navs:
                    raise StaQueryError(f"$select: {ent.name} has no property {n!r}")
            o.select = ["id" if n == "@iot.id" else n for n in names]
        elif key == "$resultFormat":
            if value != "dataArray":
                raise StaQueryError("$resultFormat supports dataArray only")
            if ent.plural != "Observations":
                raise StaQueryError("$resultFormat=dataArray is for Observations")
            o.result_format = value
        elif key == "$expand":
            for item in split_top_level(value, ","):
                _expand_item(o, ent, item.strip())
    return o


def _expand_item(o: Options, ent: E.EntityDef, item: str) -> None:
    if not item:
        raise StaQueryError("$expand: an empty item")
    head, inner = item, ""
    if "(" in item:
        if not item.endswith(")"):
            raise StaQueryError(f"$expand: {item!r} must end with ')'")
        head, inner = item[: item.index("(")], item[item.index("(") + 1 : -1]
    path = head.split("/")
    nav_name = path[0]
    if nav_name not in ent.navs:
        raise StaQueryError(f"$expand: {ent.name} has no navigation property {nav_name!r}")
    target = E.entity(ent.navs[nav_name].target)
    sub = o.expand.get(nav_name)
    if len(path) > 1:  # Datastreams/Observations: expand the rest inside
        if sub is None:
            sub = Options()
            o.expand[nav_name] = sub
        _expand_item(sub, target, "/".join(path[1:]) + (f"({inner})" if inner else ""))
        return
    params: dict[str, str] = {}
    for part in split_top_level(inner, ";") if inner else []:
        if "=" not in part:
            raise StaQueryError(f"$expand: option {part!r} of {nav_name} needs name=value")
        k, v = part.split("=", 1)
        params[k.strip()] = v.strip()
    new = parse(params, target, nested=True)
    if sub is not None:  # merge with an earlier Datastreams/... path
        new.expand = {**sub.expand, **new.expand}
    o.expand[nav_name] = new
