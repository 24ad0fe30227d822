"""What a check found: one credential's result, a tenant's results, and the metrics of an invocation.

The results are plain values: the check (`checks`) makes them, the worker (`check_worker`) and the on-demand
check count them into metrics, and the worker retries a tenant by them.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field, replace

from api_info.credentials import CredentialKind
from api_info.observability import metrics
from api_info.records import CheckOutcome, Status
from api_info.store.history import PendingEvent

STATUS_METRIC = {
    "valid": "CredentialsValid",
    "invalid": "CredentialsInvalid",
    "expiring": "CredentialsExpiring",
    "expired": "CredentialsExpired",
}
# Atlassian could not be asked (timed out, unreachable, 429, 5xx): an outage, not a refused credential.
UNREACHABLE_CODES = frozenset({"atlassian_unavailable", "atlassian_error"})
UNREACHABLE_METRIC = "ScheduledChecksUnreachablePercent"


@dataclass(frozen=True)
class CredentialCheck:
    """What one check of one credential found."""

    kind: CredentialKind
    outcome: CheckOutcome
    code: str | None
    previous: Status  # the status the app was last told about
    status: Status  # the status shown after the check
    retry_after: int | None = None
    superseded: bool = False  # the credential was changed while it was checked: the change won
    history: PendingEvent | None = None  # the "checked" event, written by the caller in a batch
    reminded: int | None = None  # the threshold of the expiry reminder this check published
    # Its result could not be fully recorded or announced (DynamoDB or EventBridge failed after
    # Atlassian answered): the check as a whole failed, and is made again.
    faulted: bool = False

    @property
    def changed(self) -> bool:
        return not self.superseded and self.status != self.previous


@dataclass(frozen=True)
class TenantCheck:
    """The checks of one tenant's stored credentials."""

    tenant_id: str
    credentials: tuple[CredentialCheck, ...] = ()

    @property
    def faulted(self) -> bool:
        return any(c.faulted for c in self.credentials)

    @property
    def failed(self) -> bool:
        """True when the tenant is to be checked again: Atlassian could not answer for some credential,
        or a result could not be recorded or announced."""
        return self.faulted or any(c.outcome == "error" for c in self.credentials)

    @property
    def retry_after(self) -> int | None:
        waits = [c.retry_after for c in self.credentials if c.retry_after is not None]
        return max(waits) if waits else None

    @property
    def history(self) -> list[PendingEvent]:
        """The "checked" events; a faulted check's all say `failed` / `internal_error`, as its answer (500)
        does: the history records every check whatever its outcome (docs/API.md, the history)."""
        events = [c.history for c in self.credentials if c.history is not None]
        if not self.faulted:
            return events
        return [replace(e, event=replace(e.event, outcome="failed", code="internal_error")) for e in events]


class CheckIncomplete(Exception):
    """A tenant's check that failed (see TenantCheck.failed); its queue message is retried later."""

    def __init__(self, result: TenantCheck) -> None:
        super().__init__("A credential check could not be completed; it will be retried")
        self.result = result


@dataclass
class CheckTally:
    """Counts of one invocation's checks, emitted as one value per metric (thread-safe)."""

    counts: Counter[str] = field(default_factory=Counter)
    # Scheduled checks on their first attempt, and those of them Atlassian could not answer. Retries are
    # left out: they are earlier failures coming back, and a few tenants whose own site is down would
    # otherwise look like an outage of Atlassian in every retry batch.
    scheduled: int = 0
    unreachable: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, result: TenantCheck, *, scheduled: bool = False) -> None:
        with self._lock:
            for check in result.credentials:
                self.counts["CredentialsChecked"] += 1
                self.counts[STATUS_METRIC.get(check.status, "CredentialsValid")] += 1
                if check.outcome == "error":
                    self.counts["CheckErrors"] += 1
                if check.changed and not check.faulted:  # else the next check announces it
                    self.counts["CredentialStatusChanged"] += 1
                if check.reminded is not None:
                    self.counts["ExpiryRemindersSent"] += 1
                if scheduled:
                    self.scheduled += 1
                    if check.outcome == "error" and check.code in UNREACHABLE_CODES:
                        self.unreachable += 1

    def emit(self) -> None:
        for name, value in sorted(self.counts.items()):
            metrics.add_metric(name=name, unit="Count", value=value)
        if self.scheduled:
            # The share of this run's checks that could not reach Atlassian (its alarm: template.yaml).
            share = 100 * self.unreachable / self.scheduled
            metrics.add_metric(name=UNREACHABLE_METRIC, unit="Percent", value=share)
