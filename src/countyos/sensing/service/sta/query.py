"""SensorThings query options (``$filter``, ``$expand`` nested with options, ``$select``, ``$orderby``,
``$top``, ``$skip``, ``$count``, ``$resultFormat``) parsed, bounded (:mod:`.limits`) and checked
against the entity sets."""

from __future__ import annotations

from dataclasses import dataclass, field

from countyos.sensing.service.sta import entities as E
from countyos.sensing.service.sta.limits import MAX_LIST, Limits
from countyos.sensing.service.sta.parser import Node, StaQueryError, parse_filter, parse_orderby, split_top_level

DEFAULT_TOP = 100
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
    given: dict[str, str] = field(default_factory=dict)  # the options of this level as sent, but $expand

    def link_params(self, *, top: int, skip: int) -> dict[str, str]:
        """The options of this level for a next link: the same request, the next page."""
        out = {k: v for k, v in self.given.items() if k not in ("$top", "$skip")}
        if self.expand:
            out["$expand"] = self.expand_text()
        out["$top"], out["$skip"] = str(top), str(skip)
        return out

    def expand_text(self) -> str:
        items = []
        for nav, sub in self.expand.items():
            inner = [f"{k}={v}" for k, v in sub.given.items()]
            if sub.expand:
                inner.append(f"$expand={sub.expand_text()}")
            items.append(f"{nav}({';'.join(inner)})" if inner else nav)
        return ",".join(items)


def _int(name: str, value: str, high: int) -> int:
    try:
        n = int(value)
    except ValueError as exc:
        raise StaQueryError(f"{name} must be a whole number, not {value[:40]!r}") from exc
    if n < 0:
        raise StaQueryError(f"{name} must be at least 0")
    if n > high:
        raise StaQueryError(f"{name} may be at most {high}")
    return n


def _items(name: str, value: str, what: str, *, split: bool = False) -> list[str]:
    parts = split_top_level(value, ",") if split else value.split(",")
    if len(parts) > MAX_LIST:
        raise StaQueryError(f"{name} names at most {MAX_LIST} {what}")
    return parts


def parse(params: dict[str, str], ent: E.EntityDef, *, limits: Limits | None = None) -> Options:
    """The query options of a request (bounded by ``limits``, by default the settings')."""
    lim = limits or Limits.current()
    length = sum(len(k) + len(v) for k, v in params.items())
    if length > lim.query_length:
        raise StaQueryError(f"the query options may have at most {lim.query_length} characters together")
    return _parse(params, ent, lim, level=0)


def _parse(params: dict[str, str], ent: E.EntityDef, lim: Limits, *, level: int) -> Options:
    o = Options()
    for key, value in params.items():
        if key not in KNOWN:
            if key.startswith("$"):
                raise StaQueryError(f"unknown query option {key[:40]}")
            continue
        if key != "$expand":
            o.given[key] = value
        if key == "$filter":
            o.filter, o.filter_text = parse_filter(value), value
        elif key == "$orderby":
            _items("$orderby", value, "keys", split=True)
            o.orderby = parse_orderby(value)
        elif key == "$top":
            o.top = _int("$top", value, lim.top)
        elif key == "$skip":
            o.skip = _int("$skip", value, lim.skip)
        elif key == "$count":
            if value not in ("true", "false"):
                raise StaQueryError("$count must be true or false")
            o.count = value == "true"
        elif key == "$select":
            names = list(dict.fromkeys(s.strip() for s in _items("$select", value, "properties") if s.strip()))
            for n in names:
                base = "id" if n in ("id", "@iot.id") else n
                if base not in ent.props and base not in ent.navs:
                    raise StaQueryError(f"$select: {ent.name} has no property {n[:40]!r}")
            o.select = ["id" if n == "@iot.id" else n for n in names]
        elif key == "$resultFormat":
            if value != "dataArray":
                raise StaQueryError("$resultFormat supports dataArray only")
            if ent.plural != "Observations":
                raise StaQueryError("$resultFormat=dataArray is for Observations")
            o.result_format = value
        elif key == "$expand":
            for item in _items("$expand", value, "navigation properties", split=True):
                _expand_item(o, ent, item.strip(), lim, level=level)
    return o


def _expand_item(o: Options, ent: E.EntityDef, item: str, lim: Limits, *, level: int) -> None:
    if not item:
        raise StaQueryError("$expand: an empty item")
    if level + 1 > lim.expand_depth:
        raise StaQueryError(f"$expand may nest at most {lim.expand_depth} levels deep")
    head, inner = item, ""
    if "(" in item:
        if not item.endswith(")"):
            raise StaQueryError(f"$expand: {item[:80]!r} must end with ')'")
        head, inner = item[: item.index("(")], item[item.index("(") + 1 : -1]
    path = head.split("/")
    nav_name = path[0].strip()
    if nav_name not in ent.navs:
        raise StaQueryError(f"$expand: {ent.name} has no navigation property {nav_name[:40]!r}")
    target = E.entity(ent.navs[nav_name].target)
    sub = o.expand.get(nav_name)
    if len(path) > 1:  # Datastreams/Observations: expand the rest inside
        if sub is None:
            sub = Options()
            o.expand[nav_name] = sub
        rest = "/".join(path[1:]) + (f"({inner})" if inner else "")
        _expand_item(sub, target, rest, lim, level=level + 1)
        return
    params: dict[str, str] = {}
    for part in split_top_level(inner, ";") if inner else []:
        if "=" not in part:
            raise StaQueryError(f"$expand: option {part[:40]!r} of {nav_name} needs name=value")
        k, v = part.split("=", 1)
        params[k.strip()] = v.strip()
    new = _parse(params, target, lim, level=level + 1)
    if sub is not None:  # merge with an earlier Datastreams/... path
        new.expand = {**sub.expand, **new.expand}
    o.expand[nav_name] = new
