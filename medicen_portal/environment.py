"""Strict readers for environment variables.

Every setting that comes from the environment goes through one of these, so a
malformed value stops the process at start with a message that names the
variable, instead of surfacing later as a confusing runtime error.
"""

from __future__ import annotations

import os
from decimal import Decimal, InvalidOperation
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}

DATABASE_SCHEMES = {"postgres", "postgresql", "pgsql", "sqlite"}
REDIS_SCHEMES = {"redis", "rediss"}
EMAIL_SCHEMES = {"smtp", "smtps", "smtp+tls", "smtp+ssl", "consolemail", "filemail", "memorymail", "dummymail"}


def _raw(name: str) -> str | None:
    value = os.environ.get(name)
    return None if value is None else value.strip()


def env_str(name: str, default: str = "") -> str:
    value = _raw(name)
    return default if value is None or value == "" else value


def env_bool(name: str, default: bool) -> bool:
    value = _raw(name)
    if value is None:
        return default
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean: use one of 1/0, true/false, yes/no, on/off.")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    value = _raw(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not an integer.") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name}={number} must be at least {minimum}.")
    return number


def env_decimal(name: str, default: str, *, minimum: str | None = None, maximum: str | None = None) -> Decimal:
    value = _raw(name)
    text = default if value is None or value == "" else value
    try:
        number = Decimal(text.replace(",", "."))
    except InvalidOperation:
        raise ImproperlyConfigured(f"{name}={text!r} is not a decimal number.") from None
    if not number.is_finite() or (minimum is not None and number < Decimal(minimum)):
        raise ImproperlyConfigured(f"{name}={text} must be at least {minimum}.")
    if maximum is not None and number > Decimal(maximum):
        raise ImproperlyConfigured(f"{name}={text} must be at most {maximum}.")
    return number


def env_list(name: str, default: list[str]) -> list[str]:
    value = _raw(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def _check_url(name: str, value: str, schemes: set[str]) -> None:
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} is malformed: {exc}.") from None
    if parts.scheme not in schemes:
        expected = ", ".join(sorted(f"{s}://" for s in schemes))
        raise ImproperlyConfigured(f"{name}={value!r} has an unsupported scheme; expected one of {expected}.")


def env_database(name: str, default: str) -> dict:
    """Parse a database URL (postgres:// or sqlite://) into a Django DATABASES entry."""
    value = env_str(name, default)
    _check_url(name, value, DATABASE_SCHEMES)
    config = environ.Env.db_url_config(value)
    if not config.get("NAME"):
        raise ImproperlyConfigured(f"{name}={value!r} names no database.")
    return config


def env_redis_url(name: str) -> str:
    """Return a validated redis:// URL, or an empty string when the variable is unset."""
    value = env_str(name)
    if value:
        _check_url(name, value, REDIS_SCHEMES)
    return value


def env_email(name: str) -> dict:
    """Parse an e-mail URL (smtp://user:password@host:port) into Django EMAIL_* settings."""
    value = env_str(name)
    if not value:
        return {}
    _check_url(name, value, EMAIL_SCHEMES)
    return environ.Env.email_url_config(value)
