"""The code sets of GB/T 39046-2020 Appendix A (A.1–A.8) and the exchange codes around them.

Stored values are meanings (StrEnum values), never the numbers: the national codes are attached here
(``NATIONAL``) and used only at the edges (exports, imports, provincial connectors), because some
provincial interfaces number the same set in the opposite order (好差评 satisfaction). Labels are
message ids translated by the catalogs.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar

from countyos.core.i18n import N_


class MatterType(StrEnum):
    """A.1 事项类型."""

    ADMINISTRATIVE_POWER = "administrative_power"  # 00 行政权力事项
    LICENSING = "licensing"  # 01 行政许可
    PENALTY = "penalty"  # 02 行政处罚
    COERCION = "coercion"  # 03 行政强制
    LEVY = "levy"  # 04 行政征收
    BENEFIT = "benefit"  # 05 行政给付
    INSPECTION = "inspection"  # 06 行政检查
    CONFIRMATION = "confirmation"  # 07 行政确认
    REWARD = "reward"  # 08 行政奖励
    ADJUDICATION = "adjudication"  # 09 行政裁决
    OTHER_POWER = "other_power"  # 10 其他类别事项
    INTERNAL = "internal"  # 11 政府内部审批 (extension)
    PUBLIC_SERVICE = "public_service"  # 20 公共服务事项


class Level(StrEnum):
    """A.2 行使层级."""

    NATIONAL = "national"  # 1 国家级
    PROVINCE = "province"  # 2 省级
    CITY = "city"  # 3 市级
    COUNTY = "county"  # 4 县级
    TOWNSHIP = "township"  # 5 镇(乡、街道)级
    VILLAGE = "village"  # 6 村(社区)级
    TIERED = "tiered"  # 7 分级管理


class BodyNature(StrEnum):
    """A.3 实施主体性质."""

    STATUTORY = "statutory"  # 1 法定机关
    AUTHORISED = "authorised"  # 2 授权组织
    ENTRUSTED = "entrusted"  # 3 受委托组织
    OTHER = "other"  # 9 其他


class Audience(StrEnum):
    """A.4 服务对象."""

    PERSON = "person"  # 1 自然人
    ENTERPRISE = "enterprise"  # 2 企业法人
    INSTITUTION = "institution"  # 3 事业法人
    SOCIAL_ORG = "social_org"  # 4 社会组织法人
    AUTHORITY = "authority"  # 5 行政机关
    OTHER_ORG = "other_org"  # 6 其他组织


class HandlingForm(StrEnum):
    """A.5 办理形式 (also the 申报来源 of an application)."""

    WINDOW = "window"  # 1 窗口办理
    ONLINE_PC = "online_pc"  # 2 电脑端网上办理
    ONLINE_MOBILE = "online_mobile"  # 3 移动端网上申请
    POST = "post"  # 4 快递申请
    OTHER = "other"  # 9 其他


class ApplicationKind(StrEnum):
    """A.6 办件类型."""

    IMMEDIATE = "immediate"  # 1 即办件
    PROMISED = "promised"  # 2 承诺件
    OTHER = "other"  # 9 其他


class SpecialProcedure(StrEnum):
    """A.7 特别程序种类 (the clock stops while one runs)."""

    EXTENSION = "extension"  # 1 延长审批
    OTHER = "other"  # 2 除延长审批之外的情况 (听证、检验、检测、鉴定、专家评审 …)


class Satisfaction(StrEnum):
    """A.8 满意度, stored as its meaning."""

    VERY_SATISFIED = "very_satisfied"  # 1 非常满意
    SATISFIED = "satisfied"  # 2 满意
    FAIRLY_SATISFIED = "fairly_satisfied"  # 3 基本满意
    DISSATISFIED = "dissatisfied"  # 4 不满意
    VERY_DISSATISFIED = "very_dissatisfied"  # 5 非常不满意


class RatingChannel(StrEnum):
    """表9 评价渠道 (channels 1–7 of the national 好差评 interface)."""

    PC = "pc"  # 1 PC端
    MOBILE = "mobile"  # 2 移动服务端
    QR_CODE = "qr_code"  # 3 二维码
    HALL_TABLET = "hall_tablet"  # 4 政务大厅平板电脑
    HALL_TERMINAL = "hall_terminal"  # 5 政务大厅其他终端
    PHONE = "phone"  # 6 电话
    SMS = "sms"  # 7 短信


class TimeLimitUnit(StrEnum):
    """办结时限单位."""

    WORKING_DAYS = "working_days"  # 工作日
    NATURAL_DAYS = "natural_days"  # 自然日


class Scope(StrEnum):
    """通办范围."""

    NONE = "none"  # 不通办
    NATIONWIDE = "nationwide"  # 全国通办
    CROSS_PROVINCE = "cross_province"  # 跨省通办
    CROSS_CITY = "cross_city"  # 跨市通办
    CROSS_COUNTY = "cross_county"  # 跨县通办


# The national codes of each set (GB/T 39046-2020 Appendix A; 表9 for channels).
NATIONAL: dict[type[StrEnum], dict[StrEnum, str]] = {
    MatterType: {
        MatterType.ADMINISTRATIVE_POWER: "00",
        MatterType.LICENSING: "01",
        MatterType.PENALTY: "02",
        MatterType.COERCION: "03",
        MatterType.LEVY: "04",
        MatterType.BENEFIT: "05",
        MatterType.INSPECTION: "06",
        MatterType.CONFIRMATION: "07",
        MatterType.REWARD: "08",
        MatterType.ADJUDICATION: "09",
        MatterType.OTHER_POWER: "10",
        MatterType.INTERNAL: "11",
        MatterType.PUBLIC_SERVICE: "20",
    },
    Level: {
        Level.NATIONAL: "1",
        Level.PROVINCE: "2",
        Level.CITY: "3",
        Level.COUNTY: "4",
        Level.TOWNSHIP: "5",
        Level.VILLAGE: "6",
        Level.TIERED: "7",
    },
    BodyNature: {
        BodyNature.STATUTORY: "1",
        BodyNature.AUTHORISED: "2",
        BodyNature.ENTRUSTED: "3",
        BodyNature.OTHER: "9",
    },
    Audience: {
        Audience.PERSON: "1",
        Audience.ENTERPRISE: "2",
        Audience.INSTITUTION: "3",
        Audience.SOCIAL_ORG: "4",
        Audience.AUTHORITY: "5",
        Audience.OTHER_ORG: "6",
    },
    HandlingForm: {
        HandlingForm.WINDOW: "1",
        HandlingForm.ONLINE_PC: "2",
        HandlingForm.ONLINE_MOBILE: "3",
        HandlingForm.POST: "4",
        HandlingForm.OTHER: "9",
    },
    ApplicationKind: {ApplicationKind.IMMEDIATE: "1", ApplicationKind.PROMISED: "2", ApplicationKind.OTHER: "9"},
    SpecialProcedure: {SpecialProcedure.EXTENSION: "1", SpecialProcedure.OTHER: "2"},
    Satisfaction: {
        Satisfaction.VERY_SATISFIED: "1",
        Satisfaction.SATISFIED: "2",
        Satisfaction.FAIRLY_SATISFIED: "3",
        Satisfaction.DISSATISFIED: "4",
        Satisfaction.VERY_DISSATISFIED: "5",
    },
    RatingChannel: {
        RatingChannel.PC: "1",
        RatingChannel.MOBILE: "2",
        RatingChannel.QR_CODE: "3",
        RatingChannel.HALL_TABLET: "4",
        RatingChannel.HALL_TERMINAL: "5",
        RatingChannel.PHONE: "6",
        RatingChannel.SMS: "7",
    },
}

# Provincial 好差评 interfaces that number satisfaction the other way (1 非常不满意 … 5 非常满意).
SATISFACTION_ASCENDING: dict[Satisfaction, str] = {
    Satisfaction.VERY_DISSATISFIED: "1",
    Satisfaction.DISSATISFIED: "2",
    Satisfaction.FAIRLY_SATISFIED: "3",
    Satisfaction.SATISFIED: "4",
    Satisfaction.VERY_SATISFIED: "5",
}


def national_code(value: StrEnum) -> str:
    """The GB/T 39046 code of VALUE (e.g. ``MatterType.LICENSING`` → ``"01"``)."""
    return NATIONAL[type(value)][value]


E = TypeVar("E", bound=StrEnum)


def from_national(kind: type[E], code: str) -> E:
    """The member of KIND whose national code is CODE; ValueError when there is none."""
    for member, c in NATIONAL[kind].items():
        if c == code.strip():
            return kind(member)
    raise ValueError(f"{code!r} is not a code of {kind.__name__}")


LABELS: dict[type[StrEnum], dict[str, str]] = {
    MatterType: {
        "administrative_power": N_("Administrative power"),
        "licensing": N_("Administrative licensing"),
        "penalty": N_("Administrative penalty"),
        "coercion": N_("Administrative coercion"),
        "levy": N_("Administrative levy"),
        "benefit": N_("Administrative benefit payment"),
        "inspection": N_("Administrative inspection"),
        "confirmation": N_("Administrative confirmation"),
        "reward": N_("Administrative reward"),
        "adjudication": N_("Administrative adjudication"),
        "other_power": N_("Other administrative power"),
        "internal": N_("Internal government approval"),
        "public_service": N_("Public service"),
    },
    Level: {
        "national": N_("National level"),
        "province": N_("Provincial level"),
        "city": N_("City level"),
        "county": N_("County level"),
        "township": N_("Township level"),
        "village": N_("Village or community level"),
        "tiered": N_("Tiered management"),
    },
    BodyNature: {
        "statutory": N_("Statutory authority"),
        "authorised": N_("Authorised organisation"),
        "entrusted": N_("Entrusted organisation"),
        "other": N_("Other"),
    },
    Audience: {
        "person": N_("Natural person"),
        "enterprise": N_("Enterprise"),
        "institution": N_("Public institution"),
        "social_org": N_("Social organisation"),
        "authority": N_("Government authority"),
        "other_org": N_("Other organisation"),
    },
    HandlingForm: {
        "window": N_("At a service window"),
        "online_pc": N_("Online on a computer"),
        "online_mobile": N_("Online on a phone"),
        "post": N_("By post"),
        "other": N_("Other"),
    },
    ApplicationKind: {"immediate": N_("Immediate"), "promised": N_("Promised time limit"), "other": N_("Other")},
    SpecialProcedure: {"extension": N_("Extended approval"), "other": N_("Hearing, testing or appraisal")},
    Satisfaction: {
        "very_satisfied": N_("Very satisfied"),
        "satisfied": N_("Satisfied"),
        "fairly_satisfied": N_("Fairly satisfied"),
        "dissatisfied": N_("Dissatisfied"),
        "very_dissatisfied": N_("Very dissatisfied"),
    },
    RatingChannel: {
        "pc": N_("Computer"),
        "mobile": N_("Phone app"),
        "qr_code": N_("QR code"),
        "hall_tablet": N_("Service hall tablet"),
        "hall_terminal": N_("Other service hall terminal"),
        "phone": N_("Telephone"),
        "sms": N_("Text message"),
    },
    TimeLimitUnit: {"working_days": N_("working days"), "natural_days": N_("calendar days")},
    Scope: {
        "none": N_("Not across regions"),
        "nationwide": N_("Nationwide"),
        "cross_province": N_("Across provinces"),
        "cross_city": N_("Across cities"),
        "cross_county": N_("Across counties"),
    },
}


# The standard's Chinese names of each member (Appendix A and 表4 wording), read and written by the
# Excel exchange; imports also accept the national code and the aliases in ``ALIASES``.
STANDARD_NAMES: dict[type[StrEnum], dict[str, str]] = {
    MatterType: {
        "administrative_power": "行政权力事项",
        "licensing": "行政许可",
        "penalty": "行政处罚",
        "coercion": "行政强制",
        "levy": "行政征收",
        "benefit": "行政给付",
        "inspection": "行政检查",
        "confirmation": "行政确认",
        "reward": "行政奖励",
        "adjudication": "行政裁决",
        "other_power": "其他类别事项",
        "internal": "政府内部审批",
        "public_service": "公共服务事项",
    },
    Level: {
        "national": "国家级",
        "province": "省级",
        "city": "市级",
        "county": "县级",
        "township": "镇（乡、街道）级",
        "village": "村（社区）级",
        "tiered": "分级管理",
    },
    BodyNature: {"statutory": "法定机关", "authorised": "授权组织", "entrusted": "受委托组织", "other": "其他"},
    Audience: {
        "person": "自然人",
        "enterprise": "企业法人",
        "institution": "事业法人",
        "social_org": "社会组织法人",
        "authority": "行政机关",
        "other_org": "其他组织",
    },
    HandlingForm: {
        "window": "窗口办理",
        "online_pc": "电脑端网上办理",
        "online_mobile": "移动端网上申请",
        "post": "快递申请",
        "other": "其他",
    },
    ApplicationKind: {"immediate": "即办件", "promised": "承诺件", "other": "其他"},
    SpecialProcedure: {"extension": "延长审批", "other": "除延长审批之外的情况"},
    Satisfaction: {
        "very_satisfied": "非常满意",
        "satisfied": "满意",
        "fairly_satisfied": "基本满意",
        "dissatisfied": "不满意",
        "very_dissatisfied": "非常不满意",
    },
    RatingChannel: {
        "pc": "PC端",
        "mobile": "移动服务端",
        "qr_code": "二维码",
        "hall_tablet": "政务大厅平板电脑",
        "hall_terminal": "政务大厅其他终端",
        "phone": "电话",
        "sms": "短信",
    },
    TimeLimitUnit: {"working_days": "工作日", "natural_days": "自然日"},
    Scope: {
        "none": "不通办",
        "nationwide": "全国通办",
        "cross_province": "跨省通办",
        "cross_city": "跨市通办",
        "cross_county": "跨县通办",
    },
}

# Other spellings seen in county and provincial catalogues (full-width brackets are normalised first).
ALIASES: dict[type[StrEnum], dict[str, str]] = {
    MatterType: {"公共服务": "public_service", "其他行政权力": "other_power", "其他权力": "other_power"},
    Level: {
        "国家": "national",
        "省": "province",
        "市": "city",
        "县": "county",
        "区县级": "county",
        "县（市、区）级": "county",
        "乡镇级": "township",
        "乡镇（街道）级": "township",
        "镇级": "township",
        "乡级": "township",
        "街道级": "township",
        "村级": "village",
        "社区级": "village",
        "村（居）级": "village",
    },
    BodyNature: {"法定": "statutory", "授权": "authorised", "受委托": "entrusted", "委托组织": "entrusted"},
    Audience: {
        "个人": "person",
        "公民": "person",
        "企业": "enterprise",
        "法人": "enterprise",
        "事业单位": "institution",
        "社会组织": "social_org",
        "机关": "authority",
        "非法人企业": "other_org",
        "个体工商户": "other_org",
    },
    HandlingForm: {
        "窗口": "window",
        "网上办理": "online_pc",
        "网上申请": "online_pc",
        "网办": "online_pc",
        "移动端": "online_mobile",
        "移动端办理": "online_mobile",
        "快递": "post",
        "邮寄": "post",
        "邮寄申请": "post",
    },
    ApplicationKind: {"即办": "immediate", "承诺": "promised"},
    TimeLimitUnit: {
        "工作日": "working_days",
        "个工作日": "working_days",
        "天": "natural_days",
        "日": "natural_days",
        "自然日": "natural_days",
        "个自然日": "natural_days",
    },
    Scope: {
        "无": "none",
        "否": "none",
        "全国": "nationwide",
        "跨省": "cross_province",
        "跨市": "cross_city",
        "跨县": "cross_county",
        "跨区县": "cross_county",
    },
}


def _normal(text: str) -> str:
    return "".join(text.split()).replace("(", "（").replace(")", "）")


def from_name_or_code(kind: type[E], text: str) -> E:
    """The member of KIND written as its national code ("01"), its standard name ("行政许可"), an
    alias, or its stored value; ValueError when it is none of them."""
    t = _normal(text)
    if not t:
        raise ValueError("empty")
    if kind in NATIONAL:
        for member, c in NATIONAL[kind].items():
            if c == t or (t.isdigit() and c.isdigit() and int(c) == int(t)):
                return kind(member)
    for value, name in STANDARD_NAMES.get(kind, {}).items():
        if _normal(name) == t:
            return kind(value)
    alias = ALIASES.get(kind, {}).get(t)
    if alias is not None:
        return kind(alias)
    try:
        return kind(t.lower())
    except ValueError:
        raise ValueError(f"{text!r} is not a member of {kind.__name__}") from None


def standard_name(value: StrEnum) -> str:
    return STANDARD_NAMES[type(value)][value.value]
