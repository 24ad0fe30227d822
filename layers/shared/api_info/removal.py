"""Removing what is stored: one credential (DELETE), or a whole installation (the uninstall event)."""

from __future__ import annotations

import uuid
from functools import partial
from typing import Any

from api_info.audit import history_event, installation_removed, record_refused
from api_info.auth import Caller
from api_info.credentials import CredentialKind
from api_info.credentials.ref import CredentialRef
from api_info.errors import ChangeInProgress
from api_info.names import with_known_name
from api_info.observability import logger, metrics
from api_info.records import CredentialRecord, HistoryEvent
from api_info.services import Services


def delete_credential(svc: Services, caller: Caller, kind: CredentialKind) -> dict[str, Any]:
    """Remove a stored credential: its record goes now, its secret is scheduled for deletion; the answer
    as JSON (the kind's `response`)."""
    records, ref, change_id = (
        svc.records,
        CredentialRef(caller.tenant.installation_id, kind),
        str(uuid.uuid4()),
    )
    event = partial(_deleted, caller, kind)
    try:
        locked = records.acquire_lock(ref, change_id)
    except ChangeInProgress:  # a change of it is under way: record the attempt, leave that change's lock
        record_refused(svc, ref.tenant_id, lambda: event("failed", records.load(ref)))
        raise
    previous = locked.record
    done = event("succeeded", previous)
    try:
        records.delete(ref, change_id, done if previous else None)
        # The value in use waits out the recovery window; former and never-committed values go at once.
        svc.secrets.delete_now(locked.leftovers)
        if previous:
            svc.secrets.schedule_deletion([svc.secrets.name_of(ref, previous)])
    except ChangeInProgress:
        if records.holds(ref):
            record_refused(svc, ref.tenant_id, partial(event, "failed", previous))
            raise
        # An uninstall removed everything meanwhile: the credential is gone, as asked.
        logger.warning(
            "The credential was removed by an uninstall meanwhile", extra={"tenant": ref.tenant_id}
        )
        previous = None
    if previous:
        metrics.add_metric(name="CredentialDeleted", unit="Count", value=1)
        logger.info("Credential deleted", extra={"credential": kind.name, "tenant": ref.tenant_id})
    else:
        # Nothing was stored, yet the contract's history records every delete. Only while the tenant
        # stands: a delete that an uninstall overtook must not bring its history back.
        svc.history.add_event_if_installed(ref.tenant_id, done)
    return kind.answer(None, svc.settings)


def _deleted(
    caller: Caller, kind: CredentialKind, outcome: str, record: CredentialRecord | None
) -> HistoryEvent:
    # A delete looks nobody up: its administrator by the name the record it read already holds.
    actor = with_known_name(caller.actor, [record])
    code = ChangeInProgress.code if outcome == "failed" else None
    return history_event(actor, kind, "deleted", outcome, code, record.masked_value if record else None)


def uninstall(svc: Services, caller: Caller) -> None:
    """Forget an installation: every item goes, and its secrets are scheduled for deletion."""
    tenant_id = caller.tenant.installation_id
    # The secrets the items name (in use, staged or retired), read before the items go.
    names: set[str] = set()
    for ref, locked in svc.records.held(tenant_id).items():
        names |= locked.leftovers
        if locked.record:
            names.add(svc.secrets.name_of(ref, locked.record))
    removed = svc.tenants.delete(tenant_id)
    svc.secrets.schedule_deletion(names)
    installation_removed(tenant_id, removed)
