"""Shapes of the 盆景 index's API: the query, a row's figures, the flag, the active users list."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

MONTH = r"^\d{4}-\d{2}$"
MAX_ID = 2_147_483_647


class IndexQuery(BaseModel):
    """The period (months YYYY-MM, at most 24) and one project, or all."""

    since: str | None = Field(default=None, pattern=MONTH, max_length=7)
    until: str | None = Field(default=None, pattern=MONTH, max_length=7)
    project: int | None = Field(default=None, ge=1, le=MAX_ID)


class UsersQuery(BaseModel):
    """Who was active in a module: a week (YYYY-Www or its Monday), else a month, else the last 28 days."""

    module: str = Field(min_length=2, max_length=20, pattern=r"^[a-z]+$")
    week: str | None = Field(default=None, max_length=10, pattern=r"^\d{4}-(W\d{2}|\d{2}-\d{2})$")
    month: str | None = Field(default=None, pattern=MONTH, max_length=7)
    role: str | None = Field(default=None, max_length=40, pattern=r"^[a-z0-9_\-]+$")


class FiguresOut(BaseModel):
    spend_fen: int
    budget_fen: int
    active_weekly: float
    active_by_role: dict[str, float]
    actions: int
    views: int
    api_calls: int
    records: int
    data_produced: int
    data_shared: int


class MonthOut(FiguresOut):
    month: str


class TrippedOut(BaseModel):
    measure: str
    label: str
    value: float
    limit: float


class FlagOut(BaseModel):
    window: list[str]
    spend_fen: int
    weekly_active_users: float
    actions_per_user_week: float
    tripped: list[TrippedOut]


class RowOut(BaseModel):
    key: str
    label: str
    project_id: int | None = None
    modules: list[str] = []
    total: FiguresOut
    months: list[MonthOut]
    flag: FlagOut | None


class RulesOut(BaseModel):
    window_months: int
    min_spend_fen: int
    min_weekly_active_users: float
    min_actions_per_user_week: float


class IndexOut(BaseModel):
    months: list[str]
    since: date
    until: date
    weeks: int
    project_id: int | None
    rules: RulesOut
    modules: list[RowOut]
    projects: list[RowOut]


class ActiveUserOut(BaseModel):
    user_id: int
    display_name: str
    department: str
    roles: list[str]
    days: int
    last_day: date


class ActiveUsersOut(BaseModel):
    module: str
    since: date
    until: date
    count: int
    users: list[ActiveUserOut]
