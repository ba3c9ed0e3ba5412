"""Input and output models of the certs part of the village domain (one model per input: the API and the
page forms parse the same)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from countyos.village.models.certs import CertBasis, CheckMethod, CheckMode, CheckResult

BATCH_NO_PATTERN = r"^[A-Za-z0-9-]{1,20}$"
MAX_QUANTITY = 1e9


class BatchIn(BaseModel):
    """A batch from a harvest record (``record_id``: the rest is filled from it) or by hand."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    entity_id: int | None = Field(None, ge=1, le=2**31 - 1)  # the one entity the person acts for when left out
    record_id: int | None = Field(None, ge=1, le=2**31 - 1)
    base_id: int | None = Field(None, ge=1, le=2**31 - 1)
    product_code: str | None = Field(None, min_length=1, max_length=40)
    quantity: float | None = Field(None, gt=0, le=MAX_QUANTITY, allow_inf_nan=False)
    unit: str | None = Field(None, min_length=1, max_length=10)
    harvest_date: date | None = None
    batch_no: str | None = Field(None, pattern=BATCH_NO_PATTERN)


class CheckItem(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    item: str = Field(min_length=1, max_length=60)  # 检测项目, e.g. 有机磷和氨基甲酸酯类农药
    result: str = Field("", max_length=60)  # e.g. 抑制率 12% / 0.01 mg/kg / 阴性
    limit: str = Field("", max_length=60)  # e.g. <50% / ≤0.5 mg/kg


class CheckIn(BaseModel):
    """A 快检/检测 result of a batch."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    institution: str = Field(min_length=1, max_length=120)
    method: CheckMethod
    mode: CheckMode
    standard: str = Field(min_length=1, max_length=120)
    items: list[CheckItem] = Field(default_factory=list, max_length=30)
    result: CheckResult
    report_no: str = Field(min_length=1, max_length=60)
    tested_on: date


class CertificateIn(BaseModel):
    """Issue the 承诺达标合格证 of a batch; a test-based promise names the test (else the batch's latest of
    that mode)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    basis: CertBasis = CertBasis.CONTROL
    test_id: int | None = Field(None, ge=1, le=2**31 - 1)


class RevokeIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    reason: str = Field(min_length=2, max_length=300)


class RepackIn(BaseModel):
    """A buyer repacks part of a batch: a child batch and the buyer's re-issued certificate."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    entity_id: int | None = Field(None, ge=1, le=2**31 - 1)  # the buyer entity (the only one when left out)
    quantity: float = Field(gt=0, le=MAX_QUANTITY, allow_inf_nan=False)
    batch_no: str | None = Field(None, pattern=BATCH_NO_PATTERN)
    packed_on: date | None = None


class CheckOut(BaseModel):
    id: int
    batch_id: int
    institution: str
    method: CheckMethod
    method_label: str
    mode: CheckMode
    mode_label: str
    standard: str
    items: list[CheckItem]
    result: CheckResult
    result_label: str
    report_no: str
    tested_on: date


class CertificateOut(BaseModel):
    id: int
    number: str
    batch_id: int
    issuer_id: int
    parent_id: int | None
    product_code: str
    product_name: str
    product_class: str
    class_label: str
    quantity: float
    unit: str
    unit_label: str
    producer_name: str
    origin: str
    contact: str | None  # masked
    promise: str
    basis: CertBasis
    basis_label: str
    report_no: str | None
    issued_on: date
    issued_at: datetime
    revoked: bool
    revoked_at: datetime | None
    revoked_reason: str | None
    trace_code: str
    trace_url: str
    url: str
    pdf_url: str


class BatchOut(BaseModel):
    id: int
    entity_id: int
    entity_name: str
    base_id: int | None
    base_name: str | None
    parent_id: int | None
    product_code: str
    product_name: str
    product_class: str
    class_label: str
    certificate_required: bool
    quantity: float
    left: float  # not yet repacked
    unit: str
    unit_label: str
    harvest_date: date
    batch_no: str
    trace_code: str
    trace_code_human: str
    trace_scheme: str
    trace_url: str
    trace_views: int
    source_record_id: int | None
    certificate_id: int | None  # the current (not revoked) certificate
    url: str


class BatchDetailOut(BatchOut):
    checks: list[CheckOut]
    certificates: list[CertificateOut]
    children: list[BatchOut]


class TraceStep(BaseModel):
    """One batch of the chain as the public sees it (root producer first, then any repacker)."""

    batch_no: str
    trace_code: str
    holder_name: str  # masked for a 农户 or 种养大户
    holder_kind: str
    holder_kind_label: str
    village: str | None
    quantity: float
    unit_label: str
    date: date


class TraceRecord(BaseModel):
    kind: str
    kind_label: str
    used_on: date
    input_name: str | None
    registration_no: str | None
    interval_days: int | None


class TraceCertificate(BaseModel):
    number: str
    issuer_name: str
    issued_on: date
    basis_label: str
    report_no: str | None
    promise: str
    revoked: bool
    revoked_reason: str | None
    repack_of: str | None  # the number of the original certificate


class TraceCheck(BaseModel):
    institution: str
    method_label: str
    mode_label: str
    standard: str
    items: list[CheckItem]
    result: CheckResult
    result_label: str
    report_no: str
    tested_on: date


class TraceFlow(BaseModel):
    buyer_name: str
    buyer_kind_label: str
    delivered_on: date | None
    quantity: float
    unit_label: str
    checked: bool | None


class TraceBase(BaseModel):
    name: str
    village: str | None
    facility_label: str
    area_m2: float
    area_mu: float


class TraceOut(BaseModel):
    """The public trace page's content (no personal data)."""

    code: str
    code_human: str
    product_name: str
    class_label: str
    batch_no: str
    harvest_date: date
    quantity: float
    unit_label: str
    producer: TraceStep
    chain: list[TraceStep]
    base: TraceBase | None
    records: list[TraceRecord]
    checks: list[TraceCheck]
    certificates: list[TraceCertificate]
    flows: list[TraceFlow]
    views: int
    views_today: int
