"""The local stack's SigV4 check on AWS_IAM routes: what botocore signs with a known key is accepted as
that key's principal, and anything else (another secret, another request, an old signature) is refused."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from http.client import HTTPMessage

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from local.sigv4 import SignatureRefused, Signer, verify

OPERATOR = Signer("AKIDLOCAL", "local-secret", "arn:aws:iam::123456789012:user/local-operator")
SIGNERS = {OPERATOR.access_key_id: OPERATOR}
URL = "http://127.0.0.1:3000/ops/tenants/ari%3Acloud%3Aecosystem%3A%3Ainstallation%2Fabc/api-info/key"
BODY = b'{"apiKey": "k"}'


def message(headers: dict[str, str]) -> HTTPMessage:
    """Headers as the local gateway's http.server reads them."""
    parsed = HTTPMessage()
    for name, value in headers.items():
        parsed[name] = value
    return parsed


def signed(secret: str = OPERATOR.secret_access_key, service: str = "execute-api") -> HTTPMessage:
    """The headers of PUT URL with BODY as botocore's signer signs it, and the Host the HTTP client adds."""
    request = AWSRequest(method="PUT", url=URL, data=BODY, headers={"Content-Type": "application/json"})
    SigV4Auth(Credentials(OPERATOR.access_key_id, secret), service, "us-east-1").add_auth(request)
    return message({**dict(request.headers.items()), "Host": "127.0.0.1:3000"})


def test_a_request_signed_with_a_known_key_is_that_keys_principal() -> None:
    assert verify(SIGNERS, method="PUT", url=URL, headers=signed(), body=BODY) == OPERATOR.arn


# Each change is made when the test runs: a signature made at collection time could be old by then.
@pytest.mark.parametrize(
    ("change", "why"),
    [
        (lambda: {"headers": signed(secret="another-secret")}, "does not match"),
        (lambda: {"body": b'{"apiKey": "other"}'}, "does not match"),
        (lambda: {"url": URL.replace("/key", "/token")}, "does not match"),
        (lambda: {"method": "DELETE"}, "does not match"),
        (lambda: {"headers": signed(service="s3")}, "not execute-api"),
        (lambda: {"signers": {}}, "does not know"),
        (lambda: {"now": datetime.now(UTC) + timedelta(minutes=16)}, "expired"),
        (
            lambda: {"headers": message({"Authorization": "Bearer x", "Host": "127.0.0.1:3000"})},
            "not a SigV4",
        ),
    ],
)
def test_anything_but_the_signed_request_with_the_known_key_is_refused(
    change: Callable[[], dict[str, object]], why: str
) -> None:
    args: dict[str, object] = {
        "signers": SIGNERS,
        "method": "PUT",
        "url": URL,
        "headers": signed(),
        "body": BODY,
    }
    args.update(change())
    with pytest.raises(SignatureRefused, match=why):
        verify(args.pop("signers"), **args)  # type: ignore[arg-type]
