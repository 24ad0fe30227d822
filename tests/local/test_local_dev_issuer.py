"""The development issuer's tokens carry Forge's claims and verify against its JWKS."""

import time

import jwt
import pytest

from local.dev_issuer import DevTokenIssuer, installation

APP_ID = "ari:cloud:ecosystem::app/00000000-0000-4000-8000-000000000000"


@pytest.fixture(scope="module")
def issuer() -> DevTokenIssuer:
    return DevTokenIssuer(APP_ID)


def mint(issuer: DevTokenIssuer, **overrides: object) -> str:
    acme = installation("acme")
    return issuer.mint(
        installation_id=acme["installationId"],
        account_id="sim-admin-0001",
        cloud_id=acme["cloudId"],
        site_url="http://127.0.0.1:9999",
        api_base_url=f"http://127.0.0.1:9999/ex/jira/{acme['cloudId']}",
        **overrides,  # type: ignore[arg-type]
    )


def verify(issuer: DevTokenIssuer, token: str) -> dict:
    jwks = jwt.PyJWKSet.from_dict(issuer.jwks())
    key = jwks[jwt.get_unverified_header(token)["kid"]]
    return jwt.decode(
        token,
        key.key,
        algorithms=["RS256"],
        audience=APP_ID,
        issuer="forge/invocation-token",
        options={"require": ["exp", "nbf", "iat", "aud", "iss"]},
    )


def test_token_verifies_against_the_jwks_with_forge_claims(issuer: DevTokenIssuer) -> None:
    # Given a token for the "acme" installation
    acme = installation("acme")
    # When it is verified as the service does
    claims = verify(issuer, mint(issuer))
    # Then it has Forge's claims
    assert claims["principal"] == "sim-admin-0001"
    assert claims["app"]["installationId"] == acme["installationId"]
    assert claims["app"]["id"] == APP_ID
    assert claims["app"]["apiBaseUrl"].endswith(acme["cloudId"])
    assert claims["app"]["environment"]["type"] == "DEVELOPMENT"
    assert claims["app"]["module"] == {"type": "xen:macro", "key": "api-info"}
    assert claims["context"] == {
        "cloudId": acme["cloudId"],
        "siteUrl": "http://127.0.0.1:9999",
        "moduleKey": "api-info-page",
    }
    assert claims["exp"] - claims["iat"] == 25
    assert claims["nbf"] <= time.time()


def test_header_is_rs256_with_the_jwks_kid(issuer: DevTokenIssuer) -> None:
    header = jwt.get_unverified_header(mint(issuer))
    assert header["alg"] == "RS256"
    assert header["kid"] == issuer.jwks()["keys"][0]["kid"]
    assert set(issuer.jwks()["keys"][0]) >= {"kty", "n", "e", "kid", "alg", "use"}
    assert "d" not in issuer.jwks()["keys"][0]  # public part only


def test_each_token_has_its_own_jti(issuer: DevTokenIssuer) -> None:
    assert verify(issuer, mint(issuer))["jti"] != verify(issuer, mint(issuer))["jti"]


def test_overrides_replace_and_none_removes(issuer: DevTokenIssuer) -> None:
    claims = jwt.decode(mint(issuer, aud="other-app", principal=None), options={"verify_signature": False})
    assert claims["aud"] == "other-app"
    assert "principal" not in claims


def test_expired_token_fails_verification(issuer: DevTokenIssuer) -> None:
    with pytest.raises(jwt.ExpiredSignatureError):
        verify(issuer, mint(issuer, ttl_seconds=-120))


def test_another_issuer_cannot_sign_for_this_jwks(issuer: DevTokenIssuer) -> None:
    stranger = DevTokenIssuer(APP_ID)
    token = stranger.sign(jwt.decode(mint(issuer), options={"verify_signature": False}), kid=issuer.kid)
    with pytest.raises(jwt.InvalidSignatureError):
        verify(issuer, token)


def test_installation_ids_are_stable_and_distinct() -> None:
    assert installation("acme") == installation("acme")
    assert installation("acme")["installationId"].startswith("ari:cloud:ecosystem::installation/")
    assert installation("acme")["cloudId"] != installation("globex")["cloudId"]
    assert installation("acme")["installationId"] != installation("globex")["installationId"]
