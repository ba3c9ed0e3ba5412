"""The county's 投入品 list (``/village/inputs``): pesticides with their 安全间隔期 per product or product class,
veterinary drugs with their 休药期, fertilisers and feeds. The bureau (``village.agri.manage``) adds an input,
changes its intervals or registration number and retires it; an empty list is filled from the starter list."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy.orm import Session
from starlette.responses import Response

from countyos.core.errors import CountyError
from countyos.core.i18n import N_
from countyos.village.models.farming import FarmInput, InputKind
from countyos.village.permissions import AGRI_MANAGE, AGRI_READ
from countyos.village.schemas.farming import InputChangeIn, InputIn
from countyos.village.service import farming_inputs as inputs
from countyos.village.service import products
from countyos.web import forms
from countyos.web.deps import Auth, ReadSession, WriteSession, require
from countyos.web.forms import PostedForm, Refused
from countyos.web.nav import NavItem
from countyos.web.templating import redirect, templates, translate

router = APIRouter(include_in_schema=False)
NAV: list[NavItem] = [
    NavItem(N_("Agriculture"), N_("Inputs and safety intervals"), "/village/inputs", AGRI_MANAGE, order=622)
]
Reader = Annotated[Auth, Depends(require(AGRI_READ))]
Keeper = Annotated[Auth, Depends(require(AGRI_MANAGE))]
TEXT_FIELDS = ("code", "kind", "name", "registration_no", "active_ingredient", "formulation", "dose_unit", "note")
ANY = "*"


def _keys() -> list[str]:
    """The interval keys a form offers: the product classes, then the products (``*`` apart)."""
    cat = products.catalog()
    return [*cat.classes, *cat.products]


def _render(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    return templates(request).render(
        request,
        name,
        {
            "kind_labels": inputs.INPUT_KIND_LABELS,
            "keys": _keys(),
            "any_key": ANY,
            "source": inputs.starter()["source"],
            "interval_label": _interval_label,
            **context,
        },
        status_code=status,
    )


def _interval_label(key: str) -> str:
    if key == ANY:
        return "*"
    cat = products.catalog()
    if key in cat.classes:
        return cat.classes[key].label()
    return products.product_label(key)


def _intervals(form: Any) -> tuple[dict[str, str], dict[str, str]]:
    """The typed interval fields (``iv_<key>``) and the intervals given (non-empty ones)."""
    typed = forms.typed(form, [f"iv_{k}" for k in _keys()] + [f"iv_{ANY}"])
    given = {name[3:]: v.strip() for name, v in typed.items() if v.strip()}
    return typed, given


@router.get("/village/inputs")
def input_list(request: Request, session: ReadSession, a: Reader) -> Response:
    rows = inputs.list_inputs(session)
    return _render(request, "village/farming/inputs.html", {"rows": rows, "kinds": list(InputKind)})


@router.post("/village/inputs/starter")
def load_starter(request: Request, session: WriteSession, a: Keeper) -> Response:
    added = inputs.ensure_starter(session, actor=a.actor)
    return redirect("/village/inputs", flash=translate(request, "%(n)s inputs added", n=added))


def _form(request: Request, inp: FarmInput | None, form: Refused | None = None, status: int = 200) -> Response:
    if form is None:
        values: dict[str, Any] = {}
        if inp is not None:
            values = {k: getattr(inp, k) or "" for k in TEXT_FIELDS}
            values["kind"] = inp.kind.value
            values["organic_allowed"] = "on" if inp.organic_allowed else ""
            values["active"] = "on" if inp.active else ""
            values.update({f"iv_{k}": str(v) for k, v in (inp.intervals or {}).items()})
        form = Refused(values, {}, None, 200)
    return _render(
        request, "village/farming/input_form.html", {"inp": inp, "form": form, "kinds": list(InputKind)}, status
    )


@router.get("/village/inputs/new")
def new_input(request: Request, a: Keeper) -> Response:
    return _form(request, None)


@router.post("/village/inputs/new")
def create_input(request: Request, session: WriteSession, a: Keeper, form: PostedForm) -> Response:
    typed = forms.typed(form, (*TEXT_FIELDS, "organic_allowed"))
    iv_typed, given = _intervals(form)
    try:
        body = forms.parse(
            InputIn,
            {
                **{k: typed[k] for k in TEXT_FIELDS},
                "intervals": given,
                "organic_allowed": typed["organic_allowed"] == "on",
            },
        )
        inp = inputs.create_input(session, actor=a.actor, body=body)
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        refused = Refused.of(request, exc, {**typed, **iv_typed})
        return _form(request, None, refused, refused.status)
    return redirect(f"/village/inputs/{inp.id}", flash=translate(request, "Saved"))


def _get(session: Session, input_id: int) -> FarmInput:
    return inputs.get_input(session, input_id=input_id)


@router.get("/village/inputs/{input_id:int}")
def edit_input(request: Request, input_id: int, session: ReadSession, a: Keeper) -> Response:
    return _form(request, _get(session, input_id))


@router.post("/village/inputs/{input_id:int}")
def change_input(request: Request, input_id: int, session: WriteSession, a: Keeper, form: PostedForm) -> Response:
    inp = _get(session, input_id)
    typed = forms.typed(form, ("name", "registration_no", "note", "organic_allowed", "active", "version"))
    iv_typed, given = _intervals(form)
    has_intervals = inp.kind in (InputKind.PESTICIDE, InputKind.VET_DRUG)
    try:
        body = forms.parse(
            InputChangeIn,
            {
                "version": typed["version"],
                "name": typed["name"],
                "registration_no": typed["registration_no"] or None,
                "note": typed["note"] or None,
                "intervals": given if has_intervals else None,
                "organic_allowed": typed["organic_allowed"] == "on",
                "active": typed["active"] == "on",
            },
            empty_is_none=False,
        )
        inputs.change_input(session, actor=a.actor, input_id=input_id, body=body)
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        refused = Refused.of(request, exc, {**typed, **iv_typed})
        return _form(request, _get(session, input_id), refused, refused.status)
    return redirect("/village/inputs", flash=translate(request, "Saved"))
