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
from typing import TYPE_CHECKING, cast

from pydantic import SecretStr

from api_info.atlassian import within_deadline
from api_info.auth import Caller
from api_info.change import retire_secrets
from api_info.check_results import CheckTally, CredentialCheck, TenantCheck
from api_info.errors import ApiError, AtlassianError, AtlassianUnavailable, CredentialRejected
from api_info.expiry import learn_token_expiry
from api_info.info import info_page
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
    StoredStatus,
    Tenant,
    TenantInfo,
)
from api_info.names import with_known_name
from api_info.observability import logger, metrics
from api_info.reminders import remind
from api_info.status import now_iso, previous_status, status_of
from api_info.store.history import PendingEvent
from api_info.store.secrets import SecretGone
from api_info.store.tenants import TenantState
from api_info.wiring import CheckServices, create_clients

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

STATUS_CHANGED = "Credential status changed"
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
    secrets: Mapping[tuple[str, CredentialName], dict[str, SecretStr]] | None = None,
    parallel: bool = False,
    today: date | None = None,
    lookup_seconds: Callable[[], float | None] | None = None,
) -> TenantCheck:
    """Check each stored credential of a tenant (both at once on the container's pool when `parallel`,
    never from inside that pool) and record the results.

    `secrets` may hold values read ahead in a batch; the rest are read one by one. `lookup_seconds`
    tells, when asked, how long a token's expiry lookup may take (at most ATLASSIAN_TIMEOUT_SECONDS;
    none left: no lookup). The results carry their history events for the caller to write.
    """
    tenant = state.tenant
    if tenant is None:
        return TenantCheck(tenant_id)  # uninstalled meanwhile: nothing to check
    day = today or utc_today()
    # A token erased with its owner's closed account has no secret left to check: it stays invalid, and
    # the app is told so once.
    stored = sorted((name, r) for name, r in state.credentials.items() if not r.secret_erased)
    erased = sorted((cast(CredentialName, n), r) for n, r in state.credentials.items() if r.secret_erased)
    told = (announce_erasure(svc, tenant, name, r, state.notified, day) for name, r in erased)
    announced = tuple(check for check in told if check is not None)

    read_ahead = secrets or {}

    def read_key(key: CredentialRecord) -> SecretStr:
        found = read_ahead.get((tenant_id, "apiKey"))
        if found is None:
            found = svc.core.secrets.read(tenant_id, "apiKey", key)
        return found["apiKey"]

    def token_expiry(account_id: str) -> str | None:
        """What Atlassian lists as the token's expiry, with the tenant's key as it stood before the check."""
        core, key = svc.core, state.credentials.get("apiKey")
        seconds = lookup_seconds() if lookup_seconds else None  # asked now, after the validation
        return learn_token_expiry(core.atlassian, core.settings, key, read_key, account_id, seconds)

    def one(item: tuple[str, CredentialRecord]) -> CredentialCheck:
        credential = cast(CredentialName, item[0])
        secret = read_ahead.get((tenant_id, credential))
        return check_credential(
            svc, tenant, credential, item[1], state.notified, actor, day, secret, token_expiry
        )

    if parallel and len(stored) > 1:
        # The pool's threads outlive the invocation, and with them their Atlassian connections.
        return TenantCheck(tenant_id, (*svc.pool.map(within_deadline(one), stored), *announced))
    return TenantCheck(tenant_id, (*map(one, stored), *announced))


def check_credential(
    svc: CheckServices,
    tenant: Tenant,
    credential: CredentialName,
    record: CredentialRecord,
    notified: dict[str, str],
    actor: Actor,
    today: date,
    secret: dict[str, SecretStr] | None = None,
    token_expiry: Callable[[str], str | None] | None = None,
) -> CredentialCheck:
    """Validate one stored credential with Atlassian, record the result and announce a status change;
    a token's expiry is read from Atlassian again (`token_expiry`), so a shortened one is noticed."""
    core, settings, tenant_id = svc.core, svc.core.settings, tenant.installation_id
    outcome: CheckOutcome = "error"
    code: str | None = None
    stored: StoredStatus = record.status  # what an error leaves in place
    retry_after: int | None = None
    learnt: str | None = None
    try:
        if secret is None:
            secret = core.secrets.read(tenant_id, credential, record)
        account_id = _validate(svc, tenant, credential, secret)
        outcome, stored = "ok", "valid"
        if account_id is not None and token_expiry is not None:
            learnt = token_expiry(account_id)
    except SecretGone:
        # Replaced (its former secret deleted) or erased since it was loaded: the change won, and it
        # validated the value in use. Nothing to check or record.
        status = status_of(record, settings, today)
        return CredentialCheck(credential, "ok", None, status, status, superseded=True)
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
    update: dict[str, object] = {"status": stored, "last_check": last_check}
    if learnt and (learnt, "atlassian") != (record.expires_on, record.expires_on_source):
        update |= {"expires_on": learnt, "expires_on_source": "atlassian"}  # replaced or shortened
    else:
        learnt = None  # nothing new: the stored date stays
    checked = record.model_copy(update=update)
    status = status_of(checked, settings, today)
    previous = previous_status(record, notified.get(credential), settings)
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
    result = CredentialCheck(credential, outcome, code, previous, status, retry_after, history=history)
    try:
        if status != previous and credential not in notified:
            # Never told: `previous` comes from the record, which this check is about to change. Keep it
            # as what the app knows, so that if the announcement fails the next check still sees the change.
            core.tenants.mark_notified(tenant_id, credential, previous)
        written = core.tenants.record_check(
            tenant_id,
            credential,
            record.secret_version_id,
            last_check=last_check,
            status=None if outcome == "error" or stored == record.status else stored,
            expires_on=learnt,
        )
        result = replace(result, superseded=not written)
        if result.changed:
            _announce(svc, tenant, record, result, last_check)
        if written:
            reminded = remind(svc, tenant_id, credential, checked, today)
            result = replace(result, reminded=reminded) if reminded is not None else result
    except Exception:
        return _faulted(result, "A check's result was not recorded or announced", tenant_id)
    if secret is not None:
        tidy_secrets(svc, tenant_id, credential, record, secret)
    return result


def tidy_secrets(
    svc: CheckServices,
    tenant_id: str,
    credential: CredentialName,
    record: CredentialRecord,
    secret: Mapping[str, SecretStr],
) -> None:
    """Delete former secrets a crash left behind, and move a value still in the tenant's former fixed
    secret (whose older versions may hold a former token owner) to a secret of its own, then delete the
    fixed one without a recovery window. Best effort: the next check tries again."""
    core = svc.core
    try:
        if record.retired_secrets:
            retire_secrets(core, tenant_id, credential, set(record.retired_secrets))
        if record.secret_name is not None:
            return
        name = core.secrets.new_name(tenant_id, credential, record.secret_version_id)
        if not core.records.stage_move(tenant_id, credential, record, name):
            return  # a change is under way or came first: it gives the value a secret of its own
        values = {field: value.get_secret_value() for field, value in secret.items()}
        core.secrets.create(name, tenant_id, credential, values, record.secret_version_id)
        former = core.secrets.legacy_name(tenant_id, credential)
        moved = core.records.commit_move(tenant_id, credential, record, name, former)
        retire_secrets(core, tenant_id, credential, {former} if moved else {name})
        if moved:
            logger.info(
                "Secret moved to one of its own", extra={"tenant": tenant_id, "credential": credential}
            )
    except Exception:
        logger.exception("The credential's secrets were not tidied up", extra={"tenant": tenant_id})


def _faulted(result: CredentialCheck, what: str, tenant_id: str) -> CredentialCheck:
    """Atlassian answered, but DynamoDB or EventBridge failed: the result is kept for the history (the
    caller writes it, then answers 500 or retries the message), and what was not announced is announced
    by the next check (a reminder's claim was given back)."""
    logger.exception(what, extra={"tenant": tenant_id, "credential": result.credential})
    return replace(result, faulted=True)


def announce_erasure(
    svc: CheckServices,
    tenant: Tenant,
    credential: CredentialName,
    record: CredentialRecord,
    notified: dict[str, str],
    today: date,
) -> CredentialCheck | None:
    """A credential erased with its owner's closed account is not checked; if the app was not told yet
    that it became invalid, announce it (the result), else nothing (None)."""
    settings, last_check = svc.core.settings, record.last_check
    result = CredentialCheck(
        credential=credential,
        outcome="rejected",
        code=last_check.detail if last_check else None,
        previous=previous_status(record, notified.get(credential), settings),
        status=status_of(record, settings, today),
    )
    if not result.changed or last_check is None:
        return None
    try:
        _announce(svc, tenant, record, result, last_check)
    except Exception:
        return _faulted(result, "An erased token's invalidity was not announced", tenant.installation_id)
    return result


def _announce(
    svc: CheckServices,
    tenant: Tenant,
    record: CredentialRecord,
    result: CredentialCheck,
    last_check: LastCheck,
) -> None:
    """Publish a "Credential status changed" event, then remember the status told: if EventBridge fails,
    the next check announces it again."""
    tenant_id, credential = tenant.installation_id, result.credential
    svc.events.publish(
        STATUS_CHANGED,
        CredentialStatusChanged(
            tenant=TenantInfo(installation_id=tenant_id, cloud_id=tenant.cloud_id, site_url=tenant.site_url),
            credential=credential,
            previous_status=result.previous,
            status=result.status,
            expires_on=record.expires_on,
            masked_value=record.masked_value,
            last_check=last_check,
        ).model_dump(mode="json", by_alias=True),
    )
    svc.core.tenants.mark_notified(tenant_id, credential, result.status)
    logger.info(
        "Credential status changed",
        extra={"tenant": tenant_id, "credential": credential, "from": result.previous, "to": result.status},
    )


def _validate(
    svc: CheckServices, tenant: Tenant, credential: CredentialName, secret: dict[str, SecretStr]
) -> str | None:
    """Validate the credential as a change does; a token's account id (None for a key)."""
    atlassian = svc.core.atlassian
    if credential == "apiKey":
        atlassian.validate_key(secret["apiKey"].get_secret_value())
        return None
    if not tenant.site_url or not tenant.cloud_id:
        raise ApiError("The Jira site of this installation is not known.")
    facts = atlassian.validate_token(
        site_url=tenant.site_url,
        cloud_id=tenant.cloud_id,
        email=secret["email"].get_secret_value(),
        api_token=secret["apiToken"].get_secret_value(),
    )
    return facts.account.account_id


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
) -> InfoResponse:
    """The on-demand check of the caller's tenant (at most once per 30 s), answered like GET /api-info."""
    core, tenant_id = svc.core, caller.tenant.installation_id
    create_clients(svc, queue=False)
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
