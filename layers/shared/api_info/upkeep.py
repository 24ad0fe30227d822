"""Keeping each credential's secrets in order, for every use case that leaves some behind: delete the
secrets no record uses any more, and move a value out of the tenant's former fixed secret into one of
its own. Best effort: what is left stays listed on the credential's item, for the next check or change.
"""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import SecretStr

from api_info.credentials.ref import CredentialRef
from api_info.observability import logger
from api_info.records import CredentialRecord
from api_info.services import Services


def retire_secrets(svc: Services, ref: CredentialRef, names: set[str]) -> None:
    """Delete secrets no record uses any more, without a recovery window, then drop them from the
    record; best effort: what is left stays listed, and the next check or change deletes it."""
    if not names:
        return
    try:
        svc.secrets.delete_now(names)
        svc.records.forget_secrets(ref, names)
    except Exception:
        logger.exception("Former secrets were not deleted yet", extra={"tenant": ref.tenant_id})


def tidy_secrets(
    svc: Services, ref: CredentialRef, record: CredentialRecord, secret: Mapping[str, SecretStr]
) -> None:
    """Delete former secrets a crash left behind, and move a value still in the tenant's former fixed
    secret (whose older versions may hold a former token owner) to a secret of its own, then delete the
    fixed one without a recovery window. Best effort: the next check tries again."""
    try:
        if record.retired_secrets:
            retire_secrets(svc, ref, set(record.retired_secrets))
        if record.secret_name is not None:
            return
        name = svc.secrets.new_name(ref, record.secret_version_id)
        if not svc.records.stage_move(ref, record, name):
            return  # a change is under way or came first: it gives the value a secret of its own
        svc.secrets.create(name, ref, secret, record.secret_version_id)
        former = svc.secrets.fixed_name(ref)
        moved = svc.records.commit_move(ref, record, name, former)
        retire_secrets(svc, ref, {former} if moved else {name})
        if moved:
            logger.info(
                "Secret moved to one of its own", extra={"tenant": ref.tenant_id, "credential": ref.kind.name}
            )
    except Exception:
        logger.exception("The credential's secrets were not tidied up", extra={"tenant": ref.tenant_id})
