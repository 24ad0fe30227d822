"""Credential checks: the scheduled fan-out to the queue, the check of one tenant, and the on-demand check.

Every stored credential is validated again with the same Atlassian calls a change makes. A refusal makes
it `invalid`, an acceptance `valid`; a check Atlassian could not answer records `lastCheck.outcome: error`,
leaves the stored status alone and is retried later. When the status the app would see differs from the
one it was last told about, a "Credential status changed" event goes on EventBridge.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from api_info.atlassian import within_deadline
from api_info.audit import announce_status, history_event
from api_info.auth import Caller
from api_info.check_results import CheckTally, CredentialCheck, TenantCheck
from api_info.credentials import CredentialKind, kinds
from api_info.credentials.kind import ExpiryLookup, Secret, Validation
from api_info.credentials.ref import CredentialRef
from api_info.errors import ApiError, AtlassianError, AtlassianUnavailable, CredentialRejected
from api_info.messages import CheckRequest
from api_info.names import with_known_name
from api_info.observability import logger, metrics
from api_info.page import info_page
from api_info.records import Actor, CheckOutcome, CredentialRecord, LastCheck, StoredStatus, Tenant
from api_info.reminders import remind
from api_info.services import CheckServices
from api_info.status import now_iso, previous_status, status_of
from api_info.store.history import PendingEvent
from api_info.store.secrets import SecretGone
from api_info.store.tenants import TenantState
from api_info.upkeep import tidy_secrets

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

ON_DEMAND_INTERVAL_SECONDS = 30  # the contract: at most one on-demand check per tenant per 30 s
SCHEDULER = Actor(type="scheduler")
HISTORY_OUTCOME = {"ok": "succeeded", "rejected": "rejected", "error": "failed"}
# What an on-demand check still does after a token's expiry lookup: write the results, announce, write
# the history, read the answer (a few AWS calls). The lookup never eats into it: after the administrator
# check and the validation (5 s each at most), Lambda stops the function at 15 s.
AFTER_EXPIRY_LOOKUP_SECONDS = 2.0


def utc_today() -> date:
    """Today in UTC, the day statuses are judged on (a seam for tests that move the clock)."""
    return datetime.now(UTC).date()


# --- the check ----------------------------------------------------------------------------------


def check_tenant(
    svc: CheckServices,
    tenant_id: str,
    state: TenantState,
    actor: Actor,
    *,
    secrets: Mapping[CredentialRef, Secret] | None = None,
    parallel: bool = False,
    today: date | None = None,
    lookup_seconds: Callable[[], float | None] | None = None,
) -> TenantCheck:
    """Check each stored credential of a tenant (all at once on the container's pool when `parallel`,
    never from inside that pool) and record the results.

    `secrets` may hold values read ahead in a batch; the rest are read one by one. `lookup_seconds`
    tells, when asked, how long an expiry lookup may take (at most ATLASSIAN_TIMEOUT_SECONDS; none
    left: no lookup). The results carry their history events for the caller to write.
    """
    tenant = state.tenant
    if tenant is None:
        return TenantCheck(tenant_id)  # uninstalled meanwhile: nothing to check
    day = today or utc_today()
    # A token erased with its owner's closed account has no secret left to check: it stays invalid, and
    # the app is told so once.
    held = [(kind, state.credentials[kind]) for kind in kinds() if kind in state.credentials]
    stored = [(kind, r) for kind, r in held if not r.secret_erased]
    erased = [(kind, r) for kind, r in held if r.secret_erased]
    told = (announce_erasure(svc, tenant, kind, r, state.notified, day) for kind, r in erased)
    announced = tuple(check for check in told if check is not None)
    read_ahead = secrets or {}

    def secret(kind: CredentialKind, record: CredentialRecord) -> Secret:
        ref = CredentialRef(tenant_id, kind)
        return read_ahead.get(ref) or svc.core.secrets.read(ref, record)

    # The tenant's credentials as they stood before the check, for a kind whose expiry another one reads.
    lookup = ExpiryLookup(
        svc.core.atlassian, svc.core.settings, state.credentials.get, secret, lookup_seconds or (lambda: None)
    )

    def one(item: tuple[CredentialKind, CredentialRecord]) -> CredentialCheck:
        kind, record = item
        ahead = read_ahead.get(CredentialRef(tenant_id, kind))
        return check_credential(svc, tenant, kind, record, state.notified, actor, day, ahead, lookup)

    if parallel and len(stored) > 1:
        # The pool's threads outlive the invocation, and with them their Atlassian connections.
        return TenantCheck(tenant_id, (*svc.pool.map(within_deadline(one), stored), *announced))
    return TenantCheck(tenant_id, (*map(one, stored), *announced))


def check_credential(
    svc: CheckServices,
    tenant: Tenant,
    kind: CredentialKind,
    record: CredentialRecord,
    notified: Mapping[CredentialKind, str],
    actor: Actor,
    today: date,
    secret: Secret | None = None,
    lookup: ExpiryLookup | None = None,
) -> CredentialCheck:
    """Validate one stored credential with Atlassian, record the result and announce a status change;
    its expiry is read from Atlassian again (with `lookup`), so that a shortened one is noticed."""
    core, settings = svc.core, svc.core.settings
    ref = CredentialRef(tenant.installation_id, kind)
    outcome: CheckOutcome = "error"
    code: str | None = None
    stored: StoredStatus = record.status  # what an error leaves in place
    retry_after: int | None = None
    learnt: str | None = None
    try:
        if secret is None:
            secret = core.secrets.read(ref, record)
        facts = kind.validate(Validation(core.atlassian, tenant, secret, lookup))
        outcome, stored = "ok", "valid"
        learnt = facts.get("expiresOn")
    except SecretGone:
        # Replaced (its former secret deleted) or erased since it was loaded: the change won, and it
        # validated the value in use. Nothing to check or record.
        status = status_of(record, settings, today)
        return CredentialCheck(kind, "ok", None, status, status, superseded=True)
    except CredentialRejected as exc:
        outcome, code, stored = "rejected", exc.code, "invalid"
    except (AtlassianError, AtlassianUnavailable) as exc:
        code, retry_after = exc.code, exc.retry_after
    except Exception as exc:
        # Anything else (a stored site URL refused, an AWS failure) is an error too: status kept, retried.
        logger.exception(
            "A credential check failed", extra={"tenant": ref.tenant_id, "credential": kind.name}
        )
        code = exc.code if isinstance(exc, ApiError) else "internal_error"

    now = now_iso()
    last_check = LastCheck(at=now, outcome=outcome, detail=code)
    update: dict[str, object] = {"status": stored, "last_check": last_check}
    if learnt and (learnt, "atlassian") != (record.expires_on, record.expires_on_source):
        update |= {"expires_on": learnt, "expires_on_source": "atlassian"}  # replaced or shortened
    else:
        learnt = None  # nothing new: the stored date stays
    checked = replace(record, **update)  # type: ignore[arg-type]
    status = status_of(checked, settings, today)
    previous = previous_status(record, notified.get(kind), settings)
    event = history_event(actor, kind, "checked", HISTORY_OUTCOME[outcome], code, record.masked_value, now)
    history = PendingEvent(ref.tenant_id, event)
    result = CredentialCheck(kind, outcome, code, previous, status, retry_after, history=history)
    try:
        if status != previous and kind not in notified:
            # Never told: `previous` comes from the record, which this check is about to change. Keep it
            # as what the app knows, so that if the announcement fails the next check still sees the change.
            core.tenants.mark_notified(ref, previous)
        written = core.tenants.record_check(
            ref,
            record.secret_version_id,
            last_check=last_check,
            status=None if outcome == "error" or stored == record.status else stored,
            expires_on=learnt,
        )
        result = replace(result, superseded=not written)
        if result.changed:
            announce_status(svc, tenant, record, result, last_check)
        if written:
            reminded = remind(svc, ref, checked, today)
            result = replace(result, reminded=reminded) if reminded is not None else result
    except Exception:
        return _faulted(result, "A check's result was not recorded or announced", ref.tenant_id)
    if secret is not None:
        tidy_secrets(core, ref, record, secret)
    return result


def _faulted(result: CredentialCheck, what: str, tenant_id: str) -> CredentialCheck:
    """Atlassian answered, but DynamoDB or EventBridge failed: the result is kept for the history (the
    caller writes it, then answers 500 or retries the message), and what was not announced is announced
    by the next check (a reminder's claim was given back)."""
    logger.exception(what, extra={"tenant": tenant_id, "credential": result.kind.name})
    return replace(result, faulted=True)


def announce_erasure(
    svc: CheckServices,
    tenant: Tenant,
    kind: CredentialKind,
    record: CredentialRecord,
    notified: Mapping[CredentialKind, str],
    today: date,
) -> CredentialCheck | None:
    """A credential erased with its owner's closed account is not checked; if the app was not told yet
    that it became invalid, announce it (the result), else nothing (None)."""
    settings, last_check = svc.core.settings, record.last_check
    result = CredentialCheck(
        kind=kind,
        outcome="rejected",
        code=last_check.detail if last_check else None,
        previous=previous_status(record, notified.get(kind), settings),
        status=status_of(record, settings, today),
    )
    if not result.changed or last_check is None:
        return None
    try:
        announce_status(svc, tenant, record, result, last_check)
    except Exception:
        return _faulted(result, "An erased token's invalidity was not announced", tenant.installation_id)
    return result


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


def check_now(
    svc: CheckServices, caller: Caller, lambda_context: LambdaContext | None = None
) -> dict[str, Any]:
    """The on-demand check of the caller's tenant (at most once per 30 s), answered like GET /api-info."""
    core, tenant_id = svc.core, caller.tenant.installation_id
    svc.create_clients(queue=False)
    core.tenants.record(caller.tenant, now_iso())
    core.tenants.reserve_check(tenant_id, ON_DEMAND_INTERVAL_SECONDS)

    def lookup_seconds() -> float | None:
        if lambda_context is None:
            return None
        return lambda_context.get_remaining_time_in_millis() / 1000 - AFTER_EXPIRY_LOOKUP_SECONDS

    state = core.tenants.load(tenant_id)
    actor = with_known_name(caller.actor, state.credentials.values())  # no Jira lookup for a check
    result = check_tenant(svc, tenant_id, state, actor, parallel=True, lookup_seconds=lookup_seconds)
    core.history.add_events(result.history)
    tally = CheckTally()
    tally.add(result)
    tally.emit()
    if result.faulted:
        raise ApiError()  # 500 internal_error, as the history records it; the next check makes up for it
    state = core.tenants.load(tenant_id)
    # An uninstall that landed during the check removed everything: the answer shows that, and records
    # nothing (show_info would record the tenant anew, and the scheduler check it every day).
    return info_page(core.settings, state.tenant or caller.tenant, state)
