"""SigV4 on the local stack's AWS_IAM routes: a request signed with an access key the local stack knows
stands for that key's IAM principal, as API Gateway's IAM authorization makes it.

The signature is recomputed with botocore's own signer (the one the AWS CLI, awscurl and scripts/smoke.py
sign with) from what the request carries: the signed headers, the path and query as sent, the body. IAM
policies are not evaluated: a valid signature is enough, as for a principal allowed execute-api:Invoke.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

# AWS accepts a signature within 15 minutes of its X-Amz-Date.
MAX_SKEW = timedelta(minutes=15)
SERVICE = "execute-api"
_AUTHORIZATION = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=(?P<key>[^/,\s]+)/(?P<day>\d{8})/(?P<region>[^/,\s]+)"
    r"/(?P<service>[^/,\s]+)/aws4_request,\s*SignedHeaders=(?P<signed>[a-z0-9;-]+),"
    r"\s*Signature=(?P<signature>[0-9a-f]{64})$"
)


@dataclass(frozen=True)
class Signer:
    """An access key the local stack accepts, and the IAM principal it stands for."""

    access_key_id: str
    secret_access_key: str
    arn: str


class SignatureRefused(Exception):
    """The request carries no SigV4 signature the local stack can verify (the reason is for its log only)."""


def is_signed(headers: Mapping[str, str]) -> bool:
    return (headers.get("Authorization") or "").startswith("AWS4-HMAC-SHA256 ")


def verify(
    signers: Mapping[str, Signer],
    *,
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    now: datetime | None = None,
) -> str:
    """The ARN of the principal whose key signed this request; raises SignatureRefused otherwise.

    `headers` must look names up case-insensitively (an http.server message does); `url` is the request's
    as sent, with its Host and its path and query still percent-encoded.
    """
    match = _AUTHORIZATION.match(headers.get("Authorization") or "")
    if match is None:
        raise SignatureRefused("not a SigV4 Authorization header")
    signer = signers.get(match["key"])
    if signer is None:
        raise SignatureRefused("signed with an access key the local stack does not know")
    if match["service"] != SERVICE:
        raise SignatureRefused(f"signed for {match['service']}, not {SERVICE}")
    amz_date = headers.get("X-Amz-Date") or ""
    try:
        signed_at = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        raise SignatureRefused("no valid X-Amz-Date header") from None
    if amz_date[:8] != match["day"] or abs((now or datetime.now(UTC)) - signed_at) > MAX_SKEW:
        raise SignatureRefused("signature expired or not yet valid")
    names = match["signed"].split(";")
    if "host" not in names or any(headers.get(name) is None for name in names):
        raise SignatureRefused("a signed header is missing")

    request = AWSRequest(method=method, url=url, data=body, headers={n: headers[n] for n in names})
    request.context["timestamp"] = amz_date
    auth = SigV4Auth(
        Credentials(signer.access_key_id, signer.secret_access_key), match["service"], match["region"]
    )
    expected = auth.signature(auth.string_to_sign(request, auth.canonical_request(request)), request)
    if not hmac.compare_digest(expected, match["signature"]):
        raise SignatureRefused("the signature does not match")
    return signer.arn
