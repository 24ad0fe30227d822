"""The read-only use cases: the info page of a tenant, and a page of its history."""

from __future__ import annotations

from typing import Any

from api_info.auth import Caller
from api_info.page import info_page
from api_info.records import Tenant
from api_info.services import Services
from api_info.status import now_iso


def show_info(svc: Services, caller: Caller) -> dict[str, Any]:
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


def history(svc: Services, caller: Caller, limit: int, cursor: str | None) -> dict[str, Any]:
    """A page of the caller's tenant's audit trail, newest first, as JSON (models.HistoryResponse)."""
    events, next_cursor = svc.history.page(caller.tenant.installation_id, limit, cursor)
    return {"events": [e.shown() for e in events], "nextCursor": next_cursor}
