"""A change at most once per Idempotency-Key, on Powertools' `idempotent_function`.

The records live in the tenant's own partition of the credentials table (wiring.idempotency_layer),
so an uninstall removes them with the rest.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from api_info.auth import Caller
from api_info.errors import ChangeInProgress, CredentialRejected, IdempotencyKeyReused
from api_info.models import CredentialName
from api_info.observability import logger
from api_info.wiring import Services, idempotency_layer

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


CHANGE_NAMESPACE = uuid.UUID("5f1c7a62-0d0e-4d43-9a53-64b9c8f0a1d7")


def once(
    svc: Services,
    caller: Caller,
    credential: CredentialName,
    fields: dict[str, str | None],
    idempotency_key: str | None,
    lambda_context: LambdaContext | None,
    run: Callable[[str], dict[str, Any]],
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

    tenant_id = caller.tenant.installation_id
    canonical = json.dumps(fields, sort_keys=True).encode()
    fingerprint = hmac.new(svc.secrets.fingerprint_key(), canonical, hashlib.sha256).hexdigest()
    # The change id (lock owner, ClientRequestToken) is the same on every retry of the same request.
    change_id = str(uuid.uuid5(CHANGE_NAMESPACE, f"{tenant_id}|{credential}|{idempotency_key}|{fingerprint}"))
    config = IdempotencyConfig(
        event_key_jmespath="[tenant, credential, key]",
        payload_validation_jmespath="fingerprint",
        expires_after_seconds=svc.settings.idempotency_expiry_seconds,
    )
    if lambda_context is not None:
        config.register_lambda_context(lambda_context)

    @idempotent_function(  # type: ignore[untyped-decorator]
        data_keyword_argument="request",
        persistence_store=idempotency_layer(svc.settings, tenant_id),
        config=config,
    )
    def once(request: dict[str, str]) -> dict[str, Any]:
        try:
            done["body"] = run(change_id)
            return {"status": 200, "body": done["body"]}
        except CredentialRejected as exc:  # Atlassian's "no" is an answer too: replay it, don't ask again
            return {"status": 422, "code": exc.code, "message": exc.message}

    done: dict[str, dict[str, Any]] = {}

    request = {
        "tenant": tenant_id,
        "credential": credential,
        "key": idempotency_key,
        "fingerprint": fingerprint,
    }
    try:
        outcome = once(request=request)
    except IdempotencyValidationError:
        raise IdempotencyKeyReused() from None
    except IdempotencyAlreadyInProgressError:
        raise ChangeInProgress() from None
    except Exception:
        if "body" not in done:
            raise
        # The change is committed; only saving its answer for replays failed. A retry re-runs it harmlessly.
        logger.exception("Could not save the answer of a committed change for Idempotency-Key replays")
        return done["body"]
    if outcome["status"] != 200:
        raise CredentialRejected(outcome["code"], outcome["message"])
    body: dict[str, Any] = outcome["body"]
    return body
