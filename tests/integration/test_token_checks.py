"""Every way a Forge Invocation Token can be bad is 401 unauthenticated (never a 500, never a pass)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from local.dev_issuer import DevTokenIssuer
from tests.support.harness import APP_ID, Api, JwksServer


def claims_of(api: Api, **overrides: Any) -> dict[str, Any]:
    """The claims of a good token, with top-level overrides (None removes a claim)."""
    claims: dict[str, Any] = jwt.decode(api.token(), options={"verify_signature": False})
    for name, value in overrides.items():
        if value is None:
            claims.pop(name, None)
        else:
            claims[name] = value
    return claims


def b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def test_a_good_token_passes(api: Api) -> None:
    assert api.call("get_info").status == 200


def test_a_token_expired_within_the_60_s_leeway_still_passes(api: Api) -> None:
    now = int(time.time())
    token = api.issuer.sign(claims_of(api, iat=now - 50, nbf=now - 50, exp=now - 30))
    assert api.call("get_info", token=token).status == 200


BAD_CLAIMS: dict[str, Callable[[int], dict[str, Any]]] = {
    "expired": lambda now: {"iat": now - 600, "nbf": now - 600, "exp": now - 120},
    "not yet valid (nbf)": lambda now: {"nbf": now + 300, "exp": now + 600},
    "issued in the future (iat)": lambda now: {"iat": now + 300, "exp": now + 600},
    "wrong audience": lambda now: {"aud": "ari:cloud:ecosystem::app/99999999-9999-4999-8999-999999999999"},
    "audience list without ours": lambda now: {"aud": ["ari:cloud:ecosystem::app/other"]},
    "wrong issuer": lambda now: {"iss": "forge/other-token"},
    "no exp": lambda now: {"exp": None},
    "no iat": lambda now: {"iat": None},
    "no aud": lambda now: {"aud": None},
    "no iss": lambda now: {"iss": None},
    "no app": lambda now: {"app": None},
    "no installationId": lambda now: {"app": {"apiBaseUrl": "https://api.atlassian.com/ex/jira/x"}},
    "empty installationId": lambda now: {"app": {"installationId": ""}},
    "installationId not a string": lambda now: {"app": {"installationId": 42}},
    "no principal on /api-info": lambda now: {"principal": None},
    "exp not a number": lambda now: {"exp": "tomorrow"},
}


@pytest.mark.parametrize("case", BAD_CLAIMS)
def test_bad_claims_are_401(api: Api, case: str) -> None:
    token = api.issuer.sign(claims_of(api, **BAD_CLAIMS[case](int(time.time()))))

    answer = api.call("get_info", token=token)

    assert answer.status == 401, answer.body
    assert answer.body["error"]["code"] == "unauthenticated"


def test_alg_none_is_401(api: Api) -> None:
    token = f"{b64({'alg': 'none', 'typ': 'JWT', 'kid': api.issuer.kid})}.{b64(claims_of(api))}."
    assert api.call("get_info", token=token).status == 401


def test_hs256_signed_with_the_public_key_is_401(api: Api) -> None:
    # The classic confusion: the verifier's public key used as an HMAC secret
    public_key = jwt.algorithms.RSAAlgorithm.from_jwk(json.dumps(api.issuer.jwks()["keys"][0]))
    public_pem = public_key.public_bytes(  # type: ignore[union-attr]
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    signing_input = f"{b64({'alg': 'HS256', 'typ': 'JWT', 'kid': api.issuer.kid})}.{b64(claims_of(api))}"
    signature = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    token = signing_input + "." + base64.urlsafe_b64encode(signature).decode().rstrip("=")

    assert api.call("get_info", token=token).status == 401


def test_another_rsa_algorithm_is_401(api: Api) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = jwt.encode(claims_of(api), key, algorithm="RS512", headers={"kid": api.issuer.kid})
    assert api.call("get_info", token=token).status == 401


def test_another_key_with_the_same_kid_is_401(api: Api) -> None:
    impostor = DevTokenIssuer(APP_ID)

    token = impostor.sign(claims_of(api), kid=api.issuer.kid)

    assert api.call("get_info", token=token).status == 401


def test_a_token_without_kid_is_401(api: Api) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = jwt.encode(claims_of(api), key, algorithm="RS256")
    assert api.call("get_info", token=token).status == 401


@pytest.fixture
def rotated(jwks: JwksServer) -> Iterator[DevTokenIssuer]:
    """Forge publishes a new key next to the old one (as in a key rotation)."""
    original = jwks.jwks
    new = DevTokenIssuer(APP_ID)
    yield new
    jwks.jwks = original


class JwksClock:
    """The clock PyJWT's JWKS client reads for its refetch cooldown, moved forward by tests."""

    def __init__(self) -> None:
        self.offset = 0.0

    def monotonic(self) -> float:
        return time.monotonic() + self.offset

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)


@pytest.fixture
def jwks_clock(monkeypatch: pytest.MonkeyPatch) -> JwksClock:
    clock = JwksClock()
    monkeypatch.setattr("jwt.jwks_client.time", clock)
    return clock


def test_an_unknown_kid_refetches_the_jwks_at_most_once_per_30_s(
    api: Api, jwks: JwksServer, rotated: DevTokenIssuer, jwks_clock: JwksClock
) -> None:
    assert api.call("get_info").status == 200  # the JWKS is fetched and cached now
    fetches = jwks.fetches

    # Unknown kids within 30 s of the last fetch: refused, without asking Forge's CDN again
    for _ in range(5):
        assert api.call("get_info", token=rotated.sign(claims_of(api))).status == 401
        assert api.call("get_info", token=DevTokenIssuer(APP_ID).sign(claims_of(api))).status == 401
    assert jwks.fetches == fetches

    # Past 30 s: one refetch for an unknown kid, then quiet again
    jwks_clock.offset += 31
    assert api.call("get_info", token=rotated.sign(claims_of(api))).status == 401
    assert api.call("get_info", token=rotated.sign(claims_of(api))).status == 401
    assert jwks.fetches == fetches + 1


def test_a_key_published_later_is_accepted_after_the_next_refetch(
    api: Api, jwks: JwksServer, rotated: DevTokenIssuer, jwks_clock: JwksClock
) -> None:
    assert api.call("get_info").status == 200
    jwks.jwks = {"keys": jwks.jwks["keys"] + rotated.jwks()["keys"]}

    jwks_clock.offset += 31

    assert api.call("get_info", token=rotated.sign(claims_of(api))).status == 200
    assert api.call("get_info").status == 200  # the old key still works


def test_a_known_kid_does_not_refetch_the_jwks(api: Api, jwks: JwksServer) -> None:
    api.call("get_info")
    fetches = jwks.fetches

    for _ in range(3):
        api.call("get_info")

    assert jwks.fetches == fetches


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Basic YWRtaW46YWRtaW4=",
        "Bearer not-a-jwt",
        "Bearer a.b.c",
        "Bearer ....",
        "Bearer eyJhbGciOiJSUzI1NiJ9.eyJ4IjoxfQ.c2ln",
        "Bearer " + "A" * 6000,
        "Bearer \x00\x01",
        "Bearer eyJhbGciOiJSUzI1NiIsImtpZCI6eyJ4IjoxfX0.e30.c2ln",  # kid is an object
    ],
)
def test_garbage_is_401_in_the_contract_shape(api: Api, authorization: str | None) -> None:
    answer = api.call("get_info", headers={"Authorization": authorization})

    assert answer.status == 401, answer.body
    assert answer.body["error"]["code"] == "unauthenticated"
    assert answer.body["error"]["requestId"]
