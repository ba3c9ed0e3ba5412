"""ORM models of the data domain: the resource catalogue (政务信息资源目录), its 信息项 and the loads that
fill a resource's table.

A ``Resource`` carries the GB/T 21063.3 core metadata and the 目录编制指南 fields. Its 信息项 (``InfoItem``)
are the columns of the data, each saying whether it may be shared and opened. Every file load writes a
new table ``data_t{resource}_v{number}`` (``Load.table_name``) in one transaction: a load that fails, or
that a quality rule refuses, leaves no table and no rows; the resource serves its ``current_load``.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from countyos.core.clock import utcnow
from countyos.core.db import Base, StrEnumType, UTCDateTime
from countyos.data.codes import FieldType, Grade, OpenType, ShareMethod, ShareType, UpdateCycle
from countyos.data.lifecycle import State
from countyos.org.models import Department


def new_uid() -> str:
    return str(uuid.uuid4())


class Resource(Base):
    """政务信息资源 (one line of the catalogue)."""

    __tablename__ = "data_resource"

    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uid)  # the CKAN package id
    name: Mapped[str] = mapped_column(String(100), unique=True)  # URL slug (CKAN package name)
    code: Mapped[str] = mapped_column(String(64), unique=True)  # 信息资源代码 (标识符)
    title: Mapped[str] = mapped_column(String(200), index=True)  # 信息资源名称
    summary: Mapped[str] = mapped_column(Text, default="")  # 信息资源摘要
    class_1: Mapped[str] = mapped_column(String(60), default="")  # 信息资源分类: 类
    class_2: Mapped[str] = mapped_column(String(60), default="")  # 项
    class_3: Mapped[str] = mapped_column(String(60), default="")  # 目
    class_4: Mapped[str] = mapped_column(String(60), default="")  # 细目
    provider_id: Mapped[int] = mapped_column(ForeignKey("org_department.id", ondelete="RESTRICT"), index=True)
    format: Mapped[str] = mapped_column(String(40), default="")  # 信息资源格式 (电子表格, 数据库, 图形图像 …)
    share_type: Mapped[ShareType] = mapped_column(StrEnumType(ShareType, 16), index=True)  # 共享类型
    share_condition: Mapped[str] = mapped_column(String(1000), default="")  # 共享条件
    share_method: Mapped[ShareMethod] = mapped_column(StrEnumType(ShareMethod, 12), default=ShareMethod.PLATFORM)
    open_type: Mapped[OpenType] = mapped_column(StrEnumType(OpenType, 16), index=True)  # 开放类型
    open_condition: Mapped[str] = mapped_column(String(1000), default="")  # 开放条件
    update_cycle: Mapped[UpdateCycle] = mapped_column(StrEnumType(UpdateCycle, 16))  # 更新周期
    source_system: Mapped[str] = mapped_column(String(200), default="")  # 所属系统名称
    grade: Mapped[Grade] = mapped_column(StrEnumType(Grade, 12), default=Grade.GENERAL)  # 数据分级 (GB/T 43697)
    sensitivity: Mapped[int] = mapped_column(Integer, default=1)  # 敏感级别 1–4
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)  # 关键字
    themes: Mapped[list[str]] = mapped_column(JSON, default=list)  # 主题 (the portal's groups)
    licence: Mapped[str] = mapped_column(String(40), default="CC-BY-4.0")
    rules: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # data-quality rules (data)
    state: Mapped[State] = mapped_column(StrEnumType(State, 16), default=State.DRAFT, index=True)
    review_note: Mapped[str] = mapped_column(String(1000), default="")  # the last reason given (退回, 申请撤销)
    published_on: Mapped[date | None] = mapped_column(Date)  # 发布日期
    current_load_id: Mapped[int | None] = mapped_column(
        ForeignKey("data_load.id", use_alter=True, name="fk_data_resource_current_load", ondelete="SET NULL")
    )
    version: Mapped[int] = mapped_column(Integer, default=1)  # optimistic lock of edits and actions
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    provider: Mapped[Department] = relationship(lazy="joined")
    items: Mapped[list[InfoItem]] = relationship(
        order_by="InfoItem.position", cascade="all, delete-orphan", back_populates="resource"
    )
    current_load: Mapped[Load | None] = relationship(foreign_keys=[current_load_id], post_update=True)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class InfoItem(Base):
    """信息项: one column of the resource's data."""

    __tablename__ = "data_info_item"
    __table_args__ = (UniqueConstraint("resource_id", "name", name="uq_data_info_item_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("data_resource.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(63))  # 英文名称: the column's SQL name
    label: Mapped[str] = mapped_column(String(100))  # 中文名称
    type: Mapped[FieldType] = mapped_column(StrEnumType(FieldType, 12))  # 数据类型
    length: Mapped[int] = mapped_column(Integer, default=0)  # 数据长度 (text)
    is_key: Mapped[bool] = mapped_column(Boolean, default=False)  # 是否主键
    nullable: Mapped[bool] = mapped_column(Boolean, default=True)  # 是否可空
    sensitive: Mapped[bool] = mapped_column(Boolean, default=False)  # 是否敏感 (masked when shared)
    shared: Mapped[bool] = mapped_column(Boolean, default=True)  # 共享属性: may leave to other departments
    open: Mapped[bool] = mapped_column(Boolean, default=False)  # 开放属性: may be opened to the public

    resource: Mapped[Resource] = relationship(back_populates="items")


class LoadState(StrEnum):
    LOADED = "loaded"  # 已加载: the table holds the rows
    REFUSED = "refused"  # 质量不合格: rows failed a rule and bad rows were not to be skipped; nothing loaded
    FAILED = "failed"  # 失败: the file could not be read or written; nothing loaded


class Load(Base):
    """One load of a resource's data (a version): where it came from, what quality found, what was kept."""

    __tablename__ = "data_load"
    __table_args__ = (UniqueConstraint("resource_id", "number", name="uq_data_load_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("data_resource.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)  # 1, 2, … per resource (also failed attempts)
    state: Mapped[LoadState] = mapped_column(StrEnumType(LoadState, 12), index=True)
    source: Mapped[str] = mapped_column(String(200))  # the file name, or the connector
    format: Mapped[str] = mapped_column(String(16), default="")
    table_name: Mapped[str | None] = mapped_column(String(63))  # None unless LOADED
    rows_read: Mapped[int] = mapped_column(Integer, default=0)
    rows_loaded: Mapped[int] = mapped_column(Integer, default=0)
    rows_failed: Mapped[int] = mapped_column(Integer, default=0)
    quality_score: Mapped[float | None] = mapped_column(Float)  # rows passing every rule / rows read
    report: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # counts per rule, failing rows kept
    error: Mapped[str] = mapped_column(String(1000), default="")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    seconds: Mapped[float] = mapped_column(Float, default=0.0)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("org_user.id", ondelete="SET NULL"))
    by_name: Mapped[str] = mapped_column(String(100), default="")
    # the search indexes its table is to have (lists of column names, ``tables.indexes_for``), and when
    # they were made: right after the rows, or by ``data.index_loads`` for a big file (None: not yet)
    indexes: Mapped[list[list[str]] | None] = mapped_column(JSON)
    indexed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class RequestState(StrEnum):
    PENDING = "pending"  # 待审核 (the provider decides)
    APPROVED = "approved"  # 已批准 (a grant was issued, possibly narrowed)
    REFUSED = "refused"  # 已拒绝 (with the provider's reason)


class ShareRequest(Base):
    """共享申请: a department asks for a resource's fields for a purpose and a period."""

    __tablename__ = "data_share_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("data_resource.id", ondelete="CASCADE"), index=True)
    consumer_id: Mapped[int] = mapped_column(ForeignKey("org_department.id", ondelete="RESTRICT"), index=True)
    purpose: Mapped[str] = mapped_column(String(1000))  # 用途 (and the legal ground)
    fields: Mapped[list[str]] = mapped_column(JSON, default=list)  # 信息项 asked for
    until: Mapped[date] = mapped_column(Date)  # 使用期限
    state: Mapped[RequestState] = mapped_column(StrEnumType(RequestState, 12), default=RequestState.PENDING, index=True)
    decision_note: Mapped[str] = mapped_column(String(1000), default="")
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("org_user.id", ondelete="SET NULL"))
    requested_by: Mapped[str] = mapped_column(String(100), default="")
    decided_by: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer, default=1)

    resource: Mapped[Resource] = relationship(lazy="joined")
    consumer: Mapped[Department] = relationship(lazy="joined")

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class Grant(Base):
    """共享授权: what one consumer may read of one resource — fields, rows, until when, how often — through
    its scoped key (kept as a hash; the key is shown once, when the grant is issued)."""

    __tablename__ = "data_grant"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("data_share_request.id", ondelete="SET NULL"))
    resource_id: Mapped[int] = mapped_column(ForeignKey("data_resource.id", ondelete="CASCADE"), index=True)
    consumer_id: Mapped[int] = mapped_column(ForeignKey("org_department.id", ondelete="RESTRICT"), index=True)
    fields: Mapped[list[str]] = mapped_column(JSON, default=list)
    row_filter: Mapped[dict[str, list[str]]] = mapped_column(JSON, default=dict)  # column → allowed values
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    quota_per_day: Mapped[int] = mapped_column(Integer, default=1000)  # calls a day (county time)
    key_prefix: Mapped[str] = mapped_column(String(12), index=True)  # shown in lists, to tell keys apart
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    issued_by: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    resource: Mapped[Resource] = relationship(lazy="joined")
    consumer: Mapped[Department] = relationship(lazy="joined")


class CallResult(StrEnum):
    SERVED = "served"
    REFUSED = "refused"  # expired, revoked, over quota, or asked for what the grant does not cover


class ShareCall(Base):
    """One call on a grant (served or refused): the usage figures by consumer and resource."""

    __tablename__ = "data_share_call"

    id: Mapped[int] = mapped_column(primary_key=True)
    grant_id: Mapped[int] = mapped_column(ForeignKey("data_grant.id", ondelete="CASCADE"), index=True)
    resource_id: Mapped[int] = mapped_column(Integer, index=True)
    consumer_id: Mapped[int] = mapped_column(Integer, index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    result: Mapped[CallResult] = mapped_column(StrEnumType(CallResult, 10))
    rows: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str] = mapped_column(String(200), default="")


class ConnectorKind(StrEnum):
    SQL = "sql"  # a department's database: an SQLAlchemy URL and one read-only SELECT
    HTTP = "http"  # a department's JSON HTTP API: a URL answering an array of objects (or one member holding it)
    COUNTYOS = "countyos"  # CountyOS's own records, published live (``service/live.py``), personal fields masked


class Connector(Base):
    """A scheduled pull into a resource (a new load on each run). The address of a department's database
    or API may hold a password: it is kept encrypted and shown masked."""

    __tablename__ = "data_connector"

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("data_resource.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[ConnectorKind] = mapped_column(StrEnumType(ConnectorKind, 10))
    address_enc: Mapped[str] = mapped_column(String(2000), default="")  # URL (encrypted) or the live source's key
    query: Mapped[str] = mapped_column(Text, default="")  # SQL SELECT, or the JSON member holding the records
    every_minutes: Mapped[int] = mapped_column(Integer, default=1440)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    next_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(100), default="")

    resource: Mapped[Resource] = relationship(lazy="joined")


class ConnectorRun(Base):
    """One run of a connector: rows, time and the error if any (the load it made, when it made one)."""

    __tablename__ = "data_connector_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    connector_id: Mapped[int] = mapped_column(ForeignKey("data_connector.id", ondelete="CASCADE"), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    seconds: Mapped[float] = mapped_column(Float, default=0.0)
    rows: Mapped[int] = mapped_column(Integer, default=0)
    ok: Mapped[bool] = mapped_column(Boolean, default=False)
    error: Mapped[str] = mapped_column(String(1000), default="")
    load_id: Mapped[int | None] = mapped_column(ForeignKey("data_load.id", ondelete="SET NULL"))


class Download(Base):
    """One download of an open resource's rows from the portal (``/open/datasets/{name}/download.{ext}``,
    also where CKAN clients and harvesters fetch a resource's ``url``): which resource and load, the format,
    the rows in the file, when — and who, only when someone logged in downloaded it. Nothing of an
    anonymous visitor is kept (no address, no browser): a usage figure, not a log of people."""

    __tablename__ = "data_download"

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("data_resource.id", ondelete="CASCADE"), index=True)
    load_id: Mapped[int | None] = mapped_column(ForeignKey("data_load.id", ondelete="SET NULL"))
    format: Mapped[str] = mapped_column(String(10))  # CSV, XLSX, JSON, GeoJSON
    rows: Mapped[int] = mapped_column(Integer, default=0)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("org_user.id", ondelete="SET NULL"), index=True)
