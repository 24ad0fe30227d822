"""Changing the key or the token, as named steps: count the attempt, take the lock, test the new
value with Atlassian, create its own secret, commit its record, delete the former secret.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, SecretStr

from api_info.auth import Caller
from api_info.errors import ApiError, BadRequest, ChangeInProgress, CredentialRejected, RateLimited
from api_info.expiry import learn_token_expiry
from api_info.idempotency import once
from api_info.models import (
    ChangeKeyRequest,
    ChangeKeyResponse,
    ChangeTokenRequest,
    ChangeTokenResponse,
    CredentialName,
    CredentialRecord,
    HistoryEvent,
    LastCheck,
)
from api_info.names import with_stored_name
from api_info.observability import logger, metrics
from api_info.status import key_info, mask, now_iso, token_info
from api_info.store.records import Locked
from api_info.wiring import Services

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

# What a token change still does after looking its expiry up: the administrator's name (2 s at most),
# then staging, commit and promotion. The lookup never eats into it: Lambda stops a change at 15 s.
AFTER_EXPIRY_LOOKUP_SECONDS = 4.0


def change_key(
    svc: Services,
    caller: Caller,
    request: ChangeKeyRequest,
    idempotency_key: str | None = None,
    lambda_context: LambdaContext | None = None,
) -> ChangeKeyResponse:
    """Validate a new Admin API key with Atlassian, then store it in place of the old one."""
    secret = {"apiKey": request.api_key}

    def validate() -> dict[str, Any]:
        return {"organization": svc.atlassian.validate_key(secret["apiKey"].get_secret_value()).organization}

    def answer(record: CredentialRecord) -> ChangeKeyResponse:
        return ChangeKeyResponse(api_key=key_info(record, svc.settings))

    change = Change(svc, caller, "apiKey", secret, request.expires_on)
    return ChangeKeyResponse.model_validate(_once(change, validate, answer, idempotency_key, lambda_context))


def change_token(
    svc: Services,
    caller: Caller,
    request: ChangeTokenRequest,
    idempotency_key: str | None = None,
    lambda_context: LambdaContext | None = None,
) -> ChangeTokenResponse:
    """Validate a new API token and its email against the tenant's Jira site, then store it."""
    secret = {"email": SecretStr(request.email), "apiToken": request.api_token}
    site_url, cloud_id = caller.tenant.site_url, caller.tenant.cloud_id
    if not site_url or not cloud_id:
        raise BadRequest("The Jira site of this installation is not known yet. Reopen the app from Jira.")
    svc.atlassian.vet_url(site_url)  # a site we never call is refused (403) before anything is recorded

    def validate() -> dict[str, Any]:
        facts = svc.atlassian.validate_token(
            site_url=site_url,
            cloud_id=cloud_id,
            email=request.email,
            api_token=secret["apiToken"].get_secret_value(),
        )
        learnt = _learnt_expiry(svc, caller.tenant.installation_id, facts.account.account_id, lambda_context)
        dated = {"expiresOn": learnt, "expiresOnSource": "atlassian"} if learnt else {}
        return {"email": request.email, "account": facts.account, **dated}

    def answer(record: CredentialRecord) -> ChangeTokenResponse:
        return ChangeTokenResponse(api_token=token_info(record, svc.settings))

    change = Change(svc, caller, "apiToken", secret, request.expires_on)
    return ChangeTokenResponse.model_validate(
        _once(change, validate, answer, idempotency_key, lambda_context)
    )


def _learnt_expiry(
    svc: Services, tenant_id: str, account_id: str, lambda_context: LambdaContext | None
) -> str | None:
    """The token's expiry as Atlassian lists it (docs/API.md §4), or None: never fails the change, and
    waits at most ATLASSIAN_TIMEOUT_SECONDS, less when the invocation's time is short."""
    seconds = None
    if lambda_context is not None:
        seconds = lambda_context.get_remaining_time_in_millis() / 1000 - AFTER_EXPIRY_LOOKUP_SECONDS
    try:
        key = svc.records.load(tenant_id, "apiKey")
    except Exception:  # best effort, as the lookup itself
        logger.exception("Could not read the API key's record to look the token's expiry up")
        return None

    def key_value(record: CredentialRecord) -> SecretStr:
        return svc.secrets.read(tenant_id, "apiKey", record)["apiKey"]

    return learn_token_expiry(svc.atlassian, svc.settings, key, key_value, account_id, seconds)


@dataclass(frozen=True)
class Change:
    """A requested change of one credential: what each step of the protocol needs.

    The new value (and the token's email) travel as SecretStr, so that no repr, str, log line or
    traceback of a change can show them; only the calls that need the value unwrap it."""

    svc: Services
    caller: Caller
    credential: CredentialName
    secret: Mapping[str, SecretStr | str]
    expires_on: str | None

    def __post_init__(self) -> None:
        # Whatever the caller passed, a plain str never stays in a change.
        hidden = {k: v if isinstance(v, SecretStr) else SecretStr(v) for k, v in self.secret.items()}
        object.__setattr__(self, "secret", hidden)

    def value(self, field: str) -> str:
        """One field of the new secret, for the one call that needs it."""
        secret = self.secret[field]
        return secret.get_secret_value() if isinstance(secret, SecretStr) else secret

    @property
    def tenant_id(self) -> str:
        return self.caller.tenant.installation_id

    @property
    def masked(self) -> str:
        return mask(self.value(self.credential))

    def event(self, outcome: str, code: str | None = None) -> HistoryEvent:
        # A change that did not happen looked nobody up: its administrator by the name already known.
        caller = self.caller if outcome == "succeeded" else with_stored_name(self.svc, self.caller)
        return history_event(caller, self.credential, "changed", outcome, code, self.masked)


def _once(
    change: Change,
    validate: Callable[[], dict[str, Any]],
    answer: Callable[[CredentialRecord], BaseModel],
    idempotency_key: str | None,
    lambda_context: LambdaContext | None,
) -> dict[str, Any]:
    """Run the change at most once per Idempotency-Key; the answer's body, as replays return it."""

    def run(change_id: str) -> dict[str, Any]:
        return answer(_change(change, change_id, validate)).model_dump(mode="json", by_alias=True)

    fields = {**{k: change.value(k) for k in change.secret}, "expiresOn": change.expires_on}
    return once(change.svc, change.caller, change.credential, fields, idempotency_key, lambda_context, run)


def _change(change: Change, change_id: str, validate: Callable[[], dict[str, Any]]) -> CredentialRecord:
    """The protocol, each step safe to run again with the same change id: count the attempt, lock
    (noting the name of the secret to come), test with Atlassian, create the value's own secret,
    commit the record that names it, then delete the former secret without a recovery window."""
    svc, tenant_id, credential = change.svc, change.tenant_id, change.credential
    _count_attempt(change)
    staged = svc.secrets.new_name(tenant_id, credential, change_id)
    locked = _lock(change, change_id, staged)
    previous = locked.record
    if previous is not None and previous.secret_version_id == change_id:
        # A retry of this very change, committed before it was interrupted: only the deletion of the
        # former secret may be left.
        svc.records.release_lock(tenant_id, credential, change_id, staged)
        left = set(previous.retired_secrets or ()) | locked.leftovers
        retire_secrets(svc, tenant_id, credential, left - {previous.secret_name or ""})
        return previous
    created = False
    try:
        facts = validate()  # test: Atlassian accepts the new value
        change = _with_display_name(change)
        created = True  # from here the secret may exist, even if the call's answer is lost
        svc.secrets.create(
            staged, tenant_id, credential, {k: change.value(k) for k in change.secret}, change_id
        )
        former = {svc.secrets.name_of(tenant_id, credential, previous)} if previous else set()
        retired = set(locked.leftovers) | set(previous.retired_secrets or () if previous else ())
        record = _new_record(change, change_id, staged, facts, (retired | former) - {staged})
        _commit(change, change_id, record)
    except ChangeInProgress:
        # The lock was taken away (it expired, or an uninstall removed everything): the new secret
        # was never committed, so it goes at once.
        if created:
            _delete_uncommitted(change, staged)
        # Recorded unless an uninstall took the lock: its installation's history stays gone.
        record_refused(svc, tenant_id, lambda: change.event("failed", ChangeInProgress.code))
        raise
    except CredentialRejected as exc:
        # Atlassian's answer stands even if it cannot be recorded (the app was uninstalled meanwhile).
        _record_failure(change, change_id, change.event("rejected", exc.code), staged)
        metrics.add_metric(name="CredentialRejected", unit="Count", value=1)
        raise
    except Exception as exc:
        code = exc.code if isinstance(exc, ApiError) else "internal_error"
        gone = not created or _delete_uncommitted(change, staged)
        _record_failure(change, change_id, change.event("failed", code), staged if gone else None)
        raise
    retire_secrets(svc, tenant_id, credential, set(record.retired_secrets or ()))
    metrics.add_metric(name="CredentialChanged", unit="Count", value=1)
    logger.info("Credential changed", extra={"credential": credential, "tenant": tenant_id})
    return record


def retire_secrets(svc: Services, tenant_id: str, credential: CredentialName, names: set[str]) -> None:
    """Delete secrets no record uses any more, without a recovery window, then drop them from the
    record; best effort: what is left stays listed, and the next check or change deletes it."""
    if not names:
        return
    try:
        svc.secrets.delete_now(names)
        svc.records.forget_secrets(tenant_id, credential, names)
    except Exception:
        logger.exception("Former secrets were not deleted yet", extra={"tenant": tenant_id})


def _delete_uncommitted(change: Change, staged: str) -> bool:
    """Delete the secret of a change that was not committed; whether it is gone. Not when the commit's
    outcome is unknown: the record may name it (then it stays listed as staged, for the next change)."""
    try:
        if change.svc.records.committed(change.tenant_id, change.credential, staged):
            return False
        change.svc.secrets.delete_now([staged])
    except Exception:
        logger.exception("The secret of a change that failed was not deleted yet")
        return False
    return True


def _with_display_name(change: Change) -> Change:
    """The change, its administrator named as Jira names them (looked up once per change, best effort:
    without a name the change goes on, and the page shows the account id)."""
    caller, actor = change.caller, change.caller.actor
    if actor.type != "atlassian" or not actor.account_id:
        return change  # an operator (IAM) has no Jira name
    if not caller.api_base_url or not caller.system_token:
        return change
    name = change.svc.atlassian.display_name(
        api_base_url=caller.api_base_url, system_token=caller.system_token, account_id=actor.account_id
    )
    if not name:
        return change
    return replace(change, caller=replace(caller, actor=actor.model_copy(update={"display_name": name})))


def _count_attempt(change: Change) -> None:
    """Record the tenant and count the attempt against its change limit (429 past it)."""
    settings = change.svc.settings
    try:
        change.svc.tenants.record_change_attempt(
            change.caller.tenant,
            now_iso(),
            limit=settings.change_attempts_limit,
            window_seconds=settings.change_attempts_window_seconds,
        )
    except RateLimited:
        metrics.add_metric(name="ChangeRateLimited", unit="Count", value=1)
        raise


def _lock(change: Change, change_id: str, staged: str) -> Locked:
    """Take the credential's change lock; what it held before. 409 while another holds it."""
    try:
        return change.svc.records.acquire_lock(change.tenant_id, change.credential, change_id, staged)
    except ChangeInProgress:  # another change holds the credential: record ours, leave its lock alone
        record_refused(change.svc, change.tenant_id, lambda: change.event("failed", ChangeInProgress.code))
        raise


def _new_record(
    change: Change, version_id: str, secret_name: str, facts: dict[str, Any], retired: set[str]
) -> CredentialRecord:
    now = now_iso()
    return CredentialRecord.model_validate(
        {
            "status": "valid",
            "maskedValue": change.masked,
            "secretVersionId": version_id,
            "secretName": secret_name,
            "retiredSecrets": retired or None,
            "expiresOn": change.expires_on,
            "lastUpdatedAt": now,
            "createdBy": change.caller.actor,
            "lastCheck": LastCheck(at=now, outcome="ok"),
            **facts,
        }
    )


def _commit(change: Change, change_id: str, record: CredentialRecord) -> None:
    """Record the new secret as the one in use, with the change's event, under the lock."""
    records = change.svc.records
    try:
        records.commit(change.tenant_id, change.credential, record, change_id, change.event("succeeded"))
    except ChangeInProgress:
        raise
    except Exception:
        # The outcome is unknown (the call may have gone through before the failure): look.
        if not records.committed(change.tenant_id, change.credential, record.secret_name or ""):
            raise
        logger.warning("The commit's answer was lost, but the commit happened")


def history_event(
    caller: Caller,
    credential: CredentialName,
    action: str,
    outcome: str,
    code: str | None,
    masked: str | None,
) -> HistoryEvent:
    return HistoryEvent.model_validate(
        {
            "at": now_iso(),
            "actor": caller.actor,
            "credential": credential,
            "action": action,
            "outcome": outcome,
            "code": code,
            "maskedValue": masked,
        }
    )


def _record_failure(change: Change, change_id: str, event: HistoryEvent, staged: str | None) -> None:
    """Record a change that did not happen and give its lock back (with `staged`, its secret known
    gone); best effort."""
    try:
        change.svc.records.finish_failed(change.tenant_id, change.credential, change_id, event, staged)
    except ChangeInProgress:  # nothing of ours left to record it on: the app was uninstalled meanwhile
        logger.warning(
            "A failed change was not recorded: its lock was gone", extra={"tenant": change.tenant_id}
        )
    except Exception:  # best effort: AWS itself may be what failed; the lock expires on its own
        logger.exception("Could not record a failed change")


def record_refused(svc: Services, tenant_id: str, event: Callable[[], HistoryEvent]) -> None:
    """Record an attempt refused with 409 change_in_progress (without the lock, which is another's)."""
    try:
        if not svc.history.add_event_if_installed(tenant_id, event()):
            logger.warning("A refused attempt was not recorded: the app was uninstalled meanwhile")
    except Exception:  # best effort: the answer is 409 either way
        logger.exception("Could not record an attempt refused while another change was under way")
