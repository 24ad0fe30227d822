"""Changing the key or the token, as named steps: count the attempt, take the lock, test the new
value with Atlassian, stage it, commit its record, promote it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from api_info.auth import Caller
from api_info.errors import ApiError, BadRequest, ChangeInProgress, CredentialRejected, RateLimited
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
    mask,
)
from api_info.observability import logger, metrics
from api_info.status import key_info, now_iso, token_info
from api_info.store.records import Records
from api_info.wiring import Services

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


def change_key(
    svc: Services,
    caller: Caller,
    request: ChangeKeyRequest,
    idempotency_key: str | None = None,
    lambda_context: LambdaContext | None = None,
) -> ChangeKeyResponse:
    """Validate a new Admin API key with Atlassian, then store it in place of the old one."""
    secret = {"apiKey": request.api_key.get_secret_value()}

    def validate() -> dict[str, Any]:
        return {"organization": svc.atlassian.validate_key(secret["apiKey"]).organization}

    def run(change_id: str) -> dict[str, Any]:
        record = _change(svc, caller, "apiKey", change_id, secret, request.expires_on, validate)
        return ChangeKeyResponse(api_key=key_info(record, svc.settings)).model_dump(
            mode="json", by_alias=True
        )

    fields = {**secret, "expiresOn": request.expires_on}
    body = once(svc, caller, "apiKey", fields, idempotency_key, lambda_context, run)
    return ChangeKeyResponse.model_validate(body)


def change_token(
    svc: Services,
    caller: Caller,
    request: ChangeTokenRequest,
    idempotency_key: str | None = None,
    lambda_context: LambdaContext | None = None,
) -> ChangeTokenResponse:
    """Validate a new API token and its email against the tenant's Jira site, then store it."""
    secret = {"email": request.email, "apiToken": request.api_token.get_secret_value()}
    site_url, cloud_id = caller.tenant.site_url, caller.tenant.cloud_id
    if not site_url or not cloud_id:
        raise BadRequest("The Jira site of this installation is not known yet. Reopen the app from Jira.")
    svc.atlassian.vet_url(site_url)  # a site we never call is refused (403) before anything is recorded

    def validate() -> dict[str, Any]:
        facts = svc.atlassian.validate_token(
            site_url=site_url, cloud_id=cloud_id, email=secret["email"], api_token=secret["apiToken"]
        )
        return {"email": secret["email"], "account": facts.account}

    def run(change_id: str) -> dict[str, Any]:
        record = _change(svc, caller, "apiToken", change_id, secret, request.expires_on, validate)
        return ChangeTokenResponse(api_token=token_info(record, svc.settings)).model_dump(
            mode="json", by_alias=True
        )

    fields = {**secret, "expiresOn": request.expires_on}
    body = once(svc, caller, "apiToken", fields, idempotency_key, lambda_context, run)
    return ChangeTokenResponse.model_validate(body)


def _change(
    svc: Services,
    caller: Caller,
    credential: CredentialName,
    change_id: str,
    secret: dict[str, str],
    expires_on: str | None,
    validate: Callable[[], dict[str, Any]],
) -> CredentialRecord:
    records, secrets, tenant_id = svc.records, svc.secrets, caller.tenant.installation_id
    masked = mask(secret[credential])

    def event(outcome: str, code: str | None) -> HistoryEvent:
        return history_event(caller, credential, "changed", outcome, code, masked)

    try:
        svc.tenants.record_change_attempt(
            caller.tenant,
            now_iso(),
            limit=svc.settings.change_attempts_limit,
            window_seconds=svc.settings.change_attempts_window_seconds,
        )
    except RateLimited:
        metrics.add_metric(name="ChangeRateLimited", unit="Count", value=1)
        raise
    try:
        previous = records.acquire_lock(tenant_id, credential, change_id)
    except ChangeInProgress:  # another change holds the credential: record ours, leave its lock alone
        record_refused(svc, tenant_id, lambda: event("failed", ChangeInProgress.code))
        raise
    if previous is not None and previous.secret_version_id == change_id:
        # A retry of this very change, committed before it was interrupted: only promoting may be left.
        records.release_lock(tenant_id, credential, change_id)
        secrets.promote(tenant_id, credential, change_id, None)
        return previous
    try:
        facts = validate()
        version_id = secrets.stage(tenant_id, credential, secret, change_id, first=previous is None)
        now = now_iso()
        record = CredentialRecord.model_validate(
            {
                "status": "valid",
                "maskedValue": masked,
                "secretVersionId": version_id,
                "expiresOn": expires_on,
                "lastUpdatedAt": now,
                "createdBy": caller.actor,
                "lastCheck": LastCheck(at=now, outcome="ok"),
                **facts,
            }
        )
        _commit(records, tenant_id, credential, record, change_id, event("succeeded", None))
    except ChangeInProgress:
        # A first save whose lock an uninstall took away must not leave its new secret behind.
        if previous is None and not records.holds(tenant_id, credential):
            secrets.schedule_deletion(tenant_id, credential)
        # Recorded unless an uninstall took the lock: its installation's history stays gone.
        record_refused(svc, tenant_id, lambda: event("failed", ChangeInProgress.code))
        raise
    except CredentialRejected as exc:
        # Atlassian's answer stands even if it cannot be recorded (the app was uninstalled meanwhile).
        _record_failure(records, tenant_id, credential, change_id, event("rejected", exc.code))
        metrics.add_metric(name="CredentialRejected", unit="Count", value=1)
        raise
    except Exception as exc:
        code = exc.code if isinstance(exc, ApiError) else "internal_error"
        _record_failure(records, tenant_id, credential, change_id, event("failed", code))
        raise
    try:
        if previous is not None:  # a first save is AWSCURRENT already (Secrets.stage)
            secrets.promote(tenant_id, credential, version_id, previous.secret_version_id)
    except Exception:  # the change is committed; the staging labels are repaired by the next change
        logger.exception("Promoting the new secret version to AWSCURRENT failed")
    metrics.add_metric(name="CredentialChanged", unit="Count", value=1)
    logger.info("Credential changed", extra={"credential": credential, "tenant": tenant_id})
    return record


def _commit(
    records: Records,
    tenant_id: str,
    credential: CredentialName,
    record: CredentialRecord,
    change_id: str,
    event: HistoryEvent,
) -> None:
    try:
        records.commit(tenant_id, credential, record, change_id, event)
    except ChangeInProgress:
        raise
    except Exception:
        # The outcome is unknown (the call may have gone through before the failure): look.
        if not records.committed(tenant_id, credential, record.secret_version_id):
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


def _record_failure(
    records: Records, tenant_id: str, credential: CredentialName, change_id: str, event: HistoryEvent
) -> None:
    try:
        records.finish_failed(tenant_id, credential, change_id, event)
    except ChangeInProgress:  # nothing of ours left to record it on: the app was uninstalled meanwhile
        logger.warning("A failed change was not recorded: its lock was gone", extra={"tenant": tenant_id})
    except Exception:  # best effort: AWS itself may be what failed; the lock expires on its own
        logger.exception("Could not record a failed change")


def record_refused(svc: Services, tenant_id: str, event: Callable[[], HistoryEvent]) -> None:
    """Record an attempt refused with 409 change_in_progress (without the lock, which is another's)."""
    try:
        if not svc.history.add_event_if_installed(tenant_id, event()):
            logger.warning("A refused attempt was not recorded: the app was uninstalled meanwhile")
    except Exception:  # best effort: the answer is 409 either way
        logger.exception("Could not record an attempt refused while another change was under way")
