"""Settings: one frozen value read from the environment once per container.

A plain dataclass, not a pydantic model (the style guide's default): every function reads its settings
at init, and a function that validates no body (get-info) loads no pydantic at all (docs/PERFORMANCE.md).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from functools import cache

# The bounds of the numeric settings, by name: at least, more than (strictly), at most.
_AT_LEAST: dict[str, float] = {
    "expiry_warning_days": 0,
    "idempotency_expiry_seconds": 60,
    "credential_cache_seconds": 0,
    "history_retention_days": 1,
    "admin_cache_seconds": 0,
    "change_lock_seconds": 1,
    "change_attempts_limit": 1,
    "change_attempts_window_seconds": 1,
    "check_concurrency": 1,
    "check_dispatch_page_size": 1,
}
_ABOVE: dict[str, float] = {"atlassian_timeout_seconds": 0, "outbound_budget_seconds": 0}
_AT_MOST: dict[str, float] = {
    "atlassian_timeout_seconds": 5,
    "outbound_budget_seconds": 12,
    "admin_cache_seconds": 60,
    "check_concurrency": 100,
    "check_dispatch_page_size": 10000,
}


@dataclass(frozen=True)
class Settings:
    """The contract's settings plus the resource names template.yaml wires in."""

    forge_app_id: str
    forge_jwks_url: str = "https://forge.cdn.prod.atlassian-dev.net/.well-known/jwks.json"
    atlassian_api_url: str = "https://api.atlassian.com"
    atlassian_site_hosts: tuple[str, ...] = (".atlassian.net", ".jira.com")
    allow_insecure_loopback: bool = False
    expiry_warning_days: int = 14
    # Days before expiresOn at which a "Credential expiry reminder" is published (docs/API.md §4).
    reminder_days: tuple[int, ...] = (30, 14, 7, 1)
    table_name: str = "api-info"
    secret_prefix: str = "flexible-user-license/api-info/"
    kms_key_arn: str | None = None
    fingerprint_secret_arn: str | None = None
    idempotency_expiry_seconds: int = 86400
    credential_cache_seconds: int = 300
    history_retention_days: int = 400
    # One deadline for a whole exchange with Atlassian (the contract's outbound deadline: at most 5 s).
    atlassian_timeout_seconds: float = 5.0
    # What a request's outbound calls (Atlassian, Jira, the JWKS) may take together (contract 2a: 12 s).
    outbound_budget_seconds: float = 12.0
    admin_cache_seconds: int = 60
    change_lock_seconds: int = 60
    # Per-tenant limit on change attempts (PUT key/token): at most this many per fixed window.
    change_attempts_limit: int = 20
    change_attempts_window_seconds: int = 60
    # Credential checks (scheduled and on demand).
    check_queue_url: str | None = None
    event_bus_name: str = "default"
    check_concurrency: int = 25  # Atlassian requests in flight per worker
    check_dispatch_page_size: int = 1000  # tenants per index Query

    def __post_init__(self) -> None:
        if not self.forge_app_id:
            raise ValueError("forge_app_id: must be set")
        for name, least in _AT_LEAST.items():
            if getattr(self, name) < least:
                raise ValueError(f"{name}: must be at least {least:g}")
        for name, bound in _ABOVE.items():
            if not getattr(self, name) > bound:
                raise ValueError(f"{name}: must be more than {bound:g}")
        for name, most in _AT_MOST.items():
            if getattr(self, name) > most:
                raise ValueError(f"{name}: must be at most {most:g}")
        days = self.reminder_days
        if not days or any(not 0 <= day <= 365 for day in days):
            raise ValueError(
                "reminder_days: must be one or more whole numbers of days from 0 to 365, comma-separated"
            )
        object.__setattr__(self, "reminder_days", tuple(sorted(set(days), reverse=True)))

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        """Build settings from environment variables named as in the contract; a value that is not of its
        setting's kind, or out of its bounds, is a ValueError naming the setting."""
        values: dict[str, object] = {"forge_app_id": ""}  # required: refused by __post_init__ if unset
        for field in fields(cls):
            raw = env.get(field.name.upper())
            if raw is None or raw == "":
                continue
            values[field.name] = _parse(field.name, raw, field.default)
        return cls(**values)  # type: ignore[arg-type]


def _parse(name: str, raw: str, default: object) -> object:
    """One setting's value from its variable, read as its default's kind."""
    try:
        if name == "atlassian_site_hosts":
            return tuple(h.strip().lower() for h in raw.split(",") if h.strip())
        if name == "reminder_days":
            return tuple(int(part.strip()) for part in raw.split(","))
        if isinstance(default, bool):
            return raw.strip().lower() == "true"
        if isinstance(default, int):
            return int(raw)
        if isinstance(default, float):
            return float(raw)
    except ValueError:
        raise ValueError(f"{name}: {raw!r} is not a valid value") from None
    return raw


@cache
def get_settings() -> Settings:
    """The container's settings, read once."""
    return Settings.from_env(os.environ)
