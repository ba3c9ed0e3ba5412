"""Pydantic shapes of the services API (one model per input: the API, the page form and the Excel import
all parse ``MatterIn``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from countyos.services.codes import (
    ApplicationKind,
    Audience,
    BodyNature,
    HandlingForm,
    Level,
    MatterType,
    RatingChannel,
    Satisfaction,
    Scope,
    SpecialProcedure,
    TimeLimitUnit,
)
from countyos.services.deadlines import Level as DueLevel
from countyos.services.lifecycle import Action, Clock, Decision, DeliveryMethod, Role, State, StepStatus
from countyos.services.models import (
    ConsentWay,
    IdType,
    MaterialForm,
    MatterStatus,
    RatingTag,
    RectificationAction,
    RectificationRole,
    RectificationState,
    RuleKind,
    WarningLevel,
    WarningState,
)

MAX_ID = 2**31 - 1
MAX_STEPS = 30
MAX_MATERIALS = 60
MAX_LIMIT_DAYS = 3650
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Text = Annotated[str, Field(max_length=4000)]


def _strip(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


class StepIn(BaseModel):
    """环节."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: str = Field(min_length=1, max_length=100)
    department_id: Id | None = None
    time_share: int | None = Field(None, ge=1, le=100)


class MaterialIn(BaseModel):
    """申请材料."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: str = Field(min_length=1, max_length=200)
    issuer: str | None = Field(None, max_length=200)
    required: bool = True
    originals: int = Field(1, ge=0, le=99)
    copies: int = Field(0, ge=0, le=99)
    note: Text | None = None
    sample_url: str | None = Field(None, max_length=500, pattern=r"^(https?://|/)\S+$")


class MatterIn(BaseModel):
    """Every field of a matter's guide (GB/T 39046 表4) as a county keeps it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    code: str = Field(min_length=1, max_length=64)  # 实施编码 (checked by the code rules)
    basic_code: str | None = Field(None, max_length=32, pattern=r"^[0-9A-Za-z-]+$")  # 基本编码
    name: str = Field(min_length=1, max_length=200)
    matter_type: MatterType
    level: Level = Level.COUNTY
    body_name: str = Field(min_length=1, max_length=200)
    body_uscc: str | None = Field(None, max_length=18)  # checked against GB 32100 by the service
    body_nature: BodyNature = BodyNature.STATUTORY
    legal_basis: Text | None = None
    legal_limit: int | None = Field(None, ge=0, le=MAX_LIMIT_DAYS)
    legal_limit_unit: TimeLimitUnit = TimeLimitUnit.WORKING_DAYS
    legal_limit_note: Text | None = None
    promised_limit: int = Field(ge=0, le=MAX_LIMIT_DAYS)
    promised_limit_unit: TimeLimitUnit = TimeLimitUnit.WORKING_DAYS
    promised_limit_note: Text | None = None
    accept_conditions: Text | None = None
    application_kind: ApplicationKind = ApplicationKind.PROMISED
    audiences: list[Audience] = Field(min_length=1, max_length=len(Audience))
    handling_forms: list[HandlingForm] = Field(min_length=1, max_length=len(HandlingForm))
    scope: Scope = Scope.NONE
    visits: int = Field(1, ge=0, le=10)
    place: Text | None = None
    hours: str | None = Field(None, max_length=500)
    consult_phone: str | None = Field(None, max_length=40, pattern=r"^[0-9+()\- 、,，/转]+$")
    supervise_phone: str | None = Field(None, max_length=40, pattern=r"^[0-9+()\- 、,，/转]+$")
    charged: bool = False
    fee_basis: Text | None = None
    result_name: str | None = Field(None, max_length=200)
    theme: str | None = Field(None, max_length=100)
    faq: Text | None = None
    online: bool = False
    special_procedure: Text | None = None
    department_id: Id | None = None
    steps: list[StepIn] = Field(default_factory=list, max_length=MAX_STEPS)
    materials: list[MaterialIn] = Field(default_factory=list, max_length=MAX_MATERIALS)

    @field_validator("audiences", "handling_forms")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))  # the order given, each once

    @field_validator("body_uscc", "basic_code")
    @classmethod
    def _upper(cls, value: str | None) -> str | None:
        return value.upper() if value else value

    @model_validator(mode="after")
    def _empty_is_none(self) -> MatterIn:
        for name in type(self).model_fields:
            if isinstance(getattr(self, name), str) and not getattr(self, name) and name not in ("code", "name"):
                setattr(self, name, None)
        return self


class StepOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    position: int
    name: str
    department_id: int | None
    time_share: int | None


class MaterialOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int  # what an application's materials refer to (``material_id``)
    position: int
    name: str
    issuer: str | None
    required: bool
    originals: int
    copies: int
    note: str | None
    sample_url: str | None


class VersionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    number: int
    created_at: datetime
    created_by_id: int | None
    name: str
    matter_type: MatterType
    level: Level
    body_name: str
    body_uscc: str | None
    body_nature: BodyNature
    legal_basis: str | None
    legal_limit: int | None
    legal_limit_unit: TimeLimitUnit
    legal_limit_note: str | None
    promised_limit: int
    promised_limit_unit: TimeLimitUnit
    promised_limit_note: str | None
    accept_conditions: str | None
    application_kind: ApplicationKind
    audiences: list[Audience]
    handling_forms: list[HandlingForm]
    scope: Scope
    visits: int
    place: str | None
    hours: str | None
    consult_phone: str | None
    supervise_phone: str | None
    charged: bool
    fee_basis: str | None
    result_name: str | None
    theme: str | None
    faq: str | None
    online: bool
    special_procedure: str | None
    department_id: int | None
    steps: list[StepOut]
    materials: list[MaterialOut]


class MatterSummary(BaseModel):
    id: int
    code: str
    basic_code: str | None
    status: MatterStatus
    version: int
    name: str
    matter_type: MatterType
    theme: str | None
    department_id: int | None
    audiences: list[Audience]
    promised_limit: int
    promised_limit_unit: TimeLimitUnit
    online: bool


class MatterOut(BaseModel):
    id: int
    code: str
    basic_code: str | None
    status: MatterStatus
    published_at: datetime | None
    withdrawn_at: datetime | None
    current: VersionOut
    versions: list[VersionOut] | None = None  # the whole history, when asked for


class ImportProblemOut(BaseModel):
    sheet: str
    row: int
    column: str | None
    message: str


class ImportRowOut(BaseModel):
    row: int
    code: str
    name: str
    result: str  # created | new_version | unchanged | skipped


class ImportReportOut(BaseModel):
    ok: bool
    applied: bool
    created: int
    new_versions: int
    unchanged: int
    skipped: int
    rows: list[ImportRowOut]
    problems: list[ImportProblemOut]


# ── Applications (办件) ──────────────────────────────────────────────────────────────────────────────

MAX_NOTE = 2000
Note = Annotated[str, Field(max_length=MAX_NOTE)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class MaterialReceivedIn(_In):
    """One material of the matter version's list as the window or the applicant hands it in."""

    material_id: Id
    received: bool = True
    form: MaterialForm | None = None
    count: int = Field(default=1, ge=0, le=99)


class ConsentIn(_In):
    """The applicant's recorded consent to an agent's submission (who, when, how)."""

    given_by: str = Field(min_length=1, max_length=100)
    way: ConsentWay
    at: datetime
    note: str | None = Field(default=None, max_length=500)

    @field_validator("at")
    @classmethod
    def _aware(cls, v: datetime) -> datetime:
        if v.tzinfo is None:
            raise ValueError("give the time with its time zone")
        return v


class ApplicationIn(_In):
    """A new application (表5): online by the applicant, at a window, or by an agent with consent."""

    matter_id: Id
    applicant_name: str = Field(min_length=1, max_length=200)
    applicant_kind: Audience = Audience.PERSON
    id_type: IdType = IdType.RESIDENT_ID
    id_number: str = Field(min_length=2, max_length=18, pattern=r"^[0-9A-Za-z()\-]+$")
    phone: str | None = Field(default=None, max_length=20, pattern=r"^\+?[0-9\-]{5,20}$")
    address: str | None = Field(default=None, max_length=300)
    source: HandlingForm | None = None  # 申报来源; default from who submits (window / online)
    consent: ConsentIn | None = None
    materials: list[MaterialReceivedIn] = Field(default_factory=list, max_length=MAX_MATERIALS)
    draft: bool = False  # keep as a draft instead of submitting

    @field_validator("applicant_name", "address", mode="before")
    @classmethod
    def _s(cls, v: object) -> object:
        return _strip(v)


class ActionBase(_In):
    """Every action carries the version the caller saw (of two concurrent actions exactly one wins)."""

    version: int = Field(ge=1, le=MAX_ID)
    note: Note | None = None


class PlainActionIn(ActionBase):
    """submit, accept, withdraw, lapse, supervise, comment: nothing but the version and a note."""


class ResubmitIn(ActionBase):
    materials: list[MaterialReceivedIn] = Field(default_factory=list, max_length=MAX_MATERIALS)


class RejectIn(ActionBase):
    reason: str = Field(min_length=1, max_length=MAX_NOTE)


class ResultIn(_In):
    """办结 result: the decision and, when granted, the certificate (结果证照)."""

    decision: Decision
    result_name: str | None = Field(default=None, max_length=200)
    result_number: str | None = Field(default=None, max_length=100)
    valid_from: datetime | None = None
    valid_until: datetime | None = None

    @model_validator(mode="after")
    def _valid(self) -> ResultIn:
        for v in (self.valid_from, self.valid_until):
            if v is not None and v.tzinfo is None:
                raise ValueError("give the time with its time zone")
        if self.valid_from and self.valid_until and self.valid_until < self.valid_from:
            raise ValueError("the validity ends before it starts")
        return self


class ImmediateIn(ActionBase):
    """即办件: accepted and concluded at once."""

    result: ResultIn


class StepActionIn(ActionBase):
    """A step's 业务动作 (通过/退回/其他) with the handler's opinion; the last step's 通过 carries the result."""

    opinion: str = Field(min_length=1, max_length=MAX_NOTE)
    result: ResultIn | None = None


class StartSpecialIn(ActionBase):
    kind: SpecialProcedure
    reason: str = Field(min_length=1, max_length=MAX_NOTE)


class EndSpecialIn(ActionBase):
    result: str = Field(min_length=1, max_length=MAX_NOTE)


class DeliverIn(ActionBase):
    method: DeliveryMethod
    tracking_number: str | None = Field(default=None, max_length=50, pattern=r"^[0-9A-Za-z\-]+$")

    @model_validator(mode="after")
    def _tracking(self) -> DeliverIn:
        if self.method is DeliveryMethod.EXPRESS and not self.tracking_number:
            raise ValueError("express delivery needs the tracking number")
        return self


ACTION_MODELS: dict[Action, type[ActionBase]] = {
    Action.SUBMIT: PlainActionIn,
    Action.REQUEST_CORRECTION: PlainActionIn,
    Action.RESUBMIT: ResubmitIn,
    Action.ACCEPT: PlainActionIn,
    Action.ACCEPT_IMMEDIATE: ImmediateIn,
    Action.REJECT: RejectIn,
    Action.PASS: StepActionIn,
    Action.RETURN: StepActionIn,
    Action.STEP_OTHER: StepActionIn,
    Action.START_SPECIAL: StartSpecialIn,
    Action.END_SPECIAL: EndSpecialIn,
    Action.DELIVER: DeliverIn,
    Action.WITHDRAW: PlainActionIn,
    Action.LAPSE: PlainActionIn,
    Action.SUPERVISE: PlainActionIn,
    Action.COMMENT: PlainActionIn,
}


class ApplicationMaterialOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    material_id: int
    name: str
    required: bool
    received: bool
    form: MaterialForm | None
    count: int
    received_at: datetime | None
    attachment_id: int | None  # the file: GET …/applications/{id}/materials/{material_id}/file


class ApplicationStepOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    position: int
    name: str
    department_id: int | None
    department_name: str | None = None
    status: StepStatus
    action: Action | None
    handler_name: str | None = None
    opinion: str | None
    started_at: datetime
    ended_at: datetime | None


class SpecialOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    kind: SpecialProcedure
    reason: str
    started_at: datetime
    ended_at: datetime | None
    result: str | None


class EventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    at: datetime
    actor_name: str
    role: Role
    action: Action
    from_state: State | None
    to_state: State
    step: int | None
    note: str | None
    detail: dict[str, Any]  # e.g. the missing materials of a 一次性告知, the receipt number, the due time moved


class ApplicationSummary(BaseModel):
    id: int
    number: str
    matter_id: int
    matter_name: str
    applicant_name: str
    state: State
    step: int | None
    version: int
    submitted_at: datetime | None
    accepted_at: datetime | None
    due_at: datetime | None
    department_id: int | None


class ApplicationOut(ApplicationSummary):
    matter_version: int
    applicant_kind: Audience
    id_type: IdType
    id_number: str  # masked without services.application.pii
    phone: str | None  # masked without services.application.pii
    address: str | None
    source: HandlingForm
    submitted_role: Role
    submitted_by_name: str | None
    consent_by: str | None
    consent_way: ConsentWay | None
    consent_at: datetime | None
    corrections: int
    missing_materials: list[str]
    receipt_number: str | None
    rejection_reason: str | None
    decided_at: datetime | None
    decision: Decision | None
    result_name: str | None
    result_number: str | None
    result_valid_from: datetime | None
    result_valid_until: datetime | None
    delivery_method: DeliveryMethod | None
    tracking_number: str | None
    delivered_at: datetime | None
    clock: Clock
    due_level: DueLevel | None  # green, yellow (80 % used), red (overdue) or stopped, while the clock counts
    allowed_actions: list[Action]
    materials: list[ApplicationMaterialOut]
    steps: list[ApplicationStepOut]
    specials: list[SpecialOut]


# ── 电子监察 (表11) ───────────────────────────────────────────────────────────────────────────────────

MAX_RULES = 30


class RuleIn(_In):
    """One supervision rule: an existing one by its ``code`` (监察规则编号; its kind stays), or a new one
    with its ``kind``. Which of ``threshold``, ``days`` and ``min_count`` a kind needs:
    ``supervision_rules.PARAMETERS``."""

    code: str | None = Field(default=None, max_length=20)
    kind: RuleKind | None = None
    threshold: float | None = Field(default=None, ge=0, le=10_000)
    days: int | None = Field(default=None, ge=1, le=365)
    min_count: int | None = Field(default=None, ge=1, le=100_000)
    level: WarningLevel = WarningLevel.YELLOW
    enabled: bool = True


class RulesIn(_In):
    rules: list[RuleIn] = Field(max_length=MAX_RULES)


class RuleOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    code: str  # 监察规则编号
    kind: RuleKind
    threshold: float | None
    days: int | None
    min_count: int | None
    level: WarningLevel
    enabled: bool
    updated_at: datetime | None


class WarningActionIn(_In):
    """Feedback or 督办: what was done or what is ordered, and the warning's ``version`` as seen."""

    version: int = Field(ge=1, le=MAX_ID)
    note: str = Field(min_length=1, max_length=MAX_NOTE)


# ── 好差评 (表9) and 差评整改 ─────────────────────────────────────────────────────────────────────────

MAX_TAGS = 11


class RatingIn(_In):
    """A rating of a concluded application: online by the applicant, or entered at a window 评价器."""

    channel: RatingChannel
    level: Satisfaction
    tags: list[RatingTag] = Field(default_factory=list, max_length=MAX_TAGS)
    comment: str | None = Field(default=None, max_length=1000)
    anonymous: bool = False
    rater_name: str | None = Field(default=None, max_length=100)  # window ratings: the person rating
    department_id: Id | None = None  # the department rated (default: the application's)
    window: str | None = Field(default=None, max_length=50)  # the window rated (窗口号)


class FollowUpIn(_In):
    """追评: one follow-up comment on a rating."""

    text: str = Field(min_length=1, max_length=1000)


class RectificationActionIn(_In):
    """One step of a 差评 rectification: the version seen and what was done."""

    version: int = Field(ge=1, le=MAX_ID)
    note: str = Field(min_length=1, max_length=MAX_NOTE)


class WarningEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    at: datetime
    action: str
    actor_name: str
    from_state: WarningState | None
    to_state: WarningState
    level: WarningLevel
    note: str | None


class WarningOut(BaseModel):
    id: int
    number: str  # 监察编号
    rule_id: int
    rule_code: str  # 监察规则编号
    kind: RuleKind
    level: WarningLevel
    state: WarningState
    application_id: int | None
    application_number: str | None
    department_id: int | None
    department_name: str | None  # 责任部门
    reason: str  # 监察结果描述, in the reader's language
    raised_at: datetime
    level_at: datetime
    cleared_at: datetime | None
    feedback: str | None
    feedback_at: datetime | None
    supervision: str | None  # 督办内容
    supervised_at: datetime | None
    version: int
    allowed_actions: list[str]
    history: list[WarningEventOut] | None = None


class RectificationLimitsIn(_In):
    """Working days allowed for 核实, 整改 and 回访."""

    verifying: int = Field(ge=1, le=60)
    rectifying: int = Field(ge=1, le=60)
    revisiting: int = Field(ge=1, le=60)


class RectificationEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    at: datetime
    actor_name: str
    role: RectificationRole
    action: RectificationAction
    from_state: RectificationState | None
    to_state: RectificationState
    note: str | None
    due_at: datetime | None
    late: bool


class RectificationOut(BaseModel):
    id: int
    state: RectificationState
    version: int
    department_id: int | None
    department_name: str | None
    opened_at: datetime
    due_at: datetime | None
    overdue: bool
    substantiated: bool | None
    rounds: int
    closed_at: datetime | None
    allowed_actions: list[RectificationAction]
    events: list[RectificationEventOut]


class RatingOut(BaseModel):
    id: int
    application_id: int
    application_number: str
    matter_name: str
    channel: RatingChannel
    level: Satisfaction
    level_code: str  # GB/T 39046 A.8 (1 非常满意 … 5 非常不满意)
    bad: bool
    tags: list[RatingTag]
    comment: str | None
    anonymous: bool
    rater_name: str | None  # None when anonymous
    department_id: int | None
    department_name: str | None
    window: str | None
    rated_at: datetime
    follow_up: str | None
    follow_up_at: datetime | None
    rectification: RectificationOut | None


class RatingStatsOut(BaseModel):
    key: str
    name: str
    rated: int
    good_rate: float | None  # 好评率, percent
    bad_count: int  # 差评数
    rectification_rate: float | None  # 差评整改率, percent
    named_rectification_rate: float | None  # 实名差评整改率, percent
    rating_ids: list[int]
    bad_ids: list[int]
    rectified_ids: list[int]
    named_bad_ids: list[int]
    named_rectified_ids: list[int]


class RatingStatisticsOut(BaseModel):
    group: str
    rows: list[RatingStatsOut]
    total: RatingStatsOut


# ── Exchange: certificates ──────────────────────────────────────────────────────────────────────────


class CertificateOut(BaseModel):
    """结果证照 of a granted application, as issued."""

    application_id: int
    name: str
    number: str
    holder_name: str
    issuer: str
    issued_at: datetime
    valid_from: datetime
    valid_until: datetime | None
    revoked_at: datetime | None
    revoked_reason: str | None
    status: str  # certificates.VerifyStatus: valid, expired, revoked, not_yet_valid
    verification_url: str


class RevokeIn(BaseModel):
    """撤销 a certificate: the reason is kept and shown to staff (never to the public)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    reason: str = Field(min_length=2, max_length=500)


# ── The intake desk (受理台) ─────────────────────────────────────────────────────────────────────────


class DeskStartIn(BaseModel):
    """The desk opened from elsewhere for a matter (a window appointment of the residents' portal): the
    applicant's name and phone to fill in, and ``then``, a path of this site where the clerk goes with the
    new application's id. Posted, never in a link: a name and a phone kept out of addresses and history."""

    model_config = ConfigDict(extra="forbid")

    matter_id: int = Field(ge=1, le=MAX_ID)
    applicant_name: str = Field(default="", max_length=200)
    phone: str = Field(default="", max_length=20)
    then: str = Field(default="", max_length=251)


class DeskApplicationIn(ApplicationIn):
    """An application entered at the intake desk by a window clerk or a village agent: as the API's
    ``ApplicationIn``, with the applicant's 证件号码 checked — a 居民身份证 against GB 11643 (date of
    birth and check character), a 统一社会信用代码 against GB 32100."""

    @field_validator("id_number")
    @classmethod
    def _checked(cls, v: str, info: ValidationInfo) -> str:
        from countyos.org.service import uscc
        from countyos.services import idnumbers

        v = v.upper()
        kind = info.data.get("id_type")
        if kind is IdType.RESIDENT_ID and not idnumbers.resident_id_ok(v):
            raise ValueError("not a valid resident ID number")
        if kind is IdType.USCC and not uscc.is_valid(v):
            raise ValueError("not a valid unified social credit code")
        return v
