"""A change at most once per Idempotency-Key, on Powertools' `idempotent_function`.

The key of a record is the tenant, the credential and the Idempotency-Key; the body is told apart by an
HMAC fingerprint of its fields (never the secret itself, masked or not), so that a key reused with
another body is refused. The records live in the tenant's own partition of the credentials table
(Services.idempotency_store), so an uninstall removes them with the rest.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from api_info.credentials.ref import CredentialRef
from api_info.errors import ChangeInProgress, CredentialRejected, IdempotencyKeyReused
from api_info.observability import logger
from api_info.services import Services

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

Run = Callable[[str], dict[str, Any]]  # the change under a change id, answered as its route answers


@dataclass
class Attempt:
    """One keyed run: its answer, kept in case saving it for replays fails after the change committed."""

    body: dict[str, Any] | None = None


def once(
    svc: Services,
    ref: CredentialRef,
    fields: Mapping[str, str | None],
    idempotency_key: str | None,
    lambda_context: LambdaContext | None,
    run: Run,
) -> dict[str, Any]:
    """Run a change, at most once per Idempotency-Key: the first answer is replayed for the same body,
    and the key is refused for another body. Transient failures are not remembered, so a retry converges."""
    if idempotency_key is None:
        return run(str(uuid.uuid4()))
    # Imported here: only keyed changes use Powertools' idempotency, and get-info never does.
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyValidationError,
    )

    canonical = json.dumps(dict(fields), sort_keys=True).encode()
    fingerprint = hmac.new(svc.secrets.fingerprint_key(), canonical, hashlib.sha256).hexdigest()
    config = IdempotencyConfig(
        event_key_jmespath="[tenant, credential, key]",
        payload_validation_jmespath="fingerprint",
        expires_after_seconds=svc.settings.idempotency_expiry_seconds,
    )
    if lambda_context is not None:
        config.register_lambda_context(lambda_context)
    keyed = idempotent_function(
        data_keyword_argument="request",
        persistence_store=svc.idempotency_store(ref.tenant_id),
        config=config,
    )(_run_keyed)
    request = {
        "tenant": ref.tenant_id,
        "credential": ref.kind.name,
        "key": idempotency_key,
        "fingerprint": fingerprint,
    }
    attempt = Attempt()
    try:
        # The change id (lock owner, ClientRequestToken) is the same on every retry of the same request.
        outcome = keyed(
            request=request, run=run, change_id=ref.change_id(idempotency_key, fingerprint), attempt=attempt
        )
    except IdempotencyValidationError:
        raise IdempotencyKeyReused() from None
    except IdempotencyAlreadyInProgressError:
        raise ChangeInProgress() from None
    except Exception:
        if attempt.body is None:
            raise
        # The change is committed; only saving its answer for replays failed. A retry re-runs it harmlessly.
        logger.exception("Could not save the answer of a committed change for Idempotency-Key replays")
        return attempt.body
    if outcome["status"] != 200:
        raise CredentialRejected(outcome["code"], outcome["message"])
    body: dict[str, Any] = outcome["body"]
    return body


def _run_keyed(*, request: dict[str, str], run: Run, change_id: str, attempt: Attempt) -> dict[str, Any]:
    """What Powertools runs once per key and body (`request`: the key's fields), and saves for replays."""
    try:
        attempt.body = run(change_id)
        return {"status": 200, "body": attempt.body}
    except CredentialRejected as exc:  # Atlassian's "no" is an answer too: replay it, don't ask again
        return {"status": 422, "code": exc.code, "message": exc.message}
