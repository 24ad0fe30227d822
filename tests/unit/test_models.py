"""The rules of the request bodies and of the status shown, with no AWS and no HTTP."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from api_info.models import ChangeKeyRequest, ChangeTokenRequest
from api_info.settings import Settings
from api_info.status import mask, status_of
from tests.support.records import credential_record

SETTINGS = Settings(forge_app_id="ari:cloud:ecosystem::app/x", expiry_warning_days=14)


record = credential_record


def test_mask_shows_eight_bullets_and_the_last_four_characters() -> None:
    assert mask("abcdefghijklmnop1234") == "••••••••1234"


@pytest.mark.parametrize("short", ["abcd", "abcdefgh1234", "x" * 19])
def test_a_value_shorter_than_20_characters_shows_none_of_them(short: str) -> None:
    assert mask(short) == "••••••••"


@pytest.mark.parametrize(
    ("expires_on", "expected"),
    [
        (None, "valid"),
        ("2026-12-31", "valid"),
        ("2026-12-11", "expiring"),
        ("2026-11-27", "expiring"),
        ("2026-11-26", "expired"),
    ],
)
def test_status_follows_the_expiry_date(expires_on: str | None, expected: str) -> None:
    assert status_of(record(expiresOn=expires_on), SETTINGS, today=date(2026, 11, 27)) == expected


def test_a_rejected_credential_is_invalid_whatever_its_expiry() -> None:
    assert (
        status_of(record(status="invalid", expiresOn="2030-01-01"), SETTINGS, today=date(2026, 11, 27))
        == "invalid"
    )


def test_a_missing_credential_is_not_configured() -> None:
    assert status_of(None, SETTINGS) == "not_configured"


def test_a_change_body_takes_camel_case_and_refuses_unknown_fields() -> None:
    assert (
        ChangeKeyRequest.model_validate({"apiKey": "k", "expiresOn": "2099-01-01"}).expires_on == "2099-01-01"
    )
    with pytest.raises(ValidationError):
        ChangeKeyRequest.model_validate({"api_key": "k"})
    with pytest.raises(ValidationError):
        ChangeKeyRequest.model_validate({"apiKey": "k", "extra": 1})


@pytest.mark.parametrize("bad", ["a b", "a\nb", "", "x" * 1025])
def test_a_secret_must_be_1_to_1024_characters_without_whitespace(bad: str) -> None:
    with pytest.raises(ValidationError):
        ChangeTokenRequest.model_validate({"email": "a@b.co", "apiToken": bad})


def test_validation_errors_never_carry_the_secret_into_the_answer() -> None:
    from api_info.api import validation_error

    secret = "super secret value"
    with pytest.raises(ValidationError) as caught:
        ChangeKeyRequest.model_validate({"apiKey": secret})
    error = validation_error(
        [{"loc": ("body", *e["loc"]), "type": e["type"], "ctx": e.get("ctx")} for e in caught.value.errors()]
    )
    assert error.code == "validation_error"
    assert secret not in repr(error.details) and secret not in error.message
