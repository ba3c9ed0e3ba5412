"""The products a county's producers grow or raise, their classes and units: data in
``village/data/products.json`` (a county adds its own produce there, no code). The six classes a
承诺达标合格证 is required for (2026 rules, Art. 3) are marked ``mandatory``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from countyos.core.errors import ValidationFailed
from countyos.core.i18n import N_, get_locale


@dataclass(frozen=True)
class ProductClass:
    code: str
    zh: str
    en: str
    mandatory: bool  # a 承诺达标合格证 is required

    def label(self) -> str:
        return self.en if get_locale().startswith("en") else self.zh


@dataclass(frozen=True)
class Product:
    code: str
    zh: str
    en: str
    class_code: str
    unit: str
    kind: str  # crop, livestock or aquatic: which records apply (安全间隔期 or 休药期)

    def label(self) -> str:
        return self.en if get_locale().startswith("en") else self.zh


@dataclass(frozen=True)
class Unit:
    code: str
    zh: str
    en: str

    def label(self) -> str:
        return self.en if get_locale().startswith("en") else self.zh


@dataclass(frozen=True)
class Catalog:
    classes: dict[str, ProductClass]
    products: dict[str, Product]
    units: dict[str, Unit]
    source: str


@lru_cache(maxsize=1)
def catalog() -> Catalog:
    raw = json.loads(resources.files("countyos.village").joinpath("data/products.json").read_text("utf-8"))
    classes = {c["code"]: ProductClass(c["code"], c["zh"], c["en"], bool(c["mandatory"])) for c in raw["classes"]}
    products = {
        p["code"]: Product(p["code"], p["zh"], p["en"], p["class"], p["unit"], p["kind"]) for p in raw["products"]
    }
    units = {u["code"]: Unit(u["code"], u["zh"], u["en"]) for u in raw["units"]}
    for p in products.values():
        if p.class_code not in classes or p.unit not in units:
            raise ValueError(f"products.json: {p.code} has an unknown class or unit")
    return Catalog(classes, products, units, raw["source"])


def product(code: str) -> Product:
    """The product of this code, or a ValidationFailed naming the field ``product_code``."""
    p = catalog().products.get(code)
    if p is None:
        raise ValidationFailed(
            N_("Unknown product %(code)s"), code=code, errors=[{"field": "product_code", "message": "Unknown product"}]
        )
    return p


def class_of(code: str) -> ProductClass:
    return catalog().classes[product(code).class_code]


def product_label(code: str) -> str:
    p = catalog().products.get(code)
    return p.label() if p else code


def unit_label(code: str) -> str:
    u = catalog().units.get(code)
    return u.label() if u else code
