"""No object that carries a key, a token or the app system token shows it: not in its repr or str, not in
Powertools' log lines at any level, not in an exception's message (issue 25, point 7)."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

import pytest
from aws_lambda_powertools import Logger
from pydantic import SecretStr, ValidationError

from api_info.auth import Caller
from api_info.change import Change
from api_info.credentials import API_KEY, API_TOKEN
from api_info.credentials.ref import CredentialRef
from api_info.models import ChangeKeyRequest, ChangeTokenRequest, CurrentCredential
from api_info.records import Actor, Tenant

KEY = "known-admin-key-SENTINEL-0001"
TOKEN = "known-api-token-SENTINEL-0002"
SYSTEM = "known-system-token-SENTINEL-0003"
SENTINEL = "SENTINEL"


def caller() -> Caller:
    return Caller(
        tenant=Tenant(installation_id="ari:cloud:ecosystem::installation/t1"),
        actor=Actor(type="atlassian", account_id="5b10-admin"),
        api_base_url="https://api.atlassian.com/ex/jira/c1",
        system_token=SYSTEM,
    )


# Each object that carries a secret through the service, built with the known secrets above.
CARRIERS: dict[str, Callable[[], Any]] = {
    "Caller (app system token)": caller,
    "Change of the key": lambda: Change(
        CredentialRef("ari:cloud:ecosystem::installation/t1", API_KEY),
        caller(),
        API_KEY.secret_of(ChangeKeyRequest.model_validate({"apiKey": KEY})),
        None,
    ),
    "Change of the token": lambda: Change(
        CredentialRef("ari:cloud:ecosystem::installation/t1", API_TOKEN),
        caller(),
        API_TOKEN.secret_of(
            ChangeTokenRequest.model_validate({"email": "ada@example.com", "apiToken": TOKEN})
        ),
        "2027-01-01",
    ),
    "PUT /api-info/key body": lambda: ChangeKeyRequest.model_validate({"apiKey": KEY}),
    "PUT /api-info/token body": lambda: ChangeTokenRequest.model_validate(
        {"email": "ada@example.com", "apiToken": TOKEN}
    ),
    "CurrentCredential": lambda: CurrentCredential(
        credential="apiToken", value=SecretStr(TOKEN), email="ada@example.com", version_id="v1"
    ),
}


# Powertools sets a logger's handler up once per name: one logger, one stream, emptied for each test.
STREAM = io.StringIO()
LOG = Logger(service="repr-test", level="DEBUG", stream=STREAM)


def logged(carrier: Any) -> str:
    """Everything Powertools writes when the object is logged at every level, as message and as a key."""
    STREAM.seek(0)
    STREAM.truncate()
    log = LOG
    for level in (log.debug, log.info, log.warning, log.error, log.critical):
        level(carrier)
        level("carrying", extra={"carrier": carrier})
    log.append_keys(carrier=carrier)
    log.info("with the object as a key of every line")
    try:
        raise RuntimeError(f"failed with {carrier}")
    except RuntimeError:
        log.exception("an error carrying it")
    log.remove_keys(["carrier"])
    return STREAM.getvalue()


@pytest.mark.parametrize("name", list(CARRIERS))
def test_no_object_carrying_a_key_or_token_shows_it_in_repr_str_logs_or_errors(name: str) -> None:
    # Given an object built with a known key, token or system token
    carrier = CARRIERS[name]()

    # When it is shown in every way a log line or a traceback shows an object
    shown = {
        "repr": repr(carrier),
        "str": str(carrier),
        "format": f"{carrier!r} {carrier!s}",
        "logs": logged(carrier),
        "exception": str(RuntimeError(carrier)),
    }

    # Then none of them holds the secret
    for way, text in shown.items():
        assert SENTINEL not in text, f"{name} shows its secret through {way}"
    assert json.loads(shown["logs"].splitlines()[0])["level"] == "DEBUG"  # the DEBUG lines were written


@pytest.mark.parametrize(
    ("model", "body"),
    [
        (ChangeKeyRequest, {"apiKey": f"{KEY} with a space"}),
        (ChangeKeyRequest, {"apiKey": KEY * 40}),
        (ChangeTokenRequest, {"email": "not an email", "apiToken": f"{TOKEN}\n"}),
    ],
    ids=["key with a space", "key too long", "token with a line break"],
)
def test_a_refused_request_body_does_not_quote_its_secret_in_the_error(
    model: type[ChangeKeyRequest | ChangeTokenRequest], body: dict[str, str]
) -> None:
    with pytest.raises(ValidationError) as refused:
        model.model_validate(body)

    assert SENTINEL not in str(refused.value)
    assert SENTINEL not in repr(refused.value)
