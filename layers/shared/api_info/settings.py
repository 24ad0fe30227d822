"""Settings: one model read from the environment once per container."""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import cache

from pydantic import BaseModel, ConfigDict, Field, field_validator


class Settings(BaseModel):
    """The contract's settings plus the resource names template.yaml wires in."""

    model_config = ConfigDict(frozen=True)

    forge_app_id: str = Field(min_length=1)
    forge_jwks_url: str = "https://forge.cdn.prod.atlassian-dev.net/.well-known/jwks.json"
    atlassian_api_url: str = "https://api.atlassian.com"
    atlassian_site_hosts: tuple[str, ...] = (".atlassian.net", ".jira.com")
    allow_insecure_loopback: bool = False
    expiry_warning_days: int = Field(default=14, ge=0)
    # Days before expiresOn at which a "Credential expiry reminder" is published (docs/API.md §4).
    reminder_days: tuple[int, ...] = (30, 14, 7, 1)
    table_name: str = "api-info"
    secret_prefix: str = "flexible-user-license/api-info/"
    kms_key_arn: str | None = None
    fingerprint_secret_arn: str | None = None
    idempotency_expiry_seconds: int = Field(default=86400, ge=60)
    credential_cache_seconds: int = Field(default=300, ge=0)
    history_retention_days: int = Field(default=400, ge=1)
    # One deadline for a whole exchange with Atlassian (the contract's outbound deadline: at most 5 s).
    atlassian_timeout_seconds: float = Field(default=5.0, gt=0, le=5)
    # What a request's outbound calls (Atlassian, Jira, the JWKS) may take together (contract 2a: 12 s).
    outbound_budget_seconds: float = Field(default=12.0, gt=0, le=12)
    admin_cache_seconds: int = Field(default=60, ge=0, le=60)
    change_lock_seconds: int = Field(default=60, ge=1)
    # Per-tenant limit on change attempts (PUT key/token): at most this many per fixed window.
    change_attempts_limit: int = Field(default=20, ge=1)
    change_attempts_window_seconds: int = Field(default=60, ge=1)
    # Credential checks (scheduled and on demand).
    check_queue_url: str | None = None
    event_bus_name: str = "default"
    check_concurrency: int = Field(default=25, ge=1, le=100)  # Atlassian requests in flight per worker
    check_dispatch_page_size: int = Field(default=1000, ge=1, le=10000)  # tenants per index Query

    @field_validator("reminder_days")
    @classmethod
    def _days_before_expiry(cls, days: tuple[int, ...]) -> tuple[int, ...]:
        if not days or any(not 0 <= day <= 365 for day in days):
            raise ValueError("must be one or more whole numbers of days from 0 to 365, comma-separated")
        return tuple(sorted(set(days), reverse=True))

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        """Build settings from environment variables named as in the contract."""
        values: dict[str, object] = {}
        for name in cls.model_fields:
            raw = env.get(name.upper())
            if raw is None or raw == "":
                continue
            if name == "atlassian_site_hosts":
                values[name] = tuple(h.strip().lower() for h in raw.split(",") if h.strip())
            elif name == "reminder_days":
                values[name] = tuple(part.strip() for part in raw.split(","))
            elif name == "allow_insecure_loopback":
                values[name] = raw.strip().lower() == "true"
            else:
                values[name] = raw
        return cls.model_validate(values)


@cache
def get_settings() -> Settings:
    """The container's settings, read once."""
    return Settings.from_env(os.environ)
