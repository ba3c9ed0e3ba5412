"""Code sets of the data catalogue (政务信息资源目录): the values stored, their Chinese names.

Sources (``../docs/data.md``): 《政务信息资源共享管理暂行办法》(国发〔2016〕51号) 共享类型;
《政务信息资源目录编制指南（试行）》 共享方式, 开放类型, 更新周期, 信息项 数据类型; GB/T 43697-2024 数据分级.
"""

from __future__ import annotations

from enum import StrEnum

from countyos.core.i18n import N_


class ShareType(StrEnum):
    """共享类型 (code 1/2/3)."""

    UNCONDITIONAL = "unconditional"  # 1 无条件共享
    CONDITIONAL = "conditional"  # 2 有条件共享 (共享条件 required)
    NONE = "none"  # 3 不予共享 (共享条件 states the legal ground)


class ShareMethod(StrEnum):
    """共享方式."""

    PLATFORM = "platform"  # 1 共享平台方式 (interface or download on this platform)
    EMAIL = "email"  # 2 邮件方式
    MEDIA = "media"  # 3 介质方式


class OpenType(StrEnum):
    """开放类型."""

    UNCONDITIONAL = "unconditional"  # 无条件开放
    CONDITIONAL = "conditional"  # 有条件开放 (开放条件 required)
    CLOSED = "closed"  # 不开放


class UpdateCycle(StrEnum):
    """更新周期 (GXZQ code 1–9)."""

    IRREGULAR = "irregular"  # 1 不定时
    REALTIME = "realtime"  # 2 实时
    DAILY = "daily"  # 3 每日
    WEEKLY = "weekly"  # 4 每周
    MONTHLY = "monthly"  # 5 每月
    QUARTERLY = "quarterly"  # 6 每季度
    HALF_YEARLY = "half_yearly"  # 7 每半年
    YEARLY = "yearly"  # 8 每年
    OTHER = "other"  # 9 其他


class Grade(StrEnum):
    """数据分级 (GB/T 43697-2024)."""

    GENERAL = "general"  # 一般数据
    IMPORTANT = "important"  # 重要数据
    CORE = "core"  # 核心数据


class FieldType(StrEnum):
    """信息项 数据类型 of a loaded table's column."""

    INTEGER = "integer"  # 数字 (整数)
    NUMBER = "number"  # 数字 (小数)
    TEXT = "text"  # 字符
    DATE = "date"  # 日期
    DATETIME = "datetime"  # 日期时间
    BOOLEAN = "boolean"  # 布尔
    GEOMETRY = "geometry"  # 空间 (GeoJSON geometry, WGS-84 / CGCS2000)


class RuleKind(StrEnum):
    """Data-quality rules (a rule is data: kind, field, parameters)."""

    NOT_NULL = "not_null"  # 非空
    UNIQUE = "unique"  # 唯一
    CODE_LIST = "code_list"  # 代码值域 (params: values)
    RANGE = "range"  # 数值范围 (params: min, max)
    DATE = "date"  # 日期格式与范围 (params: min, max as ISO dates, optional)
    RESIDENT_ID = "resident_id"  # 公民身份号码 GB 11643 校验位
    USCC = "uscc"  # 统一社会信用代码 GB 32100 校验位
    PHONE = "phone"  # 电话号码格式 (mobile 1[3-9]xxxxxxxxx or landline 0xxx-xxxxxxx)
    IN_COUNTY = "in_county"  # 点位在本县域内 (a point column, or lon/lat columns)


LABELS: dict[type[StrEnum], dict[str, str]] = {
    ShareType: {
        ShareType.UNCONDITIONAL: N_("Shared unconditionally"),
        ShareType.CONDITIONAL: N_("Shared on conditions"),
        ShareType.NONE: N_("Not shared"),
    },
    ShareMethod: {
        ShareMethod.PLATFORM: N_("Through the sharing platform"),
        ShareMethod.EMAIL: N_("By e-mail"),
        ShareMethod.MEDIA: N_("On a storage medium"),
    },
    OpenType: {
        OpenType.UNCONDITIONAL: N_("Open unconditionally"),
        OpenType.CONDITIONAL: N_("Open on conditions"),
        OpenType.CLOSED: N_("Not open"),
    },
    UpdateCycle: {
        UpdateCycle.IRREGULAR: N_("Irregularly"),
        UpdateCycle.REALTIME: N_("In real time"),
        UpdateCycle.DAILY: N_("Daily"),
        UpdateCycle.WEEKLY: N_("Weekly"),
        UpdateCycle.MONTHLY: N_("Monthly"),
        UpdateCycle.QUARTERLY: N_("Quarterly"),
        UpdateCycle.HALF_YEARLY: N_("Half-yearly"),
        UpdateCycle.YEARLY: N_("Yearly"),
        UpdateCycle.OTHER: N_("Other"),
    },
    Grade: {Grade.GENERAL: N_("General data"), Grade.IMPORTANT: N_("Important data"), Grade.CORE: N_("Core data")},
    FieldType: {
        FieldType.INTEGER: N_("Integer"),
        FieldType.NUMBER: N_("Decimal number"),
        FieldType.TEXT: N_("Text"),
        FieldType.DATE: N_("Date"),
        FieldType.DATETIME: N_("Date and time"),
        FieldType.BOOLEAN: N_("Yes or no"),
        FieldType.GEOMETRY: N_("Location (geometry)"),
    },
    RuleKind: {
        RuleKind.NOT_NULL: N_("Must not be empty"),
        RuleKind.UNIQUE: N_("Must be unique"),
        RuleKind.CODE_LIST: N_("One of the listed codes"),
        RuleKind.RANGE: N_("Within a range"),
        RuleKind.DATE: N_("A real date"),
        RuleKind.RESIDENT_ID: N_("Resident ID number check digit"),
        RuleKind.USCC: N_("Unified social credit code check character"),
        RuleKind.PHONE: N_("Phone number format"),
        RuleKind.IN_COUNTY: N_("Location inside the county"),
    },
}

# Days after which a resource is stale for its update cycle (None: no cycle to hold it to).
STALE_AFTER_DAYS: dict[UpdateCycle, int | None] = {
    UpdateCycle.IRREGULAR: None,
    UpdateCycle.REALTIME: 1,
    UpdateCycle.DAILY: 2,
    UpdateCycle.WEEKLY: 9,
    UpdateCycle.MONTHLY: 35,
    UpdateCycle.QUARTERLY: 100,
    UpdateCycle.HALF_YEARLY: 190,
    UpdateCycle.YEARLY: 370,
    UpdateCycle.OTHER: None,
}
