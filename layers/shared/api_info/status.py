"""The status rules: the status shown for a record, how a credential is shown (masked), when a
failed check is retried. No AWS and no HTTP: pure functions of a record, the settings and the day.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast, get_args

from api_info.records import CredentialRecord, Status
from api_info.settings import Settings

RETRY_BASE_SECONDS = 60  # first retry of a check Atlassian could not answer; doubles each attempt
RETRY_MAX_SECONDS = 900
MAX_VISIBILITY_SECONDS = 43200  # SQS's limit on how long a message can be hidden
STATUSES: tuple[str, ...] = get_args(Status)
MASK = "•" * 8
MASK_MIN_LENGTH = 20


def mask(secret: str) -> str:
    """Eight bullets and the last four characters: all that is ever shown of a secret.

    A value shorter than MASK_MIN_LENGTH shows no character at all: four characters of a short value are
    too large a part of it (of a 4-character one, all of it).
    """
    return MASK + secret[-4:] if len(secret) >= MASK_MIN_LENGTH else MASK


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def status_of(record: CredentialRecord | None, settings: Settings, today: date | None = None) -> Status:
    """The status shown for a record: stored validity, then expiry by `expiresOn`."""
    if record is None:
        return "not_configured"
    if record.status == "invalid":
        return "invalid"
    if record.expires_on:
        today = today or datetime.now(UTC).date()
        expires = date.fromisoformat(record.expires_on)
        if expires < today:
            return "expired"
        if expires <= today + timedelta(days=settings.expiry_warning_days):
            return "expiring"
    return "valid"


def days_left(expires_on: str | None, today: date | None = None) -> int | None:
    """Whole days from today (UTC) to `expiresOn`, negative once it has passed; None without a date."""
    if not expires_on:
        return None
    return (date.fromisoformat(expires_on) - (today or datetime.now(UTC).date())).days


def common_info(record: CredentialRecord | None, settings: Settings) -> dict[str, Any]:
    """What the page shows of every credential, whatever its kind, as JSON (CredentialInfo's fields)."""
    if record is None:
        return {
            "status": "not_configured",
            "maskedValue": None,
            "expiresOn": None,
            "expiresOnSource": None,
            "daysLeft": None,
            "lastUpdatedAt": None,
            "createdBy": None,
            "lastCheck": None,
        }
    return {
        "status": status_of(record, settings),
        "maskedValue": record.masked_value,
        "expiresOn": record.expires_on,
        "expiresOnSource": record.expires_on_source,
        "daysLeft": days_left(record.expires_on),
        "lastUpdatedAt": record.last_updated_at,
        "createdBy": record.created_by.public(),
        "lastCheck": record.last_check.shown() if record.last_check else None,
    }


def previous_status(record: CredentialRecord, notified: str | None, settings: Settings) -> Status:
    """The status the app was last told about; never told, the status it had when it was saved."""
    if notified in STATUSES:
        return cast(Status, notified)
    return status_of(record, settings, date.fromisoformat(record.last_updated_at[:10]))


def retry_delay(attempt: int, retry_after: int | None) -> int:
    """Seconds before a failed check is retried: doubling backoff with jitter, never before Retry-After."""
    backoff = min(RETRY_MAX_SECONDS, RETRY_BASE_SECONDS << min(max(0, attempt - 1), 10))
    jittered = min(RETRY_MAX_SECONDS, backoff + random.randint(0, backoff // 10))  # noqa: S311 - not security
    return max(jittered, min(retry_after or 0, MAX_VISIBILITY_SECONDS))
