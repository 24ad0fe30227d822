"""Changing a credential, top to bottom: refuse what cannot be validated, count the attempt, take the
lock, validate the new value with Atlassian, stage its own secret, commit its record with the history
event, then delete the former secret. Each step is safe to run again with the same change id; the new
value stays a SecretStr from the request to the one call that stores it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import partial
from typing import TYPE_CHECKING, Any

from api_info.audit import history_event, record_refused
from api_info.auth import Caller
from api_info.credentials import CredentialKind
from api_info.credentials.kind import ExpiryLookup, Facts, Secret, Validation
from api_info.credentials.ref import CredentialRef
from api_info.errors import ApiError, ChangeInProgress, CredentialRejected, RateLimited
from api_info.idempotency import once
from api_info.models import Answer, ChangeRequest
from api_info.names import with_stored_name
from api_info.observability import logger, metrics
from api_info.records import CredentialRecord, HistoryEvent, LastCheck
from api_info.services import Services
from api_info.status import now_iso
from api_info.store.records import Locked
from api_info.upkeep import retire_secrets

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

# What a change still does after looking its expiry up: the administrator's name (2 s at most), then
# staging, commit and promotion. The lookup never eats into it: Lambda stops a change at 15 s.
AFTER_EXPIRY_LOOKUP_SECONDS = 4.0


@dataclass(frozen=True)
class Change:
    """A requested change of one credential: the new secret (SecretStr fields, no repr), its date."""

    ref: CredentialRef
    caller: Caller
    secret: Secret = field(repr=False)
    expires_on: str | None

    @property
    def kind(self) -> CredentialKind:
        return self.ref.kind

    @property
    def masked(self) -> str:
        return self.kind.masked(self.secret)

    def fingerprinted(self) -> dict[str, str | None]:
        """What tells one request body from another, for the HMAC of an Idempotency-Key (only)."""
        return {**{k: v.get_secret_value() for k, v in self.secret.items()}, "expiresOn": self.expires_on}


def change_credential(
    svc: Services,
    caller: Caller,
    kind: CredentialKind,
    request: ChangeRequest,
    idempotency_key: str | None = None,
    lambda_context: LambdaContext | None = None,
) -> Answer:
    """Validate a new value of the credential with Atlassian, then store it in place of the old one; at
    most once per Idempotency-Key."""
    kind.prepare(svc.atlassian, caller.tenant)  # refused before anything is recorded
    ref = CredentialRef(caller.tenant.installation_id, kind)
    change = Change(ref, caller, kind.secret_of(request), request.expires_on)
    run = partial(_change_and_answer, svc, change, lambda_context)
    body = once(svc, ref, change.fingerprinted(), idempotency_key, lambda_context, run)
    return kind.response.model_validate(body)


def _change_and_answer(
    svc: Services, change: Change, lambda_context: LambdaContext | None, change_id: str
) -> dict[str, Any]:
    """The change under `change_id`, answered as its route answers (the body Idempotency-Key replays)."""
    record = _change(svc, change, change_id, lambda_context)
    return change.kind.answer(record, svc.settings)


def _change(
    svc: Services, change: Change, change_id: str, lambda_context: LambdaContext | None
) -> CredentialRecord:
    """The protocol: count the attempt, lock (noting the name of the secret to come), test with
    Atlassian, create the value's own secret, commit the record that names it, then delete the former
    secret without a recovery window."""
    ref = change.ref
    _count_attempt(svc, change)
    staged = svc.secrets.new_name(ref, change_id)
    locked = _lock(svc, change, change_id, staged)
    previous = locked.record
    if previous is not None and previous.secret_version_id == change_id:
        # A retry of this very change, committed before it was interrupted: only the deletion of the
        # former secret may be left.
        svc.records.release_lock(ref, change_id, staged)
        left = set(previous.retired_secrets or ()) | locked.leftovers
        retire_secrets(svc, ref, left - {previous.secret_name or ""})
        return previous
    created = False
    try:
        # Test: Atlassian accepts the new value; its administrator's name is looked up alongside.
        name = NameLookup(svc, change)
        facts = _validate(svc, change, lambda_context, name)
        change = _named(change, name.found)
        created = True  # from here the secret may exist, even if the call's answer is lost
        svc.secrets.create(staged, ref, change.secret, change_id)  # stage
        former = {svc.secrets.name_of(ref, previous)} if previous else set()
        retired = set(locked.leftovers) | set(previous.retired_secrets or () if previous else ())
        record = _new_record(change, change_id, staged, facts, (retired | former) - {staged})
        _commit(svc, change, change_id, record)  # promote, with the history event
    except ChangeInProgress:
        # The lock was taken away (it expired, or an uninstall removed everything): the new secret
        # was never committed, so it goes at once.
        if created:
            _delete_uncommitted(svc, ref, staged)
        # Recorded unless an uninstall took the lock: its installation's history stays gone.
        record_refused(svc, ref.tenant_id, partial(_event, svc, change, "failed", ChangeInProgress.code))
        raise
    except CredentialRejected as exc:
        # Atlassian's answer stands even if it cannot be recorded (the app was uninstalled meanwhile).
        _record_failure(svc, change, change_id, _event(svc, change, "rejected", exc.code), staged)
        metrics.add_metric(name="CredentialRejected", unit="Count", value=1)
        raise
    except Exception as exc:
        code = exc.code if isinstance(exc, ApiError) else "internal_error"
        gone = not created or _delete_uncommitted(svc, ref, staged)
        _record_failure(svc, change, change_id, _event(svc, change, "failed", code), staged if gone else None)
        raise
    retire_secrets(svc, ref, set(record.retired_secrets or ()))
    metrics.add_metric(name="CredentialChanged", unit="Count", value=1)
    logger.info("Credential changed", extra={"credential": change.kind.name, "tenant": ref.tenant_id})
    return record


def _validate(svc: Services, change: Change, lambda_context: LambdaContext | None, name: NameLookup) -> Facts:
    """What Atlassian tells of the new value (CredentialRejected if it refuses it), with the expiry it
    lists, if any: that lookup never fails the change."""
    lookup = _expiry_lookup(svc, change.ref.tenant_id, lambda_context)
    return change.kind.validate(Validation(svc.atlassian, change.caller.tenant, change.secret, lookup, name))


def _expiry_lookup(svc: Services, tenant_id: str, lambda_context: LambdaContext | None) -> ExpiryLookup:
    """The tenant's stored credentials as they stand, for a kind whose expiry another one reads (best
    effort); within ATLASSIAN_TIMEOUT_SECONDS, less when the invocation's time is short."""

    def stored(kind: CredentialKind) -> CredentialRecord | None:
        try:
            return svc.records.load(CredentialRef(tenant_id, kind))
        except Exception:  # best effort, as the lookup itself
            logger.exception("Could not read a stored credential to look an expiry up")
            return None

    def seconds() -> float | None:
        if lambda_context is None:
            return None
        return lambda_context.get_remaining_time_in_millis() / 1000 - AFTER_EXPIRY_LOOKUP_SECONDS

    def secret(kind: CredentialKind, record: CredentialRecord) -> Secret:
        return svc.secrets.read(CredentialRef(tenant_id, kind), record)

    return ExpiryLookup(svc.atlassian, svc.settings, stored, secret, seconds)


def _event(svc: Services, change: Change, outcome: str, code: str | None = None) -> HistoryEvent:
    # A change that did not happen looked nobody up: its administrator by the name already known.
    caller = change.caller if outcome == "succeeded" else with_stored_name(svc.records, change.caller)
    return history_event(caller.actor, change.kind, "changed", outcome, code, change.masked)


def _delete_uncommitted(svc: Services, ref: CredentialRef, staged: str) -> bool:
    """Delete the secret of a change that was not committed; whether it is gone. Not when the commit's
    outcome is unknown: the record may name it (then it stays listed as staged, for the next change)."""
    try:
        if svc.records.committed(ref, staged):
            return False
        svc.secrets.delete_now([staged])
    except Exception:
        logger.exception("The secret of a change that failed was not deleted yet")
        return False
    return True


@dataclass
class NameLookup:
    """The administrator's name as Jira has it, looked up once per change alongside the validation (best
    effort within its own 2 s: None leaves the account id on the page); an operator (IAM) has none."""

    svc: Services
    change: Change
    found: str | None = None

    def __call__(self) -> None:
        caller, actor = self.change.caller, self.change.caller.actor
        if actor.type != "atlassian" or not actor.account_id:
            return
        if not caller.api_base_url or not caller.system_token:
            return
        self.found = self.svc.atlassian.jira.display_name(
            api_base_url=caller.api_base_url, system_token=caller.system_token, account_id=actor.account_id
        )


def _named(change: Change, name: str | None) -> Change:
    """The change, its administrator named (the history and the record say who saved it)."""
    if not name:
        return change
    actor = replace(change.caller.actor, display_name=name)
    return replace(change, caller=replace(change.caller, actor=actor))


def _count_attempt(svc: Services, change: Change) -> None:
    """Record the tenant and count the attempt against its change limit (429 past it)."""
    settings = svc.settings
    try:
        svc.tenants.record_change_attempt(
            change.caller.tenant,
            now_iso(),
            limit=settings.change_attempts_limit,
            window_seconds=settings.change_attempts_window_seconds,
        )
    except RateLimited:
        metrics.add_metric(name="ChangeRateLimited", unit="Count", value=1)
        raise


def _lock(svc: Services, change: Change, change_id: str, staged: str) -> Locked:
    """Take the credential's change lock; what it held before. 409 while another holds it."""
    try:
        return svc.records.acquire_lock(change.ref, change_id, staged)
    except ChangeInProgress:  # another change holds the credential: record ours, leave its lock alone
        record_refused(
            svc, change.ref.tenant_id, partial(_event, svc, change, "failed", ChangeInProgress.code)
        )
        raise


def _new_record(
    change: Change, version_id: str, secret_name: str, facts: Facts, retired: set[str]
) -> CredentialRecord:
    now = now_iso()
    return CredentialRecord.from_item(
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


def _commit(svc: Services, change: Change, change_id: str, record: CredentialRecord) -> None:
    """Record the new secret as the one in use, with the change's event, under the lock."""
    try:
        svc.records.commit(change.ref, record, change_id, _event(svc, change, "succeeded"))
    except ChangeInProgress:
        raise
    except Exception:
        # The outcome is unknown (the call may have gone through before the failure): look.
        if not svc.records.committed(change.ref, record.secret_name or ""):
            raise
        logger.warning("The commit's answer was lost, but the commit happened")


def _record_failure(
    svc: Services, change: Change, change_id: str, event: HistoryEvent, staged: str | None
) -> None:
    """Record a change that did not happen and give its lock back (with `staged`, its secret known
    gone); best effort."""
    try:
        svc.records.finish_failed(change.ref, change_id, event, staged)
    except ChangeInProgress:  # nothing of ours left to record it on: the app was uninstalled meanwhile
        logger.warning(
            "A failed change was not recorded: its lock was gone", extra={"tenant": change.ref.tenant_id}
        )
    except Exception:  # best effort: AWS itself may be what failed; the lock expires on its own
        logger.exception("Could not record a failed change")
