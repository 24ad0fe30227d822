"""Properties of what comes before the routes: whatever the token header or the body holds, the answer
is 400, 401 or 422 in the contract's shape, never a 5xx (docs/API.md §2)."""

from __future__ import annotations

import base64
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.harness import Api

PROPERTY = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,  # the same examples on every run: CI is repeatable
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def assert_refused_in_shape(answer: Any, allowed: set[int]) -> None:
    assert answer.status in allowed, (answer.status, answer.raw[:300])
    assert set(answer.body) == {"error"}
    assert answer.body["error"]["code"] in {"bad_request", "unauthenticated", "validation_error"} | {
        "api_key_invalid"  # a body that parses into a random key reaches Atlassian, which says no
    }


# JSON values nested up to 40 deep, with numbers up to 150 digits: both sides of the contract's limits.
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**150), max_value=10**150)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=40,
)
deep = st.integers(min_value=0, max_value=2500).map(lambda n: "[" * n + "]" * n)


@PROPERTY
@given(
    header=st.binary(max_size=300) | deep.map(str.encode) | json_values.map(lambda v: json.dumps(v).encode())
)
def test_any_token_header_is_401(api: Api, header: bytes) -> None:
    token = f"{b64(header)}.{b64(b'{}')}.{b64(b'signature')}"

    assert_refused_in_shape(api.call("get_info", token=token), {401})


@PROPERTY
@given(token=st.text(max_size=300))
def test_any_authorization_value_is_401(api: Api, token: str) -> None:
    answer = api.call("get_info", headers={"Authorization": f"Bearer {token}"})

    assert_refused_in_shape(answer, {401})


@PROPERTY
@given(
    body=st.binary(max_size=400).map(lambda b: b.decode("utf-8", errors="replace"))
    | deep
    | json_values.map(json.dumps)
    | json_values.map(lambda v: json.dumps({"apiKey": "sim-key", "extra": v}))
)
def test_any_body_is_400_or_422(api: Api, body: str) -> None:
    answer = api.call("change_key", raw_body=body)

    assert_refused_in_shape(answer, {400, 422})
