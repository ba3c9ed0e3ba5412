"""The catalogue lifecycle of a data resource (目录编制 → 审核 → 发布 → 撤销): states, actions, roles and the
ONE transition table (state × action × role → state)::

    DRAFT 编制中 ─提交审核→ IN_REVIEW 发布待审核 ─审核通过→ PUBLISHED 已发布
                                          └─退回→ DRAFT (with the reviewer's reason: 发布已驳回)
    PUBLISHED ─申请撤销→ REVOKE_REVIEW 撤销待审核 ─审核通过→ REVOKED 已撤销
                                          └─退回→ PUBLISHED (撤销已驳回)
    REVOKED ─重新编制→ DRAFT

Only the provider department's staff edit, submit and ask for revocation; only the data administrator
(大数据局) reviews. A resource is in the sharing catalogue and (when its 开放类型 allows) on the open-data
portal only while PUBLISHED.
"""

from __future__ import annotations

from enum import StrEnum

from countyos.core import errors
from countyos.core.i18n import N_


class State(StrEnum):
    DRAFT = "draft"  # 编制中 (also after 发布已驳回)
    IN_REVIEW = "in_review"  # 发布待审核
    PUBLISHED = "published"  # 已发布
    REVOKE_REVIEW = "revoke_review"  # 撤销待审核
    REVOKED = "revoked"  # 已撤销


class Action(StrEnum):
    SUBMIT = "submit"  # 提交审核
    APPROVE = "approve"  # 审核通过 (publish, or revoke when asked)
    REJECT = "reject"  # 退回 (a reason is required)
    REQUEST_REVOKE = "request_revoke"  # 申请撤销 (a reason is required)
    REDRAFT = "redraft"  # 重新编制


class Role(StrEnum):
    PROVIDER = "provider"  # the provider department's data staff
    ADMIN = "admin"  # 数据管理员 (大数据局)


TRANSITIONS: dict[tuple[State, Action], tuple[frozenset[Role], State]] = {
    (State.DRAFT, Action.SUBMIT): (frozenset({Role.PROVIDER, Role.ADMIN}), State.IN_REVIEW),
    (State.IN_REVIEW, Action.APPROVE): (frozenset({Role.ADMIN}), State.PUBLISHED),
    (State.IN_REVIEW, Action.REJECT): (frozenset({Role.ADMIN}), State.DRAFT),
    (State.PUBLISHED, Action.REQUEST_REVOKE): (frozenset({Role.PROVIDER, Role.ADMIN}), State.REVOKE_REVIEW),
    (State.REVOKE_REVIEW, Action.APPROVE): (frozenset({Role.ADMIN}), State.REVOKED),
    (State.REVOKE_REVIEW, Action.REJECT): (frozenset({Role.ADMIN}), State.PUBLISHED),
    (State.REVOKED, Action.REDRAFT): (frozenset({Role.PROVIDER, Role.ADMIN}), State.DRAFT),
}

NEEDS_REASON = frozenset({Action.REJECT, Action.REQUEST_REVOKE})
EDITABLE = frozenset({State.DRAFT})

STATE_NAMES = {
    State.DRAFT: N_("Being drafted"),
    State.IN_REVIEW: N_("Awaiting review for publication"),
    State.PUBLISHED: N_("Published"),
    State.REVOKE_REVIEW: N_("Awaiting review for revocation"),
    State.REVOKED: N_("Revoked"),
}
ACTION_NAMES = {
    Action.SUBMIT: N_("Submit for review"),
    Action.APPROVE: N_("Approve"),
    Action.REJECT: N_("Send back"),
    Action.REQUEST_REVOKE: N_("Ask to revoke"),
    Action.REDRAFT: N_("Draft again"),
}


def next_state(state: State, action: Action, roles: frozenset[Role]) -> State:
    """The state after ACTION by someone holding ROLES, or an error naming what they may do instead."""
    rule = TRANSITIONS.get((state, action))
    allowed_now = [a.value for a in actions_for(state, roles)]
    if rule is None:
        raise errors.TransitionNotAllowed(
            N_("%(action)s is not possible while the resource is %(state)s."),
            allowed=allowed_now,
            current_state=state.value,
            action=ACTION_NAMES[action],
            state=STATE_NAMES[state],
        )
    allowed, target = rule
    if not allowed & roles:
        raise errors.ActionForbidden(
            N_("%(action)s is for the data administrator."),
            allowed=allowed_now,
            current_state=state.value,
            action=ACTION_NAMES[action],
        )
    return target


def actions_for(state: State, roles: frozenset[Role]) -> list[Action]:
    return [a for (s, a), (allowed, _) in TRANSITIONS.items() if s == state and allowed & roles]
