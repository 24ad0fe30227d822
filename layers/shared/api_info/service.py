"""The use cases behind the routes: show the info page, change the key, change the token."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any

from api_info.atlassian import AtlassianClient
from api_info.auth import AdminCheck, Caller, TokenVerifier
from api_info.errors import ApiError, AtlassianError, AtlassianUnavailable, CredentialRejected
from api_info.models import (
    ApiKeyInfo,
    ApiTokenInfo,
    ChangeKeyRequest,
    ChangeKeyResponse,
    ChangeTokenRequest,
    ChangeTokenResponse,
    CredentialName,
    CredentialRecord,
    HistoryEvent,
    InfoResponse,
    LastCheck,
    Links,
    Status,
    TenantInfo,
    mask,
)
from api_info.observability import logger, metrics
from api_info.settings import Settings, get_settings
from api_info.store import CredentialStore

API_KEY_GUIDE = "https://support.atlassian.com/organization-administration/docs/manage-an-organization-with-the-admin-apis/"
MANAGE_API_TOKENS = "https://id.atlassian.com/manage-profile/security/api-tokens"
API_TOKEN_GUIDE = (
    "https://support.atlassian.com/atlassian-account/docs/manage-api-tokens-for-your-atlassian-account/"
)


@dataclass(frozen=True)
class Services:
    """Everything a use case needs, built once per container."""

    settings: Settings
    store: CredentialStore
    atlassian: AtlassianClient
    verifier: TokenVerifier
    admin_check: AdminCheck


@cache
def services() -> Services:
    """The container's services, created on first use (tests call `services.cache_clear()`)."""
    settings = get_settings()
    atlassian = AtlassianClient(settings)
    return Services(
        settings=settings,
        store=CredentialStore(settings),
        atlassian=atlassian,
        verifier=TokenVerifier(
            jwks_url=settings.forge_jwks_url,
            app_id=settings.forge_app_id,
            timeout=settings.atlassian_timeout_seconds,
        ),
        admin_check=AdminCheck(atlassian, settings.admin_cache_seconds),
    )


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- show ---------------------------------------------------------------------------------------


def show_info(svc: Services, caller: Caller) -> InfoResponse:
    """The info page of the caller's tenant; records the tenant the first time it is seen."""
    state = svc.store.load(caller.tenant.installation_id)
    if state.tenant is None:
        svc.store.record_tenant(caller.tenant, now_iso())
    tenant = state.tenant or caller.tenant
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


def change_key(svc: Services, caller: Caller, request: ChangeKeyRequest) -> ChangeKeyResponse:
    """Validate a new Admin API key with Atlassian, then store it in place of the old one."""

    def validate() -> dict[str, Any]:
        return {"organization": svc.atlassian.validate_key(request.api_key.get_secret_value()).organization}

    record = _change(
        svc,
        caller,
        "apiKey",
        secret={"apiKey": request.api_key.get_secret_value()},
        expires_on=request.expires_on,
        validate=validate,
    )
    return ChangeKeyResponse(api_key=key_info(record, svc.settings))


def change_token(svc: Services, caller: Caller, request: ChangeTokenRequest) -> ChangeTokenResponse:
    """Validate a new API token and its email against the tenant's Jira site, then store it."""

    def validate() -> dict[str, Any]:
        site_url, cloud_id = caller.tenant.site_url, caller.tenant.cloud_id
        if not site_url or not cloud_id:
            raise ApiError("The Jira site of this installation is not known yet. Reopen the app from Jira.")
        facts = svc.atlassian.validate_token(
            site_url=site_url,
            cloud_id=cloud_id,
            email=request.email,
            api_token=request.api_token.get_secret_value(),
        )
        return {"email": request.email, "account": facts.account}

    record = _change(
        svc,
        caller,
        "apiToken",
        secret={"email": request.email, "apiToken": request.api_token.get_secret_value()},
        expires_on=request.expires_on,
        validate=validate,
    )
    return ChangeTokenResponse(api_token=token_info(record, svc.settings))


def _change(
    svc: Services,
    caller: Caller,
    credential: CredentialName,
    *,
    secret: dict[str, str],
    expires_on: str | None,
    validate: Callable[[], dict[str, Any]],
) -> CredentialRecord:
    store, tenant_id = svc.store, caller.tenant.installation_id
    secret_value = secret["apiKey"] if credential == "apiKey" else secret["apiToken"]
    masked = mask(secret_value)
    change_id = str(uuid.uuid4())

    def event(outcome: str, code: str | None) -> HistoryEvent:
        return HistoryEvent.model_validate(
            {
                "at": now_iso(),
                "actor": caller.actor,
                "credential": credential,
                "action": "changed",
                "outcome": outcome,
                "code": code,
                "maskedValue": masked,
            }
        )

    store.record_tenant(caller.tenant, now_iso())
    previous = store.acquire_lock(tenant_id, credential, change_id)
    try:
        facts = validate()
        version_id = store.stage_secret(tenant_id, credential, secret, change_id)
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
        store.commit(tenant_id, credential, record, change_id, event("succeeded", None))
    except CredentialRejected as exc:
        store.finish_failed(tenant_id, credential, change_id, event("rejected", exc.code))
        metrics.add_metric(name="CredentialRejected", unit="Count", value=1)
        raise
    except (AtlassianError, AtlassianUnavailable) as exc:
        store.finish_failed(tenant_id, credential, change_id, event("failed", exc.code))
        raise
    except Exception:
        _record_failure(store, tenant_id, credential, change_id, event("failed", "internal_error"))
        raise
    try:
        store.promote_secret(
            tenant_id, credential, version_id, previous.secret_version_id if previous else None
        )
    except Exception:  # the change is committed; the staging labels are fixed by the next change
        logger.exception("Promoting the new secret version to AWSCURRENT failed")
    metrics.add_metric(name="CredentialChanged", unit="Count", value=1)
    logger.info("Credential changed", extra={"credential": credential, "tenant": tenant_id})
    return record


def _record_failure(
    store: CredentialStore, tenant_id: str, credential: CredentialName, change_id: str, event: HistoryEvent
) -> None:
    try:
        store.finish_failed(tenant_id, credential, change_id, event)
    except Exception:  # best effort: AWS itself may be what failed; the lock expires on its own
        logger.exception("Could not record a failed change")
