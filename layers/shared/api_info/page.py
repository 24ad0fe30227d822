"""The API Information page of a tenant, from what is stored: each kind's credential as the page shows
it, and the links. Reads and records nothing (info.show_info and checks.check_now read for it)."""

from __future__ import annotations

from api_info.credentials import kinds
from api_info.models import CredentialInfo, InfoResponse, Links, Tenant, TenantInfo
from api_info.settings import Settings
from api_info.store.tenants import TenantState


def credential_infos(settings: Settings, state: TenantState) -> dict[str, CredentialInfo]:
    """Every kind's credential as the page shows it, by the kind's name."""
    return {kind.name: kind.info(state.credentials.get(kind), settings) for kind in kinds()}


def info_page(settings: Settings, tenant: Tenant, state: TenantState) -> InfoResponse:
    """The answer of GET /api-info for a tenant whose credentials `state` holds."""
    links: dict[str, str] = {}
    for kind in kinds():
        links |= kind.links(state.credentials.get(kind))
    return InfoResponse.model_validate(
        {
            "tenant": TenantInfo(
                installation_id=tenant.installation_id, cloud_id=tenant.cloud_id, site_url=tenant.site_url
            ),
            **credential_infos(settings, state),
            "links": Links.model_validate(links),
        }
    )
