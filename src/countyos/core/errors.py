"""Errors as types: each carries an HTTP status, a stable code and a message a person can act on.

The API renders them as ``application/problem+json`` (RFC 9457); pages show the message. Messages
are English message ids translated in the caller's locale when rendered.
"""

from __future__ import annotations

from typing import Any, ClassVar

from countyos.core.i18n import N_, gettext


class CountyError(Exception):
    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"
    title: ClassVar[str] = N_("Bad request")
    # the first argument is a message id (scripts/i18n.py extracts it); a type taking something else
    # first (field names, a record) says False
    takes_message_id: ClassVar[bool] = True

    def __init__(self, message: str | None = None, /, **params: Any) -> None:
        self.message_id = message or self.title
        self.params = params
        super().__init__(self.message_id % params if params else self.message_id)

    @property
    def message(self) -> str:
        """The message in the current locale."""
        return gettext(self.message_id, **self.params)

    def extra(self) -> dict[str, Any]:
        return {}

    def problem(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": f"https://countyos.org/problems/{self.code}",
            "title": gettext(self.title),
            "status": self.status,
            "code": self.code,
            "detail": self.message,
        }
        if instance:
            body["instance"] = instance
        body.update(self.extra())
        return body


class ValidationFailed(CountyError):
    status = 422
    code = "validation_failed"
    title = N_("The input is not valid")

    def __init__(
        self, message: str | None = None, /, *, errors: list[dict[str, Any]] | None = None, **params: Any
    ) -> None:
        super().__init__(message, **params)
        self.errors = errors or []

    def extra(self) -> dict[str, Any]:
        return {"errors": self.errors} if self.errors else {}

    @classmethod
    def on_field(cls, field: str, message: str, **params: Any) -> ValidationFailed:
        """The input refused for one field: the message (a message id) beside that field on a page, and in
        the problem's ``errors`` for the API."""
        return cls(message, errors=[{"field": field, "message": message}], **params)


class NotAuthenticated(CountyError):
    status = 401
    code = "not_authenticated"
    title = N_("Please log in first")


class PermissionDenied(CountyError):
    status = 403
    code = "permission_denied"
    title = N_("You do not have permission to do this")


class NotFound(CountyError):
    status = 404
    code = "not_found"
    title = N_("Not found")


class Conflict(CountyError):
    status = 409
    code = "conflict"
    title = N_("The request conflicts with the current state")


class ListsAllowedActions(CountyError):
    """A refusal of an action on a record with a lifecycle: the answer carries the record's state and the
    actions the caller may take instead; the message's parameters (action and state labels) are
    translated too. Mixed in before ``Conflict`` (not in the table) or ``PermissionDenied`` (not for you)."""

    def __init__(self, message: str | None = None, /, *, allowed: list[str], current_state: str, **params: Any) -> None:
        super().__init__(message, **params)
        self.allowed, self.state = allowed, current_state

    @property
    def message(self) -> str:
        return gettext(self.message_id, **{k: gettext(str(v)) for k, v in self.params.items()})

    def extra(self) -> dict[str, Any]:
        return {"state": self.state, "allowed_actions": self.allowed}


class TransitionNotAllowed(ListsAllowedActions, Conflict):
    """409: the action is not in the record's transition table for its state (and the caller's role)."""

    code = "transition_not_allowed"
    title = N_("This action is not allowed in the current state")


class ActionForbidden(ListsAllowedActions, PermissionDenied):
    """403: the state allows the action, but none of the caller's roles on the record may take it."""


class MethodNotAllowed(CountyError):
    status = 405
    code = "method_not_allowed"
    title = N_("This method is not allowed here")


class PayloadTooLarge(CountyError):
    status = 413
    code = "payload_too_large"
    title = N_("The request is too large")


class RateLimited(CountyError):
    status = 429
    code = "rate_limited"
    title = N_("Too many requests; please wait and try again")

    def __init__(self, message: str | None = None, /, *, retry_after: int = 60, **params: Any) -> None:
        super().__init__(message, **params)
        self.retry_after = retry_after


class ServiceUnavailable(CountyError):
    status = 503
    code = "service_unavailable"
    title = N_("The service is temporarily unavailable")


class ConfigError(CountyError):
    status = 500
    code = "config_error"
    title = N_("The configuration is not valid")
