"""People by name without asking Atlassian: the display name the service already holds for an account.

A change looks its administrator up in Jira once it has passed Atlassian's validation; a refused change,
a delete and an on-demand check look nobody up, and carry the name learnt before instead (who saved a
credential, or the token's owner), so that the history names a person the same way on every line.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import TYPE_CHECKING

from api_info.auth import Caller
from api_info.credentials import kinds
from api_info.credentials.ref import CredentialRef
from api_info.observability import logger
from api_info.records import Actor, CredentialRecord

if TYPE_CHECKING:
    from api_info.store.records import Records


def known_name(records: Iterable[CredentialRecord | None], account_id: str) -> str | None:
    """The display name the records hold for an Atlassian account, or None when none is known."""
    for record in records:
        if record is None:
            continue
        for holder in (record.created_by, record.account):
            if holder is not None and holder.account_id == account_id and holder.display_name:
                return holder.display_name
    return None


def with_known_name(actor: Actor, records: Iterable[CredentialRecord | None]) -> Actor:
    """The actor, named from the records when it is an Atlassian account without a name yet."""
    if actor.type != "atlassian" or not actor.account_id or actor.display_name:
        return actor
    name = known_name(records, actor.account_id)
    return replace(actor, display_name=name) if name else actor


def with_stored_name(records: Records, caller: Caller) -> Caller:
    """The caller, its actor named from the tenant's stored records; best effort (a read per kind)."""
    actor = caller.actor
    if actor.type != "atlassian" or not actor.account_id or actor.display_name:
        return caller
    tenant_id = caller.tenant.installation_id
    try:
        stored = [records.load(CredentialRef(tenant_id, kind)) for kind in kinds()]
    except Exception:  # the history still records the account id
        logger.exception("Could not read the stored records to name the caller")
        return caller
    return replace(caller, actor=with_known_name(actor, stored))
