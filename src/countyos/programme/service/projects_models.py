"""Funding and operating models (政府主导、政企合作、市场主导、项目换产业、资源换资本、国资孵化) as data:
``data/projects_funding_models.json`` (a county adds its own there, no code). Each model has a code, a
group, names and a one-line description in Chinese and English; pages show them in the reader's language
(Chinese unless the reader chose English). ``Project.funding_model`` is one of the codes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from countyos.core.errors import ValidationFailed
from countyos.core.i18n import N_, get_locale


@dataclass(frozen=True)
class FundingModel:
    code: str
    group: str
    zh: str
    en: str
    zh_description: str
    en_description: str

    def name(self, locale: str | None = None) -> str:
        return self.en if (locale or get_locale()).startswith("en") else self.zh

    def description(self, locale: str | None = None) -> str:
        return self.en_description if (locale or get_locale()).startswith("en") else self.zh_description


@dataclass(frozen=True)
class Group:
    code: str
    zh: str
    en: str

    def name(self, locale: str | None = None) -> str:
        return self.en if (locale or get_locale()).startswith("en") else self.zh


@dataclass(frozen=True)
class Catalogue:
    source: str
    groups: dict[str, Group]
    models: dict[str, FundingModel]  # in the file's order


@lru_cache(maxsize=1)
def catalogue() -> Catalogue:
    raw = json.loads(
        resources.files("countyos.programme").joinpath("data/projects_funding_models.json").read_text("utf-8")
    )
    groups = {g["code"]: Group(code=g["code"], zh=g["zh"], en=g["en"]) for g in raw["groups"]}
    models: dict[str, FundingModel] = {}
    for m in raw["models"]:
        if m["group"] not in groups or m["code"] in models:
            raise ValueError(f"projects_funding_models.json: {m['code']} has an unknown group or is repeated")
        models[m["code"]] = FundingModel(
            code=m["code"], group=m["group"], zh=m["zh"], en=m["en"],
            zh_description=m["zh_description"], en_description=m["en_description"],
        )  # fmt: skip
    return Catalogue(source=raw.get("source", ""), groups=groups, models=models)


def all_models() -> list[FundingModel]:
    return list(catalogue().models.values())


def get(code: str) -> FundingModel | None:
    return catalogue().models.get(code)


def label(code: str | None) -> str:
    """The model's name in the current locale ("—" for none, the code itself never shown raw)."""
    m = catalogue().models.get(code or "")
    return m.name() if m else "—"


def check(code: str, field: str = "funding_model") -> str:
    if code not in catalogue().models:
        raise ValidationFailed.on_field(field, N_("Choose one of the funding and operating models"))
    return code
