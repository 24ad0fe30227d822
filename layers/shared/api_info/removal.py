"""Removing what is stored: one credential (DELETE), or a whole installation (the uninstall event)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any, get_args

from api_info.auth import Caller
from api_info.change import history_event, record_refused
from api_info.errors import ChangeInProgress
from api_info.models import CredentialName, CredentialRecord, HistoryEvent
from api_info.names import with_known_name
from api_info.observability import logger, metrics
from api_info.status import key_info, token_info
from api_info.wiring import Services


def delete_credential(svc: Services, caller: Caller, credential: CredentialName) -> dict[str, Any]:
    """Remove a stored credential: its record goes now, its secret is scheduled for deletion."""
    records, tenant_id, change_id = svc.records, caller.tenant.installation_id, str(uuid.uuid4())

    def event(outcome: str, record: CredentialRecord | None) -> HistoryEvent:
        # A delete looks nobody up: its administrator by the name the record it read already holds.
        named = replace(caller, actor=with_known_name(caller.actor, [record]))
        code = ChangeInProgress.code if outcome == "failed" else None
        return history_event(named, credential, "deleted", outcome, code, _masked(record))

    try:
        locked = records.acquire_lock(tenant_id, credential, change_id)
    except ChangeInProgress:  # a change of it is under way: record the attempt, leave that change's lock
        record_refused(svc, tenant_id, lambda: event("failed", records.load(tenant_id, credential)))
        raise
    previous = locked.record
    done = event("succeeded", previous)
    try:
        records.delete(tenant_id, credential, change_id, done if previous else None)
        # The value in use waits out the recovery window; former and never-committed values go at once.
        svc.secrets.delete_now(locked.leftovers)
        if previous:
            svc.secrets.schedule_deletion([svc.secrets.name_of(tenant_id, credential, previous)])
    except ChangeInProgress:
        if records.holds(tenant_id, credential):
            record_refused(svc, tenant_id, lambda: event("failed", previous))
            raise
        # An uninstall removed everything meanwhile: the credential is gone, as asked.
        logger.warning("The credential was removed by an uninstall meanwhile", extra={"tenant": tenant_id})
        previous = None
    if previous:
        metrics.add_metric(name="CredentialDeleted", unit="Count", value=1)
        logger.info("Credential deleted", extra={"credential": credential, "tenant": tenant_id})
    else:
        # Nothing was stored, yet the contract's history records every delete. Only while the tenant
        # stands: a delete that an uninstall overtook must not bring its history back.
        svc.history.add_event_if_installed(tenant_id, done)
    info = key_info(None, svc.settings) if credential == "apiKey" else token_info(None, svc.settings)
    return {credential: info.model_dump(mode="json", by_alias=True)}


def _masked(record: CredentialRecord | None) -> str | None:
    return record.masked_value if record else None


def uninstall(svc: Services, caller: Caller) -> None:
    """Forget an installation: every item goes, and its secrets are scheduled for deletion."""
    tenant_id = caller.tenant.installation_id
    # The secrets the items name, read before the items go.
    legacy = {
        credential: svc.secrets.legacy_name(tenant_id, credential) for credential in get_args(CredentialName)
    }
    names = svc.records.secret_names(tenant_id, legacy)
    removed = svc.tenants.delete(tenant_id)
    svc.secrets.schedule_deletion(names)
    logger.info("Installation removed", extra={"tenant": caller.tenant.installation_id, "items": removed})
