"""The read-only use cases: the info page of a tenant, and a page of its history."""

from __future__ import annotations

from api_info.auth import Caller
from api_info.models import HistoryEntry, HistoryResponse, InfoResponse, Tenant
from api_info.page import info_page
from api_info.services import Services
from api_info.status import now_iso


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
    return info_page(svc.settings, tenant, state)


def _site_moved(stored: Tenant, seen: Tenant) -> bool:
    """Whether a verified token names another site URL or cloud id than the recorded ones (a renamed site)."""
    return bool(
        (seen.site_url and seen.site_url != stored.site_url)
        or (seen.cloud_id and seen.cloud_id != stored.cloud_id)
    )


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
