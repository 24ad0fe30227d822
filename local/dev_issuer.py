"""A development issuer of Forge Invocation Tokens: RS256, the claims Forge puts in them, and a JWKS."""

from __future__ import annotations

import time
import uuid
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

# Fixed namespace so that a short installation name always maps to the same ids, run after run.
_NAMESPACE = uuid.UUID("5b0f8d62-6c1e-4f55-9a57-3d1f1c2f0a11")


def installation(name: str) -> dict[str, str]:
    """Stable installationId and cloudId for a short name such as "acme"."""
    installation_uuid = uuid.uuid5(_NAMESPACE, "installation:" + name)
    return {
        "name": name,
        "installationId": f"ari:cloud:ecosystem::installation/{installation_uuid}",
        "cloudId": str(uuid.uuid5(_NAMESPACE, "cloud:" + name)),
    }


class DevTokenIssuer:
    """Signs Forge-like invocation tokens with a fresh RSA key; jwks() is what FORGE_JWKS_URL serves."""

    def __init__(self, app_id: str) -> None:
        self.app_id = app_id
        self.kid = uuid.uuid4().hex
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.environment_id = str(uuid.uuid5(_NAMESPACE, "environment:" + app_id))

    def jwks(self) -> dict[str, Any]:
        """The public key set, as Forge's JWKS endpoint publishes it."""
        jwk = jwt.algorithms.RSAAlgorithm.to_jwk(self._key.public_key(), as_dict=True)
        return {"keys": [{**jwk, "kid": self.kid, "alg": "RS256", "use": "sig"}]}

    def mint(
        self,
        *,
        installation_id: str,
        account_id: str | None,
        cloud_id: str,
        site_url: str,
        api_base_url: str,
        ttl_seconds: int = 25,
        **overrides: Any,
    ) -> str:
        """A signed token; overrides replace top-level claims, a None override removes the claim."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": "forge/invocation-token",
            "aud": self.app_id,
            "iat": now,
            "nbf": now,
            "exp": now + ttl_seconds,
            "jti": str(uuid.uuid4()),
            "principal": account_id,
            "app": {
                "installationId": installation_id,
                "apiBaseUrl": api_base_url,
                "id": self.app_id,
                "version": "1",
                "environment": {"type": "DEVELOPMENT", "id": self.environment_id},
                "module": {"type": "xen:macro", "key": "api-info"},
            },
            "context": {"cloudId": cloud_id, "siteUrl": site_url, "moduleKey": "api-info-page"},
        }
        if account_id is None:
            del claims["principal"]  # lifecycle events carry no user
        for name, value in overrides.items():
            if value is None:
                claims.pop(name, None)
            else:
                claims[name] = value
        return self.sign(claims)

    def sign(self, claims: dict[str, Any], *, kid: str | None = None) -> str:
        """Sign any claims with this issuer's key (tests use it for tokens mint() would not make)."""
        return jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": kid or self.kid})
