"""Input and output models of the residents' portal, one per input (API and page forms alike): accounts
and notices here, facilities and bookings in their own modules."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from countyos.portal.models import ConsentPurpose
from countyos.services.models import IdType

# ---------------------------------------------------------------------------------------------
# accounts, codes, consents (service/accounts.py, service/personal.py)

PHONE_PATTERN = r"^1[3-9]\d{9}$"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CodeRequestIn(Strict):
    phone: str = Field(min_length=11, max_length=11, pattern=PHONE_PATTERN)


class CodeSignInIn(Strict):
    phone: str = Field(min_length=11, max_length=11, pattern=PHONE_PATTERN)
    code: str = Field(min_length=6, max_length=6, pattern=r"^\d{6}$")
    agree: bool = False  # the privacy rules; needed the first time only


class PasswordSignInIn(Strict):
    phone: str = Field(min_length=11, max_length=11, pattern=PHONE_PATTERN)
    password: str = Field(min_length=1, max_length=200)


class NameIn(Strict):
    name: str = Field(min_length=1, max_length=60)


class PasswordIn(Strict):
    password: str = Field(min_length=1, max_length=200)
    current: str | None = Field(None, max_length=200)  # needed to change a password already set


class ConsentIn(Strict):
    purpose: ConsentPurpose
    give: bool


class RealNameIn(Strict):
    """A window clerk's record of the identity document seen (only its kind and last four characters are kept)."""

    name: str = Field(min_length=1, max_length=60)
    document: IdType
    number: str = Field(min_length=4, max_length=40)
    place: str = Field("", max_length=100)


# ---------------------------------------------------------------------------------------------
# notices, 村务公开, subscriptions (service/notices.py, service/subscriptions.py)

from datetime import datetime  # noqa: E402
from enum import StrEnum  # noqa: E402

from pydantic import model_validator  # noqa: E402

from countyos.core.i18n import N_  # noqa: E402
from countyos.portal.models import NoticeKind, NoticeState  # noqa: E402

NOTICE_TITLE_MAX = 200
NOTICE_BODY_MAX = 20_000
DIVISION_PATTERN = r"^\d{6}(\d{3}){0,2}$"  # county (6), township (9) or village (12 digits)


class ColumnMask(StrEnum):
    """How a column of a published list (惠农补贴名单, 财务公开) is shown: the mask is applied when the
    table is saved, so the unmasked values are never stored."""

    SHOWN = "shown"  # as uploaded (amounts, items, village groups)
    NAME = "name"  # 张*三
    ID_NUMBER = "id_number"  # 332***********1234
    PHONE = "phone"  # 138****1234
    OMITTED = "omitted"  # left out of the published table


class NoticeIn(Strict):
    """A draft notice (create or edit): the area is a division code within the publisher's."""

    kind: NoticeKind
    division_code: str = Field(pattern=DIVISION_PATTERN)
    title: str = Field(min_length=2, max_length=NOTICE_TITLE_MAX)
    body: str = Field(default="", max_length=NOTICE_BODY_MAX)
    starts_at: datetime | None = None  # without a zone: county time
    ends_at: datetime | None = None

    @model_validator(mode="after")
    def _ends_after_start(self) -> NoticeIn:
        if self.starts_at is not None and self.ends_at is not None:
            start, end = self.starts_at, self.ends_at
            if (start.tzinfo is None) == (end.tzinfo is None) and end <= start:
                raise ValueError(N_("The end must be after the start"))
        return self


class TableColumnIn(Strict):
    label: str = Field(min_length=1, max_length=60)
    mask: ColumnMask = ColumnMask.SHOWN


class NoticeTableIn(Strict):
    """A list sent through the API as it is kept by the village: masked before anything is stored."""

    columns: list[TableColumnIn] = Field(min_length=1, max_length=30)
    rows: list[list[str | int | float | None]] = Field(max_length=2000)


class NoticeCreateIn(NoticeIn):
    table: NoticeTableIn | None = None


class ColumnMarksIn(Strict):
    """New marks for the columns of a saved table, by position (a mark may only hide more)."""

    marks: list[ColumnMask] = Field(min_length=1, max_length=30)


class WithdrawIn(Strict):
    reason: str = Field(min_length=2, max_length=500)


class SubscriptionIn(Strict):
    division_code: str = Field(pattern=DIVISION_PATTERN)
    kinds: list[NoticeKind] = Field(default_factory=list, max_length=len(NoticeKind))


class AttachmentOut(BaseModel):
    filename: str
    content_type: str
    size: int
    url: str


class NoticeTableOut(BaseModel):
    columns: list[str]
    rows: list[list[str]]


class NoticeOut(BaseModel):
    """A published notice as the public reads it."""

    token: str
    kind: NoticeKind
    village_affairs: bool
    division_code: str
    area: str
    department: str | None
    title: str
    body: str
    starts_at: datetime | None
    ends_at: datetime | None
    published_at: datetime | None
    url: str
    attachments: list[AttachmentOut] = Field(default_factory=list)
    table: NoticeTableOut | None = None


class NoticeDraftOut(BaseModel):
    """A notice as its publisher sees it after a write."""

    token: str
    state: NoticeState
    kind: NoticeKind
    division_code: str
    title: str
    published_at: datetime | None
    withdrawn_reason: str | None
    withdrawn_at: datetime | None = None
    messages: int = 0  # messages delivered by this write (publish)
