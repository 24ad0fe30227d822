"""The use cases behind the routes: show the info page, change the key, change the token."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, get_args

from api_info.auth import Caller
from api_info.errors import (
    ApiError,
    BadRequest,
    ChangeInProgress,
    CredentialRejected,
    IdempotencyKeyReused,
    RateLimited,
)
from api_info.models import (
    ApiKeyInfo,
    ApiTokenInfo,
    ChangeKeyRequest,
    ChangeKeyResponse,
    ChangeTokenRequest,
    ChangeTokenResponse,
    CredentialName,
    CredentialRecord,
    HistoryEntry,
    HistoryEvent,
    HistoryResponse,
    InfoResponse,
    LastCheck,
    Links,
    Status,
    Tenant,
    TenantInfo,
    mask,
)
from api_info.observability import logger, metrics
from api_info.settings import Settings
from api_info.store.records import Records
from api_info.wiring import Services, idempotency_layer

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

API_KEY_GUIDE = "https://support.atlassian.com/organization-administration/docs/manage-an-organization-with-the-admin-apis/"
MANAGE_API_TOKENS = "https://id.atlassian.com/manage-profile/security/api-tokens"
API_TOKEN_GUIDE = (
    "https://support.atlassian.com/atlassian-account/docs/manage-api-tokens-for-your-atlassian-account/"
)
CHANGE_NAMESPACE = uuid.UUID("5f1c7a62-0d0e-4d43-9a53-64b9c8f0a1d7")


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- show ---------------------------------------------------------------------------------------


def show_info(svc: Services, caller: Caller) -> InfoResponse:
    """The info page of the caller's tenant; records the tenant when it is first seen or its site moved."""
    state = svc.tenants.load(caller.tenant.installation_id)
    tenant = state.tenant
    if tenant is None or _site_moved(tenant, caller.tenant):
        svc.tenants.record(caller.tenant, now_iso())
        tenant = Tenant(
            installation_id=caller.tenant.installation_id,
            cloud_id=caller.tenant.cloud_id or (tenant.cloud_id if tenant else None),
            site_url=caller.tenant.site_url or (tenant.site_url if tenant else None),
        )
    key = state.credentials.get("apiKey")
    token = state.credentials.get("apiToken")
    return InfoResponse(
        tenant=TenantInfo(
            installation_id=tenant.installation_id, cloud_id=tenant.cloud_id, site_url=tenant.site_url
        ),
        api_key=key_info(key, svc.settings),
        api_token=token_info(token, svc.settings),
        links=Links(
            manage_api_keys=(
                f"https://admin.atlassian.com/o/{key.organization.id}/api-keys"
                if key and key.organization
                else "https://admin.atlassian.com/"
            ),
            api_key_guide=API_KEY_GUIDE,
            manage_api_tokens=MANAGE_API_TOKENS,
            api_token_guide=API_TOKEN_GUIDE,
        ),
    )


def _site_moved(stored: Tenant, seen: Tenant) -> bool:
    """Whether a verified token names another site URL or cloud id than the recorded ones (a renamed site)."""
    return bool(
        (seen.site_url and seen.site_url != stored.site_url)
        or (seen.cloud_id and seen.cloud_id != stored.cloud_id)
    )


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


def _common(record: CredentialRecord | None, settings: Settings) -> dict[str, Any]:
    if record is None:
        return {
            "status": "not_configured",
            "masked_value": None,
            "expires_on": None,
            "last_updated_at": None,
            "created_by": None,
            "last_check": None,
        }
    return {
        "status": status_of(record, settings),
        "masked_value": record.masked_value,
        "expires_on": record.expires_on,
        "last_updated_at": record.last_updated_at,
        "created_by": record.created_by.public(),
        "last_check": record.last_check,
    }


def key_info(record: CredentialRecord | None, settings: Settings) -> ApiKeyInfo:
    """The API key as the info page shows it."""
    return ApiKeyInfo(**_common(record, settings), organization=record.organization if record else None)


def token_info(record: CredentialRecord | None, settings: Settings) -> ApiTokenInfo:
    """The API token as the info page shows it."""
    return ApiTokenInfo(
        **_common(record, settings),
        email=record.email if record else None,
        account=record.account if record else None,
    )


# --- change -------------------------------------------------------------------------------------


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
    body = _once(svc, caller, "apiKey", fields, idempotency_key, lambda_context, run)
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
    body = _once(svc, caller, "apiToken", fields, idempotency_key, lambda_context, run)
    return ChangeTokenResponse.model_validate(body)


def _once(
    svc: Services,
    caller: Caller,
    credential: CredentialName,
    fields: dict[str, str | None],
    idempotency_key: str | None,
    lambda_context: LambdaContext | None,
    run: Callable[[str], dict[str, Any]],
) -> dict[str, Any]:
    """Run a change, at most once per Idempotency-Key: the first answer is replayed for the same body,
    and the key is refused for another body. Transient failures are not remembered, so a retry converges."""
    if idempotency_key is None:
        return run(str(uuid.uuid4()))
    # Imported here: only keyed changes use Powertools' idempotency, and get-info never does.
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyValidationError,
    )

    tenant_id = caller.tenant.installation_id
    canonical = json.dumps(fields, sort_keys=True).encode()
    fingerprint = hmac.new(svc.secrets.fingerprint_key(), canonical, hashlib.sha256).hexdigest()
    # The change id (lock owner, ClientRequestToken) is the same on every retry of the same request.
    change_id = str(uuid.uuid5(CHANGE_NAMESPACE, f"{tenant_id}|{credential}|{idempotency_key}|{fingerprint}"))
    config = IdempotencyConfig(
        event_key_jmespath="[tenant, credential, key]",
        payload_validation_jmespath="fingerprint",
        expires_after_seconds=svc.settings.idempotency_expiry_seconds,
    )
    if lambda_context is not None:
        config.register_lambda_context(lambda_context)

    @idempotent_function(  # type: ignore[untyped-decorator]
        data_keyword_argument="request",
        persistence_store=idempotency_layer(svc.settings, tenant_id),
        config=config,
    )
    def once(request: dict[str, str]) -> dict[str, Any]:
        try:
            done["body"] = run(change_id)
            return {"status": 200, "body": done["body"]}
        except CredentialRejected as exc:  # Atlassian's "no" is an answer too: replay it, don't ask again
            return {"status": 422, "code": exc.code, "message": exc.message}

    done: dict[str, dict[str, Any]] = {}

    request = {
        "tenant": tenant_id,
        "credential": credential,
        "key": idempotency_key,
        "fingerprint": fingerprint,
    }
    try:
        outcome = once(request=request)
    except IdempotencyValidationError:
        raise IdempotencyKeyReused() from None
    except IdempotencyAlreadyInProgressError:
        raise ChangeInProgress() from None
    except Exception:
        if "body" not in done:
            raise
        # The change is committed; only saving its answer for replays failed. A retry re-runs it harmlessly.
        logger.exception("Could not save the answer of a committed change for Idempotency-Key replays")
        return done["body"]
    if outcome["status"] != 200:
        raise CredentialRejected(outcome["code"], outcome["message"])
    body: dict[str, Any] = outcome["body"]
    return body


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
        return _event(caller, credential, "changed", outcome, code, masked)

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
        _record_busy(svc, tenant_id, lambda: event("failed", ChangeInProgress.code))
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
        _record_busy(svc, tenant_id, lambda: event("failed", ChangeInProgress.code))
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


def _event(
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


def _record_busy(svc: Services, tenant_id: str, event: Callable[[], HistoryEvent]) -> None:
    """Record an attempt refused with 409 change_in_progress (without the lock, which is another's)."""
    try:
        if not svc.history.add_event_if_installed(tenant_id, event()):
            logger.warning("A refused attempt was not recorded: the app was uninstalled meanwhile")
    except Exception:  # best effort: the answer is 409 either way
        logger.exception("Could not record an attempt refused while another change was under way")


# --- delete, uninstall, history -----------------------------------------------------------------


def delete_credential(svc: Services, caller: Caller, credential: CredentialName) -> dict[str, Any]:
    """Remove a stored credential: its record goes now, its secret is scheduled for deletion."""
    records, tenant_id, change_id = svc.records, caller.tenant.installation_id, str(uuid.uuid4())

    def busy(masked: str | None) -> HistoryEvent:
        return _event(caller, credential, "deleted", "failed", ChangeInProgress.code, masked)

    try:
        previous = records.acquire_lock(tenant_id, credential, change_id)
    except ChangeInProgress:  # a change of it is under way: record the attempt, leave that change's lock
        _record_busy(svc, tenant_id, lambda: busy(_masked(records.load(tenant_id, credential))))
        raise
    masked = previous.masked_value if previous else None
    event = _event(caller, credential, "deleted", "succeeded", None, masked) if previous else None
    try:
        records.delete(tenant_id, credential, change_id, event)
        svc.secrets.schedule_deletion(tenant_id, credential)
    except ChangeInProgress:
        if records.holds(tenant_id, credential):
            _record_busy(svc, tenant_id, lambda: busy(masked))
            raise
        # An uninstall removed everything meanwhile: the credential is gone, as asked.
        logger.warning("The credential was removed by an uninstall meanwhile", extra={"tenant": tenant_id})
        previous = None
    if previous:
        metrics.add_metric(name="CredentialDeleted", unit="Count", value=1)
        logger.info("Credential deleted", extra={"credential": credential, "tenant": tenant_id})
    info = key_info(None, svc.settings) if credential == "apiKey" else token_info(None, svc.settings)
    return {credential: info.model_dump(mode="json", by_alias=True)}


def _masked(record: CredentialRecord | None) -> str | None:
    return record.masked_value if record else None


def uninstall(svc: Services, caller: Caller) -> None:
    """Forget an installation: every item goes, and its secrets are scheduled for deletion."""
    tenant_id = caller.tenant.installation_id
    removed = svc.tenants.delete(tenant_id)
    for credential in get_args(CredentialName):
        svc.secrets.schedule_deletion(tenant_id, credential)
    logger.info("Installation removed", extra={"tenant": caller.tenant.installation_id, "items": removed})


def history(svc: Services, caller: Caller, limit: int, cursor: str | None) -> HistoryResponse:
    """A page of the caller's tenant's audit trail, newest first."""
    events, next_cursor = svc.history.page(caller.tenant.installation_id, limit, cursor)
    return HistoryResponse(
        events=[
            HistoryEntry(
                at=e.at,
                actor=e.actor.public(),
                credential=e.credential,
                action=e.action,
                outcome=e.outcome,
                code=e.code,
                masked_value=e.masked_value,
            )
            for e in events
        ],
        next_cursor=next_cursor,
    )
