"""Post-deploy smoke check: `python -m scripts.smoke --stack <name>` (or `make smoke STACK=<name>`).

Reads the stack's outputs, then checks, against the deployed API and AWS:
- an unsigned /ops call is refused by API Gateway before any function runs;
- a call signed with botocore's SigV4 signer, for an installation the service has never seen, answers
  404 not_found in the contract's error shape (so IAM let it through and the function answered);
- the check schedule is enabled;
- every alarm of the AlarmNames output exists.
It only reads: the /ops call is a GET of an unknown installation, which the service answers without
writing anything. AWS credentials and region come from the usual places (AWS_PROFILE, AWS_REGION, ...;
AWS_ENDPOINT_URL for the local stack's moto; --region). Exit code 0 when every check passes, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import boto3
import httpx
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest

REQUIRED_OUTPUTS = ("ApiUrl", "CheckScheduleName", "AlarmNames")
ERROR_KEYS = {"code", "message", "requestId"}
REFUSED = {401: "unauthenticated", 403: "forbidden", 404: "not_found"}  # what API Gateway's refusals map to
TIMEOUT_SECONDS = 30
_EXECUTE_API_HOST = re.compile(r"^https://[^/.]+\.execute-api\.([a-z0-9-]+)\.")


class SmokeFailure(Exception):
    """One check did not hold; the message says what was seen (never a credential or signature)."""


@dataclass
class Smoke:
    session: boto3.session.Session
    outputs: dict[str, str]
    http: httpx.Client
    function_not_found: str | None = None  # the function's message for an unknown installation

    @property
    def region(self) -> str:
        """The API's region, from its execute-api URL; elsewhere (the local stack) the session's."""
        match = _EXECUTE_API_HOST.match(self.outputs["ApiUrl"])
        region = match.group(1) if match else self.session.region_name
        if not region:
            raise SmokeFailure("no AWS region: set AWS_REGION")
        return region

    def unknown_tenant_url(self) -> str:
        """GET .../api-info of an installation id of the right shape that no install has (a random UUID)."""
        tenant = f"ari:cloud:ecosystem::installation/{uuid.uuid4()}"
        return f"{self.outputs['ApiUrl'].rstrip('/')}/ops/tenants/{quote(tenant, safe='')}/api-info"

    def signed_get(self, url: str) -> httpx.Response:
        credentials = self.session.get_credentials()
        if credentials is None:
            raise SmokeFailure("no AWS credentials to sign with (set AWS_PROFILE or AWS_ACCESS_KEY_ID)")
        request = AWSRequest(method="GET", url=url)
        SigV4Auth(credentials.get_frozen_credentials(), "execute-api", self.region).add_auth(request)
        return self.http.get(url, headers=dict(request.headers.items()))


def error_of(answer: httpx.Response) -> dict[str, Any]:
    """The contract's error object of an answer, or a SmokeFailure saying how the body differs."""
    try:
        body = answer.json()
    except ValueError:
        raise SmokeFailure(f"{answer.status_code} with a body that is not JSON") from None
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict) or set(error) != ERROR_KEYS or set(body) != {"error"}:
        raise SmokeFailure(
            f"{answer.status_code} without the contract's error shape: {json.dumps(body)[:300]}"
        )
    if not all(isinstance(error[key], str) and error[key] for key in ERROR_KEYS):
        raise SmokeFailure(f"{answer.status_code} with an empty code, message or requestId")
    return error


def check_signed_unknown_tenant(smoke: Smoke) -> str:
    answer = smoke.signed_get(smoke.unknown_tenant_url())
    error = error_of(answer)
    if (answer.status_code, error["code"]) != (404, "not_found"):
        raise SmokeFailure(f"expected 404 not_found, got {answer.status_code} {error['code']}")
    smoke.function_not_found = error["message"]
    return "a signed /ops call for an unknown installation answers 404 not_found"


def check_unsigned_refused(smoke: Smoke) -> str:
    answer = smoke.http.get(smoke.unknown_tenant_url())
    error = error_of(answer)
    if REFUSED.get(answer.status_code) != error["code"]:
        raise SmokeFailure(f"an unsigned /ops call answered {answer.status_code} {error['code']}")
    # API Gateway answers an unsigned call with 404 too (MISSING_AUTHENTICATION_TOKEN): its message, not
    # the function's, shows that no function ran.
    if error["message"] == smoke.function_not_found:
        raise SmokeFailure("an unsigned /ops call reached the function: the route is not AWS_IAM")
    return f"an unsigned /ops call is refused ({answer.status_code} {error['code']})"


def check_schedule_enabled(smoke: Smoke) -> str:
    name = smoke.outputs["CheckScheduleName"]
    state = smoke.session.client("scheduler").get_schedule(Name=name)["State"]
    if state != "ENABLED":
        raise SmokeFailure(f"the check schedule {name} is {state}")
    return f"the check schedule {name} is enabled"


def check_alarms_exist(smoke: Smoke) -> str:
    names = [n for n in smoke.outputs["AlarmNames"].split(",") if n]
    if not names:
        raise SmokeFailure("the AlarmNames output lists no alarm")
    cloudwatch = smoke.session.client("cloudwatch")
    found: set[str] = set()
    for start in range(0, len(names), 100):  # DescribeAlarms takes at most 100 names
        answer = cloudwatch.describe_alarms(AlarmNames=names[start : start + 100], MaxRecords=100)
        found |= {a["AlarmName"] for a in answer["MetricAlarms"] + answer.get("CompositeAlarms", [])}
    missing = sorted(set(names) - found)
    if missing:
        raise SmokeFailure(f"{len(missing)} alarm(s) missing: {', '.join(missing)}")
    return f"all {len(names)} alarms exist"


# The signed call runs first: the unsigned one is compared with the function's answer to it.
CHECKS: tuple[Callable[[Smoke], str], ...] = (
    check_signed_unknown_tenant,
    check_unsigned_refused,
    check_schedule_enabled,
    check_alarms_exist,
)


def stack_outputs(session: boto3.session.Session, stack: str) -> dict[str, str]:
    (described,) = session.client("cloudformation").describe_stacks(StackName=stack)["Stacks"]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}
    missing = [name for name in REQUIRED_OUTPUTS if name not in outputs]
    if missing:
        raise SmokeFailure(
            f"stack {stack} has no output {', '.join(missing)}: is it deployed from this template?"
        )
    return outputs


def run(stack: str, session: boto3.session.Session | None = None) -> Iterator[tuple[bool, str]]:
    """Each check's result, (passed, what was seen), in order; stops after outputs cannot be read."""
    session = session or boto3.session.Session()
    try:
        outputs = stack_outputs(session, stack)
    except Exception as exc:
        yield False, f"reading the outputs of stack {stack}: {exc}"
        return
    yield True, f"stack {stack}: API {outputs['ApiUrl']}"
    with httpx.Client(timeout=TIMEOUT_SECONDS, follow_redirects=False) as http:
        smoke = Smoke(session, outputs, http)
        for check in CHECKS:
            try:
                yield True, check(smoke)
            except SmokeFailure as exc:
                yield False, f"{check.__name__}: {exc}"
            except Exception as exc:  # an AWS or HTTP error: report it and go on with the other checks
                yield False, f"{check.__name__}: {type(exc).__name__}: {exc}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.smoke", description=__doc__.splitlines()[0])
    parser.add_argument("--stack", required=True, help="the CloudFormation stack name given to sam deploy")
    parser.add_argument("--region", help="the stack's region (default: AWS_REGION, else your AWS config's)")
    args = parser.parse_args(argv)
    # botocore reads AWS_DEFAULT_REGION and the config files; the AWS CLI's AWS_REGION is honoured here too.
    session = boto3.session.Session(region_name=args.region or os.environ.get("AWS_REGION") or None)
    failed = 0
    for passed, line in run(args.stack, session):
        failed += not passed
        sys.stdout.write(f"{'ok  ' if passed else 'FAIL'} {line}\n")
    sys.stdout.write("smoke check passed\n" if not failed else f"smoke check FAILED ({failed})\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
