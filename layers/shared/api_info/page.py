"""The API Information page of a tenant, from what is stored: each kind's credential as the page shows
it, and the links. Reads and records nothing (info.show_info and checks.check_now read for it).

The page is plain JSON, the shape models.InfoResponse documents: building it loads no pydantic.
"""

from __future__ import annotations

from typing import Any

from api_info.credentials import kinds
from api_info.records import Tenant
from api_info.settings import Settings
from api_info.store.tenants import TenantState


def info_page(settings: Settings, tenant: Tenant, state: TenantState) -> dict[str, Any]:
    """The answer of GET /api-info (JSON) for a tenant whose credentials `state` holds."""
    links: dict[str, str] = {}
    for kind in kinds():
        links |= kind.links(state.credentials.get(kind))
    return {
        "tenant": {
            "installationId": tenant.installation_id,
            "cloudId": tenant.cloud_id,
            "siteUrl": tenant.site_url,
        },
        **{kind.name: kind.info(state.credentials.get(kind), settings) for kind in kinds()},
        "links": links,
    }
