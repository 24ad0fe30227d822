"""Credential checks: the scheduled fan-out to the queue, the check of one tenant, and the on-demand check.

Every stored credential is validated again with the same Atlassian calls a change makes. A refusal makes
it `invalid`, an acceptance `valid`; a check Atlassian could not answer records `lastCheck.outcome: error`,
leaves the stored status alone and is retried later. When the status the app would see differs from the
one it was last told about, a "Credential status changed" event goes on EventBridge.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import cast, get_args

from pydantic import SecretStr

from api_info.auth import Caller
from api_info.errors import ApiError, AtlassianError, AtlassianUnavailable, CredentialRejected
from api_info.models import (
    Actor,
    CheckOutcome,
    CheckRequest,
    CredentialName,
    CredentialRecord,
    CredentialStatusChanged,
    HistoryEvent,
    InfoResponse,
    LastCheck,
    Status,
    StoredStatus,
    Tenant,
    TenantInfo,
)
from api_info.observability import logger, metrics
from api_info.service import now_iso, show_info, status_of
from api_info.settings import Settings
from api_info.store.history import PendingEvent
from api_info.store.tenants import TenantState
from api_info.wiring import CheckServices, create_clients

STATUS_CHANGED = "Credential status changed"
ON_DEMAND_INTERVAL_SECONDS = 30  # the contract: at most one on-demand check per tenant per 30 s
RETRY_BASE_SECONDS = 60  # first retry of a check Atlassian could not answer; doubles each attempt
RETRY_MAX_SECONDS = 900
MAX_VISIBILITY_SECONDS = 43200  # SQS's limit on how long a message can be hidden
SCHEDULER = Actor(type="scheduler")
STATUSES: tuple[str, ...] = get_args(Status)
HISTORY_OUTCOME = {"ok": "succeeded", "rejected": "rejected", "error": "failed"}
STATUS_METRIC = {
    "valid": "CredentialsValid",
    "invalid": "CredentialsInvalid",
    "expiring": "CredentialsExpiring",
    "expired": "CredentialsExpired",
}
# Atlassian could not be asked (timed out, unreachable, 429, 5xx): an outage, not a refused credential.
UNREACHABLE_CODES = frozenset({"atlassian_unavailable", "atlassian_error"})
UNREACHABLE_METRIC = "ScheduledChecksUnreachablePercent"


def utc_today() -> date:
    """Today in UTC, the day statuses are judged on (a seam for tests that move the clock)."""
    return datetime.now(UTC).date()


# --- results ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CredentialCheck:
    """What one check of one credential found."""

    credential: CredentialName
    outcome: CheckOutcome
    code: str | None
    previous: Status  # the status the app was last told about
    status: Status  # the status shown after the check
    retry_after: int | None = None
    superseded: bool = False  # the credential was changed while it was checked: the change won
    history: PendingEvent | None = None  # the "checked" event, written by the caller in a batch

    @property
    def changed(self) -> bool:
        return not self.superseded and self.status != self.previous


@dataclass(frozen=True)
class TenantCheck:
    """The checks of one tenant's stored credentials."""

    tenant_id: str
    credentials: tuple[CredentialCheck, ...] = ()

    @property
    def failed(self) -> bool:
        """True when Atlassian could not answer for some credential: the tenant is to be checked again."""
        return any(c.outcome == "error" for c in self.credentials)

    @property
    def retry_after(self) -> int | None:
        waits = [c.retry_after for c in self.credentials if c.retry_after is not None]
        return max(waits) if waits else None

    @property
    def history(self) -> list[PendingEvent]:
        return [c.history for c in self.credentials if c.history is not None]


class CheckIncomplete(Exception):
    """A tenant's check Atlassian could not (fully) answer; its queue message is retried later."""

    def __init__(self, result: TenantCheck) -> None:
        super().__init__("Atlassian could not answer a credential check; it will be retried")
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
                if check.changed:
                    self.counts["CredentialStatusChanged"] += 1
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


def retry_delay(attempt: int, retry_after: int | None) -> int:
    """Seconds before a failed check is retried: doubling backoff with jitter, never before Retry-After."""
    backoff = min(RETRY_MAX_SECONDS, RETRY_BASE_SECONDS << min(max(0, attempt - 1), 10))
    jittered = min(RETRY_MAX_SECONDS, backoff + random.randint(0, backoff // 10))  # noqa: S311 - not security
    return max(jittered, min(retry_after or 0, MAX_VISIBILITY_SECONDS))


# --- the check ----------------------------------------------------------------------------------


def check_tenant(
    svc: CheckServices,
    tenant_id: str,
    state: TenantState,
    actor: Actor,
    *,
    secrets: Mapping[tuple[str, CredentialName], dict[str, SecretStr]] | None = None,
    parallel: bool = False,
    today: date | None = None,
) -> TenantCheck:
    """Check each stored credential of a tenant (both at once on the container's pool when `parallel`,
    never from inside that pool) and record the results.

    `secrets` may hold values read ahead in a batch; the rest are read one by one. The results carry
    their history events for the caller to write.
    """
    tenant = state.tenant
    if tenant is None:
        return TenantCheck(tenant_id)  # uninstalled meanwhile: nothing to check
    day = today or utc_today()
    stored = sorted(state.credentials.items())

    def one(item: tuple[str, CredentialRecord]) -> CredentialCheck:
        credential = cast(CredentialName, item[0])
        secret = (secrets or {}).get((tenant_id, credential))
        return check_credential(svc, tenant, credential, item[1], state.notified, actor, day, secret)

    if parallel and len(stored) > 1:
        # The pool's threads outlive the invocation, and with them their Atlassian connections.
        return TenantCheck(tenant_id, tuple(svc.pool.map(one, stored)))
    return TenantCheck(tenant_id, tuple(map(one, stored)))


def check_credential(
    svc: CheckServices,
    tenant: Tenant,
    credential: CredentialName,
    record: CredentialRecord,
    notified: dict[str, str],
    actor: Actor,
    today: date,
    secret: dict[str, SecretStr] | None = None,
) -> CredentialCheck:
    """Validate one stored credential with Atlassian, record the result and announce a status change."""
    core, settings, tenant_id = svc.core, svc.core.settings, tenant.installation_id
    outcome: CheckOutcome = "error"
    code: str | None = None
    stored: StoredStatus = record.status  # what an error leaves in place
    retry_after: int | None = None
    try:
        if secret is None:
            secret = core.secrets.read(tenant_id, credential, record.secret_version_id)
        _validate(svc, tenant, credential, secret)
        outcome, stored = "ok", "valid"
    except CredentialRejected as exc:
        outcome, code, stored = "rejected", exc.code, "invalid"
    except (AtlassianError, AtlassianUnavailable) as exc:
        code, retry_after = exc.code, exc.retry_after
    except Exception as exc:
        # Anything else (a stored site URL refused, an AWS failure) is an error too: status kept, retried.
        logger.exception("A credential check failed", extra={"tenant": tenant_id, "credential": credential})
        code = exc.code if isinstance(exc, ApiError) else "internal_error"

    now = now_iso()
    last_check = LastCheck(at=now, outcome=outcome, detail=code)
    checked = record.model_copy(update={"status": stored, "last_check": last_check})
    status = status_of(checked, settings, today)
    previous = previous_status(record, notified.get(credential), settings)
    written = core.tenants.record_check(
        tenant_id,
        credential,
        record.secret_version_id,
        last_check=last_check,
        status=None if outcome == "error" or stored == record.status else stored,
    )
    history = PendingEvent(
        tenant_id,
        HistoryEvent.model_validate(
            {
                "at": now,
                "actor": actor,
                "credential": credential,
                "action": "checked",
                "outcome": HISTORY_OUTCOME[outcome],
                "code": code,
                "maskedValue": record.masked_value,
            }
        ),
    )
    result = CredentialCheck(
        credential=credential,
        outcome=outcome,
        code=code,
        previous=previous,
        status=status,
        retry_after=retry_after,
        superseded=not written,
        history=history,
    )
    if result.changed:
        # Publish first, then remember: if EventBridge fails, the next check announces it again.
        svc.events.publish(
            STATUS_CHANGED,
            CredentialStatusChanged(
                tenant=TenantInfo(
                    installation_id=tenant_id, cloud_id=tenant.cloud_id, site_url=tenant.site_url
                ),
                credential=credential,
                previous_status=previous,
                status=status,
                expires_on=record.expires_on,
                masked_value=record.masked_value,
                last_check=last_check,
            ).model_dump(mode="json", by_alias=True),
        )
        core.tenants.mark_notified(tenant_id, credential, status)
        logger.info(
            "Credential status changed",
            extra={"tenant": tenant_id, "credential": credential, "from": previous, "to": status},
        )
    return result


def _validate(
    svc: CheckServices, tenant: Tenant, credential: CredentialName, secret: dict[str, SecretStr]
) -> None:
    atlassian = svc.core.atlassian
    if credential == "apiKey":
        atlassian.validate_key(secret["apiKey"].get_secret_value())
        return
    if not tenant.site_url or not tenant.cloud_id:
        raise ApiError("The Jira site of this installation is not known.")
    atlassian.validate_token(
        site_url=tenant.site_url,
        cloud_id=tenant.cloud_id,
        email=secret["email"].get_secret_value(),
        api_token=secret["apiToken"].get_secret_value(),
    )


def previous_status(record: CredentialRecord, notified: str | None, settings: Settings) -> Status:
    """The status the app was last told about; never told, the status it had when it was saved."""
    if notified in STATUSES:
        return cast(Status, notified)
    return status_of(record, settings, date.fromisoformat(record.last_updated_at[:10]))


# --- the three ways in --------------------------------------------------------------------------


def dispatch_checks(svc: CheckServices, requested_at: str | None = None) -> int:
    """Send every tenant to the check queue, one message per tenant; returns how many were sent."""
    at = requested_at or now_iso()
    sent = 0
    for page in svc.core.tenants.id_pages(svc.core.settings.check_dispatch_page_size):
        bodies = [
            CheckRequest(tenant_id=tenant_id, requested_at=at).model_dump_json(by_alias=True)
            for tenant_id in page
        ]
        sent += svc.queue.send_all(bodies)
    metrics.add_metric(name="TenantsDispatched", unit="Count", value=sent)
    logger.info("Checks dispatched", extra={"tenants": sent, "requestedAt": at})
    return sent


Loaded = tuple[dict[str, TenantState], dict[tuple[str, CredentialName], dict[str, SecretStr]]]
LOAD_CHUNK = 33  # tenants read together: their three items fill one BatchGetItem (100 keys at most)
HISTORY_CHUNK = 25  # history events written together: one BatchWriteItem (25 items at most)


class WorkerBatch:
    """One worker invocation: the batch's tenants and secrets read in a few batched calls, a chunk at a
    time on the loader thread, so the first checks start while the rest is read; each tenant checked
    on the shared pool; the history written on the loader thread too, a full BatchWriteItem at a time
    while the checks go on, the rest at the end."""

    def __init__(self, svc: CheckServices, bodies: Sequence[str]) -> None:
        self.svc = svc
        self.tally = CheckTally()
        self.history: list[PendingEvent] = []  # not yet sent to be written
        self.writes: list[Future[None]] = []
        self._history_lock = threading.Lock()
        ids = []
        for body in bodies:
            try:
                ids.append(CheckRequest.model_validate_json(body).tenant_id)
            except ValueError:
                continue  # its record fails on its own in `check`
        create_clients(svc, queue=True)
        self.loaded: dict[str, Future[Loaded]] = {}
        for start in range(0, len(ids), LOAD_CHUNK):
            chunk = ids[start : start + LOAD_CHUNK]
            future = svc.loader.submit(self._load, chunk)
            self.loaded.update(dict.fromkeys(chunk, future))

    def _load(self, tenant_ids: list[str]) -> Loaded:
        core = self.svc.core
        states = core.tenants.load_for_checks(tenant_ids)
        wanted = {
            (tenant_id, cast(CredentialName, name)): record.secret_version_id
            for tenant_id, state in states.items()
            for name, record in state.credentials.items()
        }
        return states, core.secrets.read_many(wanted) if wanted else {}

    def check(self, body: str, receipt_handle: str, attempt: int) -> TenantCheck:
        """Check one queued tenant; on failure delay the message's retry and raise."""
        try:
            tenant_id = CheckRequest.model_validate_json(body).tenant_id
            states, secrets = self.loaded[tenant_id].result()  # a failed read fails its tenants' checks
            state = states.get(tenant_id, TenantState())
            result = check_tenant(self.svc, tenant_id, state, SCHEDULER, secrets=secrets)
        except Exception:
            logger.exception("Could not check a queued tenant", extra={"attempt": attempt})
            self._defer(receipt_handle, retry_delay(attempt, None))
            raise
        self.tally.add(result, scheduled=attempt == 1)
        self._add_history(result.history)
        if result.failed:
            delay = retry_delay(attempt, result.retry_after)
            logger.info("Check to be retried", extra={"tenant": tenant_id, "attempt": attempt, "in": delay})
            self._defer(receipt_handle, delay)
            raise CheckIncomplete(result)
        return result

    def _add_history(self, events: list[PendingEvent]) -> None:
        with self._history_lock:
            self.history.extend(events)
            if len(self.history) < HISTORY_CHUNK:
                return
            full, self.history = self.history[:HISTORY_CHUNK], self.history[HISTORY_CHUNK:]
            self.writes.append(self.svc.loader.submit(self.svc.core.history.add_events, full))

    def finish(self) -> None:
        """Write the rest of the batch's history and emit its metrics; raises if some history was not
        written (the whole batch is then retried)."""
        self.tally.emit()
        for write in self.writes:
            write.result()
        if self.history:
            self.svc.core.history.add_events(self.history)

    def _defer(self, receipt_handle: str, seconds: int) -> None:
        try:
            self.svc.queue.defer(receipt_handle, seconds)
        except Exception:  # the queue's own visibility timeout still brings the message back
            logger.exception("Could not delay the retry of a check message")


def check_now(svc: CheckServices, caller: Caller) -> InfoResponse:
    """The on-demand check of the caller's tenant (at most once per 30 s), answered like GET /api-info."""
    core, tenant_id = svc.core, caller.tenant.installation_id
    create_clients(svc, queue=False)
    core.tenants.record(caller.tenant, now_iso())
    core.tenants.reserve_check(tenant_id, ON_DEMAND_INTERVAL_SECONDS)
    result = check_tenant(svc, tenant_id, core.tenants.load(tenant_id), caller.actor, parallel=True)
    core.history.add_events(result.history)
    tally = CheckTally()
    tally.add(result)
    tally.emit()
    return show_info(svc.core, caller)
