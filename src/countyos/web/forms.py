"""The shared pattern of page forms: the form's fields go through the API's Pydantic model; a refusal
comes back as (field → message in the interface language) beside each field, with what was typed.

    values = typed(form, ("display_name", "phone"))
    try:
        body = parse(UserPatch, values)
        service.update(..., **body.model_dump())
    except (PydanticValidationError, CountyError) as exc:
        session.rollback()
        return render(..., {"form": Refused.of(request, exc, values)}, status_code=422)

A page with several forms names the refused one (``Refused.of(..., which="limit")``); a page shown
without a refusal passes ``Refused.empty()``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request, UploadFile
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError
from starlette.datastructures import FormData

from countyos.core import i18n
from countyos.core.errors import CountyError, PayloadTooLarge
from countyos.core.i18n import N_
from countyos.web.errors import FIELD_MESSAGES, PLAIN_WORDS
from countyos.web.templating import translate

M = TypeVar("M", bound=BaseModel)


async def _posted(request: Request) -> FormData:
    return await request.form()


PostedForm = Annotated[FormData, Depends(_posted)]  # the posted form of a page route (sync routes too)


def typed(form: FormData, names: Iterable[str]) -> dict[str, str]:
    """What the person typed in these fields (strings, as sent; missing ones as "")."""
    out = {}
    for name in names:
        value = form.get(name)
        out[name] = value if isinstance(value, str) else ""
    return out


def read_upload(file: UploadFile, limit: int) -> bytes:
    """The uploaded file's bytes, refused with 413 past LIMIT (read no further than one byte over)."""
    data = file.file.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLarge(N_("The file is too large"))
    return data


def parse(model: type[M], values: dict[str, Any], *, empty_is_none: bool = True) -> M:
    """The model from the typed values; an empty field is left out (the model's default)."""
    data = {k: v for k, v in values.items() if not (empty_is_none and isinstance(v, str) and not v.strip())}
    return model.model_validate(data)


def field_errors(request: Request, exc: Exception) -> dict[str, str]:
    """Field → message in the interface language, from a Pydantic or a ``core.errors`` refusal; a
    refusal without a field is under "" (shown at the top of the form)."""
    out: dict[str, str] = {}
    with i18n.use_locale(getattr(request.state, "locale", i18n.DEFAULT_LOCALE)):
        if isinstance(exc, PydanticValidationError):
            for e in exc.errors():
                name = str(e["loc"][0]) if e["loc"] else ""
                out.setdefault(name, i18n.gettext(FIELD_MESSAGES.get(e["type"], "Not valid")))
        elif isinstance(exc, CountyError):
            for e in getattr(exc, "errors", None) or []:
                message = str(e.get("message") or "Not valid")
                out.setdefault(str(e.get("field") or ""), i18n.gettext(PLAIN_WORDS.get(message, message)))
            if not out:
                out[""] = exc.message
    return out


@dataclass(frozen=True)
class Refused:
    """A refused form as typed: each message beside its field (a nested field's beside its first
    part: ``steps.1.department_id`` beside the steps table), one message at the top, the status."""

    values: Mapping[str, Any]
    errors: dict[str, str]
    error: str | None
    status: int = 422
    which: str = ""  # which form of a page with several

    @classmethod
    def empty(cls) -> Refused:
        return cls({}, {}, None, 200)

    @classmethod
    def of(cls, request: Request, exc: Exception, values: Mapping[str, Any], which: str = "") -> Refused:
        errors: dict[str, str] = {}
        for key, message in field_errors(request, exc).items():
            errors.setdefault(key.split(".")[0], message)
        if isinstance(exc, PydanticValidationError):
            for e in exc.errors():  # a rule of the whole model (one field needs another): its words at the top
                if not e["loc"] and e.get("ctx", {}).get("error"):
                    errors[""] = translate(request, str(e["ctx"]["error"]))
        top = errors.pop("", None) or translate(request, "Please correct the marked fields")
        return cls(values, errors, top, exc.status if isinstance(exc, CountyError) else 422, which)
