"""Password hashing (Argon2id) and the password policy of 等保 2.0 level 3."""

from __future__ import annotations

from datetime import timedelta
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from countyos.core.clock import utcnow
from countyos.core.errors import ValidationFailed
from countyos.core.i18n import N_, LazyList, LazyText
from countyos.core.settings import get_settings
from countyos.org.models import User


@lru_cache(maxsize=2)
def _hasher(cheap: bool) -> PasswordHasher:
    # Tests use cheap parameters so the suite stays fast; every other mode uses the library defaults.
    return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1) if cheap else PasswordHasher()


def hasher() -> PasswordHasher:
    return _hasher(get_settings().env == "test")


def hash_password(password: str) -> str:
    return hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        return False
    try:
        return hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@lru_cache(maxsize=2)
def _dummy_hash(cheap: bool) -> str:
    return _hasher(cheap).hash("timing-equaliser")


def equalise_timing(password: str) -> None:
    """Spend the time of a real check when the user does not exist (no user-name probing by timing)."""
    cheap = get_settings().env == "test"
    verify_password(_dummy_hash(cheap), password)


def character_classes(password: str) -> int:
    return sum(
        (
            any(c.islower() for c in password),
            any(c.isupper() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        )
    )


def policy_errors(password: str, *, username: str | None = None) -> list[LazyText]:
    s = get_settings()
    errors = []
    if len(password) < s.password_min_length:
        errors.append(LazyText(N_("at least %(n)s characters"), n=s.password_min_length))
    if character_classes(password) < s.password_min_classes:
        errors.append(
            LazyText(N_("at least %(n)s of: lower case, upper case, digits, symbols"), n=s.password_min_classes)
        )
    if username and username.lower() in password.lower():
        errors.append(LazyText(N_("must not contain the user name")))
    return errors


def check_policy(password: str, *, username: str | None = None) -> None:
    errors = policy_errors(password, username=username)
    if errors:
        raise ValidationFailed(
            "The password does not meet the policy: %(rules)s",
            rules=LazyList(errors),
            errors=[{"field": "password", "message": e.message % e.params} for e in errors],
        )


def is_expired(user: User) -> bool:
    days = get_settings().password_max_age_days
    if days == 0 or user.password_changed_at is None:
        return user.password_changed_at is None
    return utcnow() - user.password_changed_at > timedelta(days=days)
