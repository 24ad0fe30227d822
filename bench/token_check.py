"""The token check's signing-key lookup, A/B in one process: `python -m bench.token_check`.

A: the verifier's own cache of parsed keys by kid (what `TokenVerifier` does now).
B: asking PyJWT's JWKS client for the key on every request (what it did before; the client keeps the
   key set, parsed, for an hour).
Then the whole token check, for scale. Rounds alternate A and B so that both see the same machine;
the figures are medians of the rounds.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

from api_info.atlassian import Transport
from api_info.auth import TokenVerifier
from api_info.settings import Settings
from local.api_client import APP_ID, JwksServer
from local.atlassian_sim import ADMIN_ACCOUNT
from local.dev_issuer import DevTokenIssuer, installation


def per_call_us(func: Callable[[], Any], calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        func()
    return (time.perf_counter() - start) / calls * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.token_check", description=__doc__)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args(argv)

    issuer = DevTokenIssuer(APP_ID)
    jwks = JwksServer(issuer.jwks())
    ids = installation("acme")
    token = issuer.mint(
        installation_id=ids["installationId"],
        account_id=ADMIN_ACCOUNT,
        cloud_id=ids["cloudId"],
        site_url="https://acme.atlassian.net",
        api_base_url=f"https://api.atlassian.com/ex/jira/{ids['cloudId']}",
        ttl_seconds=3600,
    )
    http = Transport(Settings(forge_app_id=APP_ID, allow_insecure_loopback=True))
    verifier = TokenVerifier(jwks_url=jwks.url, app_id=APP_ID, http=http)
    verifier.verify(token)  # the key set is fetched and cached
    kid = issuer.kid
    try:
        rounds: dict[str, list[float]] = {"A: kid cache": [], "B: JWKS client": [], "whole token check": []}
        for _ in range(args.rounds):
            rounds["A: kid cache"].append(per_call_us(lambda: verifier._signing_key(kid), 2000))
            rounds["B: JWKS client"].append(per_call_us(lambda: verifier._jwks().get_signing_key(kid), 2000))
            rounds["whole token check"].append(per_call_us(lambda: verifier.verify(token), 50))
    finally:
        jwks.stop()
    medians = {name: statistics.median(values) for name, values in rounds.items()}
    for name, value in medians.items():
        print(f"{name:>20}: {value:8.2f} us per call (median of {args.rounds} rounds)")
    print(f"key lookup, B / A: {medians['B: JWKS client'] / medians['A: kid cache']:.1f}x")
    saved = medians["B: JWKS client"] - medians["A: kid cache"]
    print(f"saved per request: {saved:.2f} us, {saved / medians['whole token check']:.1%} of the token check")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
