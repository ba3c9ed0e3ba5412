"""Pydantic shapes of the cases API."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from countyos.cases.lifecycle import Action
from countyos.cases.models import CallbackWay, DemandType, Priority, Satisfaction, SupervisionLevel
from countyos.core.settings import get_settings
from countyos.core.workcal import TimeUnit

MAX_ID = 2**31 - 1  # ids are 32-bit integers on every backend


def local_midnight(day: date) -> datetime:
    """The start of DAY in the county's time zone, as aware UTC (ValueError outside the calendar)."""
    try:
        return datetime.combine(day, datetime.min.time(), tzinfo=ZoneInfo(get_settings().timezone)).astimezone(UTC)
    except OverflowError as exc:
        raise ValueError("the date is outside the calendar") from exc


def moment(value: Any) -> datetime:
    """A date or date-time of a query: ``YYYY-MM-DD`` is the start of that day in the county's time zone;
    a date-time needs its zone (``Z`` or ``±hh:mm``). Ends of periods are exclusive."""
    if isinstance(value, str):
        text = value.strip()
        try:
            if len(text) == 10:
                return local_midnight(date.fromisoformat(text))
            value = datetime.fromisoformat(text)
        except ValueError as exc:
            raise ValueError("not a date (YYYY-MM-DD) or a date-time with a time zone") from exc
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("a date-time needs a time zone (Z or ±hh:mm); or give a date (YYYY-MM-DD)")
        try:
            return value.astimezone(UTC)
        except OverflowError as exc:
            raise ValueError("the date-time is outside the calendar") from exc
    if isinstance(value, date):
        return local_midnight(value)
    raise ValueError("not a date (YYYY-MM-DD) or a date-time with a time zone")


def local_moment(value: Any) -> Any:
    """A date-time typed on a page (``2026-12-03T09:30``, no zone) is the county's local time; empty is None."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str):
        text = value.strip().replace(" ", "T", 1)
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError as exc:
            raise ValueError("not a date and time") from exc
        value = parsed
    if isinstance(value, datetime) and (value.tzinfo is None or value.utcoffset() is None):
        try:
            return value.replace(tzinfo=ZoneInfo(get_settings().timezone)).astimezone(UTC)
        except OverflowError as exc:
            raise ValueError("the date-time is outside the calendar") from exc
    return moment(value)


# Every date or date-time in the query of a cases route.
Moment = Annotated[datetime, BeforeValidator(moment)]
Id = Annotated[int, Field(ge=1, le=MAX_ID)]


class CaseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    category_id: Id | None = None
    service_code: str | None = Field(None, max_length=24)
    description: str | None = Field(None, max_length=4000)
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
    crs: Literal["wgs84", "cgcs2000", "gcj02", "bd09"] = "wgs84"
    address: str | None = Field(None, max_length=256)
    title: str | None = Field(None, max_length=200)
    priority: Priority | None = None
    idempotency_key: str | None = Field(None, min_length=8, max_length=80)
    attachment_ids: list[Id] = Field(default_factory=list, max_length=9)
    self_handled: bool = False
    reporter_name: str | None = Field(None, max_length=60)
    reporter_phone: str | None = Field(None, max_length=20)


class ActionIn(BaseModel):
    """One action on a case: the ONE shape of the API body, the page forms and the services."""

    model_config = ConfigDict(extra="forbid")
    action: Action
    version: int | None = Field(None, description="The version you saw; a different current version is a 409")
    comment: str | None = Field(None, max_length=2000)
    internal: bool = False
    department_id: Id | None = None
    co_department_ids: list[Id] | None = None
    assignee_id: Id | None = None
    amount: float | None = Field(None, gt=0, le=60, description="request/approve_extension: how much more time")
    unit: TimeUnit | None = None
    result: bool | None = None
    satisfaction: Satisfaction | None = None
    level: SupervisionLevel | None = None
    target_case_id: Id | None = Field(None, description="merge: the case to merge into")
    target_case_number: str | None = Field(None, max_length=24, description="merge: or its number")
    attachment_ids: list[Id] = Field(default_factory=list, max_length=9)
    lon: float | None = Field(None, ge=-180, le=180, description="relocate: the corrected longitude")
    lat: float | None = Field(None, ge=-90, le=90, description="relocate: the corrected latitude")
    crs: Literal["wgs84", "cgcs2000", "gcj02", "bd09"] = "wgs84"


class PhotoStampIn(BaseModel):
    """When and where photos were taken, as the browser says (its geolocation; the time they were
    chosen). Sent beside the photos of an action or an upload; the photos' own EXIF wins over it."""

    model_config = ConfigDict(extra="forbid")
    photo_lon: float | None = Field(None, ge=-180, le=180, description="the browser's longitude (WGS-84)")
    photo_lat: float | None = Field(None, ge=-90, le=90, description="the browser's latitude (WGS-84)")
    photo_accuracy: float | None = Field(None, ge=0, le=100_000, description="its accuracy in metres")
    photo_taken_at: Moment | None = Field(None, description="when the photos were taken (with a time zone)")


class PublishIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    public: bool = Field(description="true: shown with the public record of the request; false: staff only")


class EventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    seq: int
    at: datetime
    actor_name: str | None
    role: str | None
    action: str
    from_state: str | None
    to_state: str
    comment: str | None
    internal: bool
    attachment_ids: list[int]
    context: dict[str, Any]
    deadline_before: datetime | None
    deadline_after: datetime | None


class CaseOut(BaseModel):
    id: int
    number: str | None
    version: int
    state: str
    state_label: str
    is_open: bool
    channel: str
    category_id: int
    category_name: str
    service_code: str
    priority: str
    title: str
    description: str | None
    address: str | None
    lon: float | None
    lat: float | None
    township_code: str | None
    township_name: str | None
    village_name: str | None
    grid_code: str | None
    area_class: str
    department_id: int | None
    co_department_ids: list[int]
    suggested_department_id: int | None
    assignee_id: int | None
    rework_count: int
    step: str | None
    step_deadline: datetime | None
    step_warn_at: datetime | None
    level: str
    reported_at: datetime
    closed_at: datetime | None
    satisfaction: str | None
    duplicate_of_id: int | None
    merged_into_id: int | None
    allowed_actions: list[str] = Field(default_factory=list)


class AttachmentOut(BaseModel):
    """A file of a case: its stage (report = before; feedback, check = after), when and where it was taken."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    media_type: str
    stage: str
    public: bool
    taken_at: datetime | None
    lon: float | None
    lat: float | None
    accuracy_m: float | None
    position_source: str | None


class WorkOrderOut(BaseModel):
    """The 12345 work-order facts of a case (工单号, 来电时间, 诉求类型, 回访要求)."""

    model_config = ConfigDict(from_attributes=True)
    order_no: str | None
    called_at: datetime | None
    demand_type: DemandType
    callback_needed: bool
    callback_way: CallbackWay | None
    callback_time: str | None


class CaseDetailOut(CaseOut):
    timeline: list[EventOut]
    attachment_ids: list[int]
    attachments: list[AttachmentOut] = Field(default_factory=list)
    reporters: list[dict[str, Any]]
    work_order: WorkOrderOut | None = None


class CategoryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    kind: str
    code: str
    service_code: str
    name: str
    parent_id: int | None
    level: int
    is_group: bool
    register_condition: str | None
    close_condition: str | None
    default_priority: str
    public: bool
    feedback_photo_required: bool = False
    check_photo_required: bool = False


class CategoryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=1, max_length=20, pattern=r"^[0-9A-Za-z-]+$")
    name: str = Field(min_length=1, max_length=100)
    parent_id: int | None = None
    description: str | None = None
    keywords: str | None = Field(None, max_length=200)
    register_condition: str | None = Field(None, max_length=2000)
    close_condition: str | None = Field(None, max_length=2000)
    default_priority: Priority = Priority.NORMAL
    attributes: list[dict[str, Any]] = Field(default_factory=list)
    public: bool = True


class CategoryPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, min_length=1, max_length=100)
    description: str | None = None
    keywords: str | None = Field(None, max_length=200)
    register_condition: str | None = Field(None, max_length=2000)
    close_condition: str | None = Field(None, max_length=2000)
    default_priority: Priority | None = None
    attributes: list[dict[str, Any]] | None = None
    public: bool | None = None
    is_active: bool | None = None
    feedback_photo_required: bool | None = Field(None, description="a photo is needed with the handler's feedback")
    check_photo_required: bool | None = Field(None, description="a photo is needed with the inspector's check")
    sensitive: bool | None = Field(None, description="shown on the residents' public map by its grid only")

    @field_validator(
        "name",
        "default_priority",
        "attributes",
        "public",
        "is_active",
        "feedback_photo_required",
        "check_photo_required",
        "sensitive",
        mode="before",
    )
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        """Left out means unchanged; null is refused for what a category always has."""
        if value is None:
            raise PydanticCustomError("missing", "Field required")
        return value


class LimitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    area_class: Literal["A", "B", "C", "*"]
    step: Literal["accept", "verify", "register", "dispatch", "handle", "check", "close"]
    amount: float = Field(gt=0, le=1000)
    unit: TimeUnit


class RuleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    category_id: int | None = None
    township_code: str | None = Field(None, pattern=r"^\d{9}$")
    grid_code: str | None = Field(None, min_length=15, max_length=15)
    department_id: int
    co_department_ids: list[int] = Field(default_factory=list)
    note: str | None = Field(None, max_length=200)


class RuleOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    category_id: int | None
    township_code: str | None
    grid_code: str | None
    department_id: int
    co_department_ids: list[int]
    note: str | None
    updated_by: str | None
    updated_at: datetime


class WorkOrderIn(BaseModel):
    """A 12345 work order (工单) handed over by the hotline system."""

    model_config = ConfigDict(extra="forbid")
    order_no: str = Field(min_length=4, max_length=50, description="工单编号")
    category_code: str = Field(description="12345 classification code (or an Open311 service_code)")
    demand_type: DemandType = DemandType.COMPLAINT
    title: str | None = Field(None, max_length=200)
    content: str = Field(min_length=1, max_length=4000)
    address: str | None = Field(None, max_length=256)
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
    crs: Literal["wgs84", "cgcs2000", "gcj02", "bd09"] = "wgs84"
    citizen_name: str | None = Field(None, max_length=60)
    citizen_phone: str | None = Field(None, max_length=20)
    urgency: Literal["normal", "urgent", "critical"] = "normal"
    called_at: Annotated[datetime | None, BeforeValidator(local_moment)] = Field(None, description="来电时间")
    callback_needed: bool = Field(False, description="回访要求: the citizen wants to be called back")
    callback_way: CallbackWay | None = None
    callback_time: str | None = Field(None, max_length=60, description="preferred time of the callback")


class SchemeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    weights: dict[str, float] = Field(description='indicator → weight, e.g. {"closure_rate": 0.3}')
    grades: list[tuple[str, float]] | None = Field(None, description='[["A", 90], ["B", 75], …]')


class IntakeIn(BaseModel):
    """A call taken at the intake desk (受理台), or a web message accepted there: the ONE shape of the
    API body and the desk's form. Without ``lon``/``lat`` the address is placed by the county's own
    place names (the case says it was placed by address)."""

    model_config = ConfigDict(extra="forbid")
    caller_name: str | None = Field(None, max_length=60)
    caller_phone: str | None = Field(None, max_length=20)
    address: str | None = Field(None, max_length=256)
    lon: float | None = Field(None, ge=-180, le=180)
    lat: float | None = Field(None, ge=-90, le=90)
    category_id: Id | None = None
    title: str | None = Field(None, max_length=200)
    description: str | None = Field(None, max_length=4000)
    priority: Priority | None = None
    order_no: str | None = Field(None, max_length=50, description="工单号")
    called_at: Annotated[datetime | None, BeforeValidator(local_moment)] = Field(
        None, description="来电时间 (a time without a zone is the county's local time)"
    )
    demand_type: DemandType = DemandType.COMPLAINT
    callback_needed: bool = False
    callback_way: CallbackWay | None = None
    callback_time: str | None = Field(None, max_length=60)
    message_case_id: Id | None = Field(None, description="accept this web message (a reported case) instead")
    idempotency_key: str | None = Field(None, min_length=8, max_length=80)


class CallerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    phone: str = Field(min_length=3, max_length=20)


class PhraseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=300)
    category_id: Id | None = None
    position: int = Field(0, ge=0, le=999)


MAX_BATCH = 100
# The actions a list may apply to several cases at once (each case still checked by the table).
BATCH_ACTIONS = frozenset(
    {
        Action.ACCEPT,
        Action.REJECT,
        Action.REGISTER,
        Action.DISPATCH,
        Action.REDISPATCH,
        Action.SIGN,
        Action.APPROVE_RETURN,
        Action.REFUSE_RETURN,
        Action.APPROVE_EXTENSION,
        Action.REFUSE_EXTENSION,
        Action.SEND_CHECK,
        Action.CLOSE,
        Action.REQUEST_VOID,
        Action.APPROVE_VOID,
        Action.REFUSE_VOID,
        Action.MERGE,
        Action.SUPERVISE,
        Action.COMMENT,
    }
)


class BatchIn(ActionIn):
    """The same action on several cases: ``ActionIn``'s fields, applied to each case on its own
    (checked by the transition table, audited, refused alone); ``versions[i]`` is the version of
    ``case_ids[i]`` the caller saw (optional)."""

    case_ids: list[Id] = Field(min_length=1, max_length=MAX_BATCH)
    versions: list[int] | None = Field(None, max_length=MAX_BATCH)
    attachment_ids: list[Id] = Field(default_factory=list, max_length=0)

    @model_validator(mode="after")
    def _check(self) -> BatchIn:
        if self.action not in BATCH_ACTIONS:
            raise ValueError("this action is taken on one case at a time")
        if self.versions is not None and len(self.versions) != len(self.case_ids):
            raise ValueError("versions must give one version per case id")
        if len(set(self.case_ids)) != len(self.case_ids):
            raise ValueError("a case id is repeated")
        return self

    def for_case(self, index: int) -> ActionIn:
        data = self.model_dump(exclude={"case_ids", "versions", "attachment_ids"})
        data["version"] = self.versions[index] if self.versions is not None else None
        return ActionIn.model_validate(data)


class BatchResultOut(BaseModel):
    case_id: int
    number: str | None = None
    ok: bool
    state: str | None = None
    state_label: str | None = None
    code: str | None = None
    message: str | None = None


class BatchOut(BaseModel):
    done: int
    refused: int
    results: list[BatchResultOut]


class WorkflowSettingsIn(BaseModel):
    """The switches of the case workflow that the case administrator changes (page form and API)."""

    model_config = ConfigDict(extra="forbid")
    auto_check: bool = Field(
        False, description="Send handled cases for checking to the grid's inspector at once (off: the manual step)"
    )
