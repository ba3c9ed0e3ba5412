"""GEP parameter sets: versioned JSON files ``data/gep_parameters_<version>.json`` read from disk.

A set is read from its file each time it is asked for and identified by its version and the SHA-256 of
the file's bytes (``content_hash``): a run records both, so a file edited without a new version still
makes a new report version, and a report says exactly which parameters it used. Nothing is copied into
a table: the file is the configuration, kept in the repository with its sources.

Each parameter has a value (or values by accounting class, or a list of classes), a unit, a label, a
source and whether it was verified in a primary copy. Prices (``priced``) are in the set's price base
year; :meth:`Params.price` raises them to the accounting year by the set's price index when it has one.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from countyos.core.errors import NotFound, ValidationFailed
from countyos.core.i18n import N_

DATA = Path(__file__).resolve().parent.parent / "data"
VERSION = re.compile(r"^v\d{1,4}$")


@dataclass(frozen=True)
class ParameterSet:
    version: str
    title: str
    source: str
    content_hash: str
    price_base_year: int
    price_index: dict[str, Any] | None
    switches: dict[str, dict[str, Any]]
    parameters: dict[str, dict[str, Any]]

    def switch(self, name: str) -> bool:
        return bool(self.switches.get(name, {}).get("on", False))

    def price_factor(self, year: int) -> float:
        """Prices of the base year to the accounting year's (1 without an index)."""
        if not self.price_index:
            return 1.0
        series = self.price_index.get("series", {})
        base, now = series.get(str(self.price_base_year)), series.get(str(year))
        if base is None or now is None:
            raise ValidationFailed(
                N_("The parameter set %(version)s has no price index for %(year)s"), version=self.version, year=year
            )
        return float(now) / float(base)

    def summary(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "title": self.title,
            "source": self.source,
            "content_hash": self.content_hash,
            "price_base_year": self.price_base_year,
            "price_index": self.price_index,
            "switches": self.switches,
            "parameters": self.parameters,
        }


def directory() -> Path:
    return DATA


def versions() -> list[str]:
    found = [p.stem.removeprefix("gep_parameters_") for p in directory().glob("gep_parameters_v*.json")]
    return sorted((v for v in found if VERSION.match(v)), key=lambda v: int(v[1:]))


def latest_version() -> str:
    found = versions()
    if not found:
        raise NotFound(N_("No GEP parameter set is installed"))
    return found[-1]


def load(version: str | None = None) -> ParameterSet:
    """The parameter set VERSION (the newest when None), read from its file."""
    version = version or latest_version()
    if not VERSION.match(version):
        raise NotFound(N_("No parameter set %(version)s"), version=version[:20])
    path = directory() / f"gep_parameters_{version}.json"
    if not path.is_file():
        raise NotFound(N_("No parameter set %(version)s"), version=version)
    return _parse(path.read_bytes())


@lru_cache(maxsize=16)
def _parse(data: bytes) -> ParameterSet:
    raw = json.loads(data)
    return ParameterSet(
        version=str(raw["version"]),
        title=str(raw.get("title", "")),
        source=str(raw.get("source", "")),
        content_hash=hashlib.sha256(data).hexdigest(),
        price_base_year=int(raw["price_base_year"]),
        price_index=raw.get("price_index"),
        switches=dict(raw.get("switches", {})),
        parameters=dict(raw["parameters"]),
    )


@dataclass
class Params:
    """The parameters one item reads, each noted (code → what was used) for the report."""

    pset: ParameterSet
    factor: float
    used: dict[str, dict[str, Any]] = field(default_factory=dict)

    def _spec(self, code: str) -> dict[str, Any]:
        try:
            return self.pset.parameters[code]
        except KeyError:
            raise ValidationFailed(
                N_("The parameter set %(version)s has no parameter %(code)s"), version=self.pset.version, code=code
            ) from None

    def _note(self, code: str, spec: dict[str, Any], **extra: Any) -> None:
        note = {k: spec.get(k) for k in ("unit", "label", "source", "verified")}
        note["version"] = self.pset.version
        self.used.setdefault(code, note).update(extra)

    def value(self, code: str) -> float:
        spec = self._spec(code)
        self._note(code, spec, value=spec["value"])
        return float(spec["value"])

    def price(self, code: str) -> float:
        """A price raised from the set's base year to the accounting year by the price index."""
        spec = self._spec(code)
        factor = self.factor if spec.get("priced") else 1.0
        used = float(spec["value"]) * factor
        self._note(code, spec, value=spec["value"], price_factor=round(factor, 6), used=used)
        return used

    def by_class(self, code: str, cls: str) -> float:
        """The parameter's value for one accounting class (0 for a class it does not list)."""
        spec = self._spec(code)
        value = float(spec.get("by_class", {}).get(cls, 0.0))
        if not value:
            return 0.0
        note = self.used.setdefault(code, {k: spec.get(k) for k in ("unit", "label", "source", "verified")})
        note["version"] = self.pset.version
        note.setdefault("by_class", {})[cls] = value
        return value

    def classes(self, code: str) -> list[str]:
        spec = self._spec(code)
        self._note(code, spec, list=spec["list"])
        return [str(c) for c in spec["list"]]
