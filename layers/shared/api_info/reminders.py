"""Expiry reminders (docs/API.md §4): a "Credential expiry reminder" event when a check finds `daysLeft` at
or below a threshold of REMINDER_DAYS not yet announced for the credential's current value.

Each threshold is announced once per saved value (its secretVersionId), whatever the number of checks:
the announcement is claimed on the credential's item with a conditional update before it is published,
so concurrent checks and a retried worker batch publish it once; a publish that fails gives the claim
back, and the next check tries again. A threshold passed between two checks is announced once, at the
smallest threshold reached. An invalid credential is reminded of nothing: Atlassian refuses it already,
and the app was told so by a "Credential status changed" event; its thresholds stay unclaimed, so
once the same value is accepted again, what is then due is announced.
"""

from __future__ import annotations

from datetime import date

from api_info.credentials.ref import CredentialRef
from api_info.messages import CredentialExpiryReminder
from api_info.observability import logger
from api_info.records import CredentialRecord, Reminder
from api_info.services import CheckServices
from api_info.status import days_left

EXPIRY_REMINDER = "Credential expiry reminder"


def due(
    days: int | None, thresholds: tuple[int, ...], announced: Reminder | None, version_id: str
) -> int | None:
    """The threshold to announce now: the smallest one `days` has reached, unless that one (or a smaller
    one) was announced for this value already; None when nothing is due."""
    reached = [t for t in thresholds if days is not None and days <= t]
    if not reached:
        return None
    smallest = min(reached)
    if announced is not None and announced.version == version_id and announced.threshold <= smallest:
        return None
    return smallest


def remind(svc: CheckServices, ref: CredentialRef, record: CredentialRecord, today: date) -> int | None:
    """Publish the reminder due for the credential as this check left it, once; the threshold announced,
    or None. Raises when EventBridge fails (after giving the claim back), as a status change does."""
    if record.status == "invalid" or not record.expires_on:
        return None
    days = days_left(record.expires_on, today)
    version = record.secret_version_id
    threshold = due(days, svc.core.settings.reminder_days, record.reminder, version)
    if threshold is None or days is None:
        return None
    records = svc.core.records
    claimed, previous = records.claim_reminder(ref, version, threshold)
    if not claimed:
        return None  # another check announced it, or the credential was changed meanwhile
    detail = CredentialExpiryReminder(
        tenant_id=ref.tenant_id,
        credential=ref.kind.name,
        expires_on=record.expires_on,
        days_left=days,
        threshold=threshold,
    )
    try:
        svc.events.publish(EXPIRY_REMINDER, detail.model_dump(mode="json", by_alias=True))
    except Exception:
        try:  # so that the next check tries again
            records.give_back_reminder(ref, version, threshold, previous)
        except Exception:  # the publish's failure is the one to report; this reminder is then skipped
            logger.exception("Could not give back the claim of an unpublished expiry reminder")
        raise
    logger.info(
        "Expiry reminder published",
        extra={
            "tenant": ref.tenant_id,
            "credential": ref.kind.name,
            "daysLeft": days,
            "threshold": threshold,
        },
    )
    return threshold
