"""The lifecycle of a booking (预约): states, actions, who takes them, and the ONE transition table::

    BOOKED 已预约 ─取消 (the resident before the deadline; staff with a reason)→ CANCELLED 已取消
                  ─到场核验 (staff of the bookable's department)→ CHECKED_IN 已到场
                  ─记为爽约 (staff, or the scheduler 30 minutes after the slot ended)→ NO_SHOW 爽约

Every other state is final. Whether the resident is still in time to cancel (``cancel_minutes``) is a
booking rule (``service/booking_rules.py``), not a state.
"""

from __future__ import annotations

from enum import StrEnum

from countyos.core import errors
from countyos.core.i18n import N_
from countyos.portal.models import BookingState


class Action(StrEnum):
    CANCEL = "cancel"  # 取消
    CHECK_IN = "check_in"  # 到场核验
    NO_SHOW = "no_show"  # 记为爽约


class Role(StrEnum):
    RESIDENT = "resident"  # the person who booked
    STAFF = "staff"  # portal.booking.manage in the bookable's department
    SCHEDULE = "schedule"  # the no-show sweep (jobs.mark_no_shows)


TRANSITIONS: dict[tuple[BookingState, Action], tuple[frozenset[Role], BookingState]] = {
    (BookingState.BOOKED, Action.CANCEL): (frozenset({Role.RESIDENT, Role.STAFF}), BookingState.CANCELLED),
    (BookingState.BOOKED, Action.CHECK_IN): (frozenset({Role.STAFF}), BookingState.CHECKED_IN),
    (BookingState.BOOKED, Action.NO_SHOW): (frozenset({Role.STAFF, Role.SCHEDULE}), BookingState.NO_SHOW),
}

OPEN = frozenset({BookingState.BOOKED})  # holds a place and counts against the per-person limit
TAKES_PLACE = frozenset({BookingState.BOOKED, BookingState.CHECKED_IN, BookingState.NO_SHOW})

STATE_NAMES = {
    BookingState.BOOKED: N_("Booked"),
    BookingState.CANCELLED: N_("Cancelled"),
    BookingState.CHECKED_IN: N_("Checked in"),
    BookingState.NO_SHOW: N_("Did not come"),
}
ACTION_NAMES = {
    Action.CANCEL: N_("Cancel"),
    Action.CHECK_IN: N_("Check in"),
    Action.NO_SHOW: N_("Mark as not come"),
}


def actions_for(state: BookingState, roles: frozenset[Role]) -> list[Action]:
    return [a for (s, a), (allowed, _) in TRANSITIONS.items() if s == state and allowed & roles]


def next_state(state: BookingState, action: Action, role: Role) -> BookingState:
    """The state after ACTION taken in ROLE, or a 409/403 naming what is possible now."""
    rule = TRANSITIONS.get((state, action))
    allowed_now = [a.value for a in actions_for(state, frozenset({role}))]
    if rule is None:
        raise errors.TransitionNotAllowed(
            N_("%(action)s is not possible while the booking is %(state)s."),
            allowed=allowed_now,
            current_state=state.value,
            action=ACTION_NAMES[action],
            state=STATE_NAMES[state],
        )
    roles, target = rule
    if role not in roles:
        raise errors.ActionForbidden(
            N_("%(action)s is for the staff of the place booked."),
            allowed=allowed_now,
            current_state=state.value,
            action=ACTION_NAMES[action],
        )
    return target
