"""The audit trail: the history events of changes, checks and deletes, the events the app is sent
when a credential's status changes, and the log of a removed installation. Never a secret: masked
values, statuses and ids only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from api_info.credentials import CredentialKind
from api_info.credentials.ref import CredentialRef
from api_info.observability import logger
from api_info.records import Actor, CredentialRecord, HistoryEvent, LastCheck, Tenant
from api_info.services import CheckServices, Services
from api_info.status import now_iso

if TYPE_CHECKING:
    from api_info.check_results import CredentialCheck

STATUS_CHANGED = "Credential status changed"


def history_event(
    actor: Actor,
    kind: CredentialKind,
    action: str,
    outcome: str,
    code: str | None,
    masked: str | None,
    at: str | None = None,
) -> HistoryEvent:
    """One line of the tenant's history: who did what to which credential, and how it went."""
    return HistoryEvent.from_item(
        {
            "at": at or now_iso(),
            "actor": actor,
            "credential": kind.name,
            "action": action,
            "outcome": outcome,
            "code": code,
            "maskedValue": masked,
        }
    )


def record_refused(svc: Services, tenant_id: str, event: Callable[[], HistoryEvent]) -> None:
    """Record an attempt refused with 409 change_in_progress (without the lock, which is another's)."""
    try:
        if not svc.history.add_event_if_installed(tenant_id, event()):
            logger.warning("A refused attempt was not recorded: the app was uninstalled meanwhile")
    except Exception:  # best effort: the answer is 409 either way
        logger.exception("Could not record an attempt refused while another change was under way")


def announce_status(
    svc: CheckServices,
    tenant: Tenant,
    record: CredentialRecord,
    result: CredentialCheck,
    last_check: LastCheck,
) -> None:
    """Publish a "Credential status changed" event, then remember the status told: if EventBridge fails,
    the next check announces it again."""
    # Imported here: only a check announces, and the event's models load pydantic (a change never does).
    from api_info.messages import CredentialStatusChanged
    from api_info.models import TenantInfo

    tenant_id, kind = tenant.installation_id, result.kind
    svc.events.publish(
        STATUS_CHANGED,
        CredentialStatusChanged(
            tenant=TenantInfo(installation_id=tenant_id, cloud_id=tenant.cloud_id, site_url=tenant.site_url),
            credential=kind.name,
            previous_status=result.previous,
            status=result.status,
            expires_on=record.expires_on,
            masked_value=record.masked_value,
            last_check=last_check.shown(),  # validated into its model
        ).model_dump(mode="json", by_alias=True),
    )
    svc.core.tenants.mark_notified(CredentialRef(tenant_id, kind), result.status)
    logger.info(
        "Credential status changed",
        extra={"tenant": tenant_id, "credential": kind.name, "from": result.previous, "to": result.status},
    )


def installation_removed(tenant_id: str, items: int) -> None:
    """The last line of an installation's trail: its history went with it, so only the log keeps it."""
    logger.info("Installation removed", extra={"tenant": tenant_id, "items": items})
