"""Every function's flows, each under its own role session, for the least-privilege test and its ablation.

A flow is one user-visible story (a route, the dispatcher, the worker fed by the event source mapping's
stand-in, a race, a repair) with the answers it must give. Each flow uses tenants of its own, so the
flows share one stack and run in any order.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any
from urllib.parse import unquote

from moto.server import ThreadedMotoServer

from api_info import pre_traffic, privacy
from api_info.credentials import API_KEY, API_TOKEN
from api_info.wiring import services
from local.atlassian_sim import ORG_ID, ORG_NAME, AtlassianSimulator
from local.dev_issuer import DevTokenIssuer
from local.lambdas import LambdaContext, load_function, template_functions
from local.resources import ACCOUNT_ID
from tests.support.checks import Checks, tenant_id
from tests.support.deploy import run_like_lambda
from tests.support.harness import (
    APP_ID,
    OPERATOR,
    REPO,
    Answer,
    Api,
    JwksServer,
    reset_container_caches,
)
from tests.support.iam import REGION, STACK, Stack, enforce, start_stack
from tests.support.state import ref

# Grants no flow can reach on purpose, each with why it stays.
# Grants kept although no flow uses them: (statement Sid, action) -> why. Empty since the Idempotency-Key
# records moved into the credentials table, whose GetItem other flows of the change functions use.
KEPT: dict[tuple[str, str], str] = {}

KEY = "sim-admin-key-unscoped-GOOD1"
TOKEN = {"email": "ada@acme.test", "apiToken": "sim-token-classic-GOOD2"}


class _RoundApi(Api):
    """The harness's Api, with each flow's tenant names made unique to the round (World.start_round)."""

    round = ""

    def call(self, sample: str, *, tenant: str = "acme", **kwargs: Any) -> Answer:
        return super().call(sample, tenant=tenant + self.round, **kwargs)


class _Invoked:
    """A handler module as Lambda runs it: under the function's role session."""

    def __init__(self, stack: Stack, function: str, module: ModuleType) -> None:
        self.stack, self.function, self.module = stack, function, module

    def lambda_handler(self, event: dict[str, Any], context: Any) -> Any:
        with self.stack.invoked(self.function):
            return self.module.lambda_handler(event, context)


@dataclass
class World:
    stack: Stack
    api: _RoundApi
    checks: Checks
    simulator: AtlassianSimulator
    functions: dict[str, _Invoked]  # logical id -> its handler, invoked under its role
    delivered: list[dict[str, Any]] = field(default_factory=list)  # the last batch deliver() passed on
    hook_reports: list[dict[str, str]] = field(default_factory=list)  # what the pre-traffic hook reported

    def admin(self, service: str) -> Any:
        """A client of the test's own principal, for looking at what the functions did."""
        return self.stack.admin.client(service, endpoint_url=self.stack.url)

    def new_key(self, behaviour: str = "ok") -> str:
        key = f"sim-admin-key-iam-{uuid.uuid4().hex[:8]}"
        self.simulator.add_key(key, ORG_ID, ORG_NAME, behaviour=behaviour)
        return key

    def save_key(self, tenant: str, key: str = KEY, **kwargs: Any) -> Answer:
        kwargs.setdefault("body", {"apiKey": key})
        answer = self.api.call("change_key", tenant=tenant, **kwargs)
        assert answer.status == 200, answer.body
        return answer

    def start_round(self, number: int) -> None:
        """Give every tenant name a new suffix, so that a flow can run again from a clean slate."""
        self.api.round = f"-{number}" if number else ""

    def tenant_id(self, tenant: str) -> str:
        return tenant_id(tenant + self.api.round)

    def enqueue(self, *tenants: str) -> None:
        self.checks.enqueue(*(t + self.api.round for t in tenants))

    def secrets(self, tenant: str, credential: str) -> list[dict[str, Any]]:
        """Every secret of a tenant's credential Secrets Manager holds (described: DeletedDate when
        scheduled for deletion)."""
        client = self.admin("secretsmanager")
        prefix = services().secrets.fixed_name(ref(self.tenant_id(tenant), credential))
        listed = client.list_secrets(IncludePlannedDeletion=True)["SecretList"]
        return [client.describe_secret(SecretId=s["ARN"]) for s in listed if s["Name"].startswith(prefix)]

    def secret(self, tenant: str, credential: str) -> dict[str, Any]:
        """The one secret of a tenant's credential."""
        (described,) = self.secrets(tenant, credential)
        return described

    def record(self, tenant: str, credential: str) -> dict[str, Any]:
        answer = self.admin("dynamodb").get_item(
            TableName=os.environ["TABLE_NAME"],
            Key={"PK": {"S": f"TENANT#{self.tenant_id(tenant)}"}, "SK": {"S": f"CRED#{credential}"}},
        )
        return answer["Item"]  # type: ignore[no-any-return]

    def current_value(self, tenant: str, credential: str) -> dict[str, str]:
        name = self.record(tenant, credential)["secretName"]["S"]
        answer = self.admin("secretsmanager").get_secret_value(SecretId=name, VersionStage="AWSCURRENT")
        return json.loads(answer["SecretString"])  # type: ignore[no-any-return]

    def make_legacy(self, tenant: str, credential: str) -> None:
        """Put the credential's value back where an earlier version kept it: the tenant's fixed secret."""
        item = self.record(tenant, credential)
        client = self.admin("secretsmanager")
        value = client.get_secret_value(SecretId=item["secretName"]["S"])["SecretString"]
        legacy = services().secrets.fixed_name(ref(self.tenant_id(tenant), credential))
        client.create_secret(Name=legacy, SecretString=value, ClientRequestToken=item["secretVersionId"]["S"])
        client.delete_secret(SecretId=item["secretName"]["S"], ForceDeleteWithoutRecovery=True)
        self.admin("dynamodb").update_item(
            TableName=os.environ["TABLE_NAME"],
            Key={"PK": item["PK"], "SK": item["SK"]},
            UpdateExpression="REMOVE secretName",
        )

    def dispatch(self) -> Any:
        with self.stack.invoked("DispatchChecksFunction"):
            return self.checks.dispatch()

    def deliver(self) -> dict[str, Any]:
        """Stand-in for the SQS event source mapping: poll the queue with the worker's role, invoke the
        worker on the batch, delete the messages it did not report as failed."""
        worker = "CheckWorkerFunction"
        sqs, url = self.checks.sqs, self.checks.queue_url
        with self.stack.identities.acting_as(self.stack.sessions[worker]):
            sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])
            messages = self.checks.receive()
        assert messages, "nothing to deliver"
        self.delivered = messages
        with self.stack.invoked(worker):
            response = self.checks.work(messages)
        failed = {item["itemIdentifier"] for item in response["batchItemFailures"]}
        done = [m for m in messages if m["MessageId"] not in failed]
        with self.stack.identities.acting_as(self.stack.sessions[worker]):
            for start in range(0, len(done), 10):
                entries = [
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                    for i, m in enumerate(done[start : start + 10])
                ]
                sqs.delete_message_batch(QueueUrl=url, Entries=entries)
        return response

    def uninstall_before(self, owner: object, method: str, tenant: str) -> Callable[[], None]:
        """Make `owner`'s class's `method` first uninstall `tenant` (as a lifecycle event landing just
        then would), once; returns the undo. On the class: each invocation builds its own services."""
        cls = type(owner)
        original = getattr(cls, method)

        def uninstalled_meanwhile(*args: object, **kwargs: object) -> object:
            setattr(cls, method, original)
            assert self.api.call("uninstalled", account=None, tenant=tenant).status == 204
            return original(*args, **kwargs)

        setattr(cls, method, uninstalled_meanwhile)
        return lambda: setattr(cls, method, original)


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextmanager
def world() -> Iterator[World]:
    """moto's server with the template's resources and roles, enforcement on, the simulator as Atlassian."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's server logs every request
    simulator = AtlassianSimulator()
    simulator.start()
    issuer = DevTokenIssuer(APP_ID)
    jwks = JwksServer(issuer.jwks())
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    try:
        # Anything signing with these instead of a function's role session is refused by moto.
        with _environment(
            {
                "AWS_ENDPOINT_URL": url,
                "AWS_DEFAULT_REGION": REGION,
                "AWS_ACCESS_KEY_ID": "not-a-function",
                "AWS_SECRET_ACCESS_KEY": "not-a-function",
                "AWS_SESSION_TOKEN": "not-a-function",
                "POWERTOOLS_TRACE_DISABLED": "true",
            }
        ):
            stack = start_stack(url, REPO / "template.yaml", {"ForgeAppId": APP_ID})
            env = dict(stack.resources.environment)
            env.update(
                {
                    "FORGE_APP_ID": APP_ID,
                    "FORGE_JWKS_URL": jwks.url,
                    "ATLASSIAN_API_URL": simulator.url,
                    "ALLOW_INSECURE_LOOPBACK": "true",
                    # The default 5 s: no flow here waits on a slow Atlassian, and on a loaded machine
                    # 1 s (the integration tests' value) is tight on a loaded machine.
                    "ATLASSIAN_TIMEOUT_SECONDS": "5",
                }
            )
            with _environment(env), enforce(stack):
                reset_container_caches()
                handlers: dict[tuple[str, str], _Invoked] = {}
                functions: dict[str, _Invoked] = {}
                for spec in template_functions():  # one module per function, as one container has
                    invoked = _Invoked(stack, spec.logical_id, load_function(spec))
                    functions[spec.logical_id] = invoked
                    handlers.update({(route.method, route.path): invoked for route in spec.routes})
                api = _RoundApi(handlers, issuer, simulator.url)  # type: ignore[arg-type]
                w = World(stack, api, Checks(env), simulator, functions)
                with _lambda_and_codedeploy_stand_ins(w):
                    yield w
                reset_container_caches()
    finally:
        server.stop()
        jwks.stop()
        simulator.stop()


@contextmanager
def _lambda_and_codedeploy_stand_ins(w: World) -> Iterator[None]:
    """Behind moto's authorization (the evaluator still decides each call): Invoke runs the function's
    handler under its own role, as Lambda would run the version; PutLifecycleEventHookExecutionStatus,
    which moto lacks, records the report."""
    from moto.awslambda.responses import LambdaResponse
    from moto.codedeploy.responses import CodeDeployResponse

    prefix = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{STACK}-"

    def invoke(response: Any) -> tuple[int, dict[str, str], bytes]:
        name = unquote(response.path.rsplit("/", 2)[-2])  # a version's ARN, as the hook names it
        function = name.removeprefix(prefix).rsplit(":", 1)[0]
        payload, error = run_like_lambda(w.functions[function].lambda_handler, response.body or b"{}")
        headers = {"content-type": "application/json"} | ({"x-amz-function-error": error} if error else {})
        return 200, headers, payload

    def report(response: Any) -> str:
        body = json.loads(response.body)
        w.hook_reports.append(body)
        return json.dumps({"lifecycleEventHookExecutionId": body["lifecycleEventHookExecutionId"]})

    saved = LambdaResponse.invoke
    LambdaResponse.invoke = invoke  # type: ignore[method-assign,assignment]
    CodeDeployResponse.put_lifecycle_event_hook_execution_status = report  # type: ignore[attr-defined]
    try:
        yield
    finally:
        LambdaResponse.invoke = saved  # type: ignore[method-assign]
        del CodeDeployResponse.put_lifecycle_event_hook_execution_status  # type: ignore[attr-defined]


# --- the flows ------------------------------------------------------------------------------------------

FLOWS: dict[str, Callable[[World], None]] = {}


def flow(fn: Callable[[World], None]) -> Callable[[World], None]:
    FLOWS[fn.__name__] = fn
    return fn


@flow
def get_info_first_sight(w: World) -> None:
    answer = w.api.call("get_info", tenant="gi-first")
    assert answer.status == 200
    assert answer.body["apiKey"]["status"] == "not_configured"


@flow
def ops_get_info(w: World) -> None:
    w.save_key("gi-ops")
    answer = w.api.call("get_info", tenant="gi-ops", operator=OPERATOR)
    assert answer.status == 200 and answer.body["apiKey"]["status"] == "valid"


@flow
def ops_unknown_tenant_is_404(w: World) -> None:
    answer = w.api.call("get_info", tenant="nobody-ever", operator=OPERATOR)
    assert (answer.status, answer.body["error"]["code"]) == (404, "not_found")


@flow
def change_key_first_save(w: World) -> None:
    w.save_key("ck-first")
    assert w.current_value("ck-first", "apiKey") == {"apiKey": KEY}


@flow
def change_key_replace(w: World) -> None:
    new = w.new_key()
    w.save_key("ck-replace")
    w.save_key("ck-replace", new)
    assert w.current_value("ck-replace", "apiKey") == {"apiKey": new}


@flow
def change_key_rejected(w: World) -> None:
    answer = w.api.call("change_key", body={"apiKey": "sim-admin-key-wrong-XXXX"}, tenant="ck-rejected")
    assert (answer.status, answer.body["error"]["code"]) == (422, "api_key_invalid")
    history = w.api.call("history", tenant="ck-rejected").body["events"]
    assert [e["outcome"] for e in history] == ["rejected"]


@flow
def change_key_idempotent_replay(w: World) -> None:
    headers: dict[str, str | None] = {"Idempotency-Key": "once"}
    first = w.api.call("change_key", body={"apiKey": KEY}, tenant="ck-keyed", headers=headers)
    again = w.api.call("change_key", body={"apiKey": KEY}, tenant="ck-keyed", headers=headers)
    assert first.status == again.status == 200
    assert first.body == again.body
    assert len(w.api.call("history", tenant="ck-keyed").body["events"]) == 1  # replayed, not re-run


@flow
def change_key_keyed_atlassian_failure_is_forgotten(w: World) -> None:
    # An error answer is not remembered for the key (Powertools deletes its record), so a retry runs.
    headers: dict[str, str | None] = {"Idempotency-Key": "fails"}
    key = w.new_key(behaviour="error")
    failed = w.api.call("change_key", body={"apiKey": key}, tenant="ck-keyed-error", headers=headers)
    assert (failed.status, failed.body["error"]["code"]) == (502, "atlassian_error")
    w.simulator.add_key(key, ORG_ID, ORG_NAME)
    retried = w.api.call("change_key", body={"apiKey": key}, tenant="ck-keyed-error", headers=headers)
    assert retried.status == 200, retried.body


@flow
def ops_change_key(w: World) -> None:
    w.api.call("get_info", tenant="ck-ops")
    answer = w.api.call("change_key", body={"apiKey": KEY}, tenant="ck-ops", operator=OPERATOR)
    assert answer.status == 200 and answer.body["apiKey"]["createdBy"] == {"type": "aws", "arn": OPERATOR}


@flow
def change_token_first_save_and_replace(w: World) -> None:
    assert w.api.call("change_token", body=TOKEN, tenant="ct").status == 200
    token = f"sim-token-iam-{uuid.uuid4().hex[:8]}"
    w.simulator.add_token("ada@acme.test", token, "sim-account-ada", "Ada Admin")
    replaced = w.api.call("change_token", body={**TOKEN, "apiToken": token}, tenant="ct")
    assert replaced.status == 200, replaced.body
    assert w.current_value("ct", "apiToken") == {**TOKEN, "apiToken": token}


@flow
def change_token_learns_its_expiry_with_the_key(w: World) -> None:
    # The org Admin API key's secret is read to list the organization's tokens (docs/API.md §4).
    w.save_key("ct-expiry")
    body = {"email": "eve@acme.test", "apiToken": "sim-token-expiry-one-EXP1"}
    answer = w.api.call("change_token", body=body, tenant="ct-expiry")
    assert answer.status == 200 and answer.body["apiToken"]["expiresOnSource"] == "atlassian"


@flow
def change_token_rejected(w: World) -> None:
    answer = w.api.call("change_token", body={**TOKEN, "apiToken": "sim-token-wrong-XXXX"}, tenant="ct-no")
    assert answer.status == 422


@flow
def change_token_keyed(w: World) -> None:
    headers: dict[str, str | None] = {"Idempotency-Key": "token-once"}
    first = w.api.call("change_token", body=TOKEN, tenant="ct-keyed", headers=headers)
    again = w.api.call("change_token", body=TOKEN, tenant="ct-keyed", headers=headers)
    assert first.status == again.status == 200 and first.body == again.body


@flow
def change_token_keyed_atlassian_failure(w: World) -> None:
    headers: dict[str, str | None] = {"Idempotency-Key": "token-fails"}
    body = {**TOKEN, "apiToken": "sim-token-error-ERR5"}
    failed = w.api.call("change_token", body=body, tenant="ct-keyed-error", headers=headers)
    assert (failed.status, failed.body["error"]["code"]) == (502, "atlassian_error")


@flow
def history_and_ops_history(w: World) -> None:
    w.save_key("hist")
    mine = w.api.call("history", tenant="hist")
    ops = w.api.call("history", tenant="hist", operator=OPERATOR)
    assert mine.status == ops.status == 200
    assert [e["action"] for e in mine.body["events"]] == ["changed"] and ops.body == mine.body


@flow
def delete_key_and_token(w: World) -> None:
    w.save_key("del")
    assert w.api.call("change_token", body=TOKEN, tenant="del").status == 200
    assert w.api.call("delete_key", tenant="del").body["apiKey"]["status"] == "not_configured"
    assert w.api.call("delete_token", tenant="del", operator=OPERATOR).status == 200
    assert "DeletedDate" in w.secret("del", "apiKey") and "DeletedDate" in w.secret("del", "apiToken")


@flow
def a_change_and_a_delete_meeting_another_changes_lock_are_recorded(w: World) -> None:
    w.save_key("busy")
    w.admin("dynamodb").update_item(  # another change of the key is under way
        TableName=os.environ["TABLE_NAME"],
        Key={"PK": {"S": f"TENANT#{w.tenant_id('busy')}"}, "SK": {"S": "CRED#apiKey"}},
        UpdateExpression="SET lockId = :other, lockUntil = :until",
        ExpressionAttributeValues={
            ":other": {"S": "another-change"},
            ":until": {"N": str(int(time.time()) + 60)},
        },
    )
    for sample, body in (("change_key", {"apiKey": KEY}), ("delete_key", None)):
        answer = w.api.call(sample, body=body, tenant="busy")
        assert (answer.status, answer.body["error"]["code"]) == (409, "change_in_progress"), answer.body
    events = w.api.call("history", tenant="busy").body["events"]
    assert [(e["action"], e["code"]) for e in events[:2]] == [
        ("deleted", "change_in_progress"),
        ("changed", "change_in_progress"),
    ]


@flow
def save_again_after_delete(w: World) -> None:
    # A key saved again after its deletion gets a secret of its own; the deleted one stays deleted.
    w.save_key("again")
    assert w.api.call("delete_key", tenant="again").status == 200
    w.save_key("again")
    assert sorted("DeletedDate" in s for s in w.secrets("again", "apiKey")) == [False, True]
    assert w.current_value("again", "apiKey") == {"apiKey": KEY}


@flow
def save_again_after_delete_token(w: World) -> None:
    assert w.api.call("change_token", body=TOKEN, tenant="again-t").status == 200
    assert w.api.call("delete_token", tenant="again-t").status == 200
    assert w.api.call("change_token", body=TOKEN, tenant="again-t").status == 200
    assert w.current_value("again-t", "apiToken") == TOKEN


@flow
def a_replaced_key_leaves_no_former_secret(w: World) -> None:
    second = w.new_key()
    w.save_key("former")
    w.save_key("former", second)
    assert [s["Name"] for s in w.secrets("former", "apiKey")] == [
        w.record("former", "apiKey")["secretName"]["S"]
    ]
    assert w.current_value("former", "apiKey") == {"apiKey": second}


@flow
def a_token_of_another_account_leaves_no_former_owner(w: World) -> None:
    token = f"sim-token-iam-{uuid.uuid4().hex[:8]}"
    w.simulator.add_token("bob@acme.test", token, "sim-account-bob", "Bob Builder")
    assert w.api.call("change_token", body=TOKEN, tenant="former-t").status == 200
    assert (
        w.api.call(
            "change_token", body={"email": "bob@acme.test", "apiToken": token}, tenant="former-t"
        ).status
        == 200
    )
    (secret,) = w.secrets("former-t", "apiToken")
    assert w.current_value("former-t", "apiToken") == {"email": "bob@acme.test", "apiToken": token}
    assert "DeletedDate" not in secret


@flow
def worker_moves_a_value_out_of_the_former_fixed_secret(w: World) -> None:
    assert w.api.call("change_token", body=TOKEN, tenant="move-w").status == 200
    w.make_legacy("move-w", "apiToken")
    w.enqueue("move-w")
    assert w.deliver() == {"batchItemFailures": []}
    (secret,) = w.secrets("move-w", "apiToken")
    assert secret["Name"] == w.record("move-w", "apiToken")["secretName"]["S"]


@flow
def check_now_moves_a_value_out_of_the_former_fixed_secret(w: World) -> None:
    w.save_key("move-now")
    w.make_legacy("move-now", "apiKey")
    assert w.api.call("check_now", tenant="move-now").status == 200
    (secret,) = w.secrets("move-now", "apiKey")
    assert secret["Name"] == w.record("move-now", "apiKey")["secretName"]["S"]


@flow
def uninstall_forgets_the_site(w: World) -> None:
    w.save_key("gone")
    assert w.api.call("change_token", body=TOKEN, tenant="gone").status == 200
    assert w.api.call("uninstalled", account=None, tenant="gone").status == 204
    assert "DeletedDate" in w.secret("gone", "apiKey") and "DeletedDate" in w.secret("gone", "apiToken")
    assert w.api.call("get_info", tenant="gone").body["apiKey"]["status"] == "not_configured"


@flow
def personal_data_erases_a_closed_token_owner(w: World) -> None:
    # Saved with an Idempotency-Key, so that the erasure has saved answers to delete.
    saved = w.api.call("change_token", body=TOKEN, tenant="pd-closed", headers={"Idempotency-Key": "pd-1"})
    assert saved.status == 200, saved.body
    w.simulator.privacy.closed = {"sim-account-ada"}
    try:
        answer = w.api.call("personal_data", account=None, tenant="pd-closed")
    finally:
        w.simulator.reset()
    assert answer.status == 202 and answer.body["closed"] == 1, answer.body
    token = w.api.call("get_info", tenant="pd-closed").body["apiToken"]
    assert (token["status"], token["email"]) == ("invalid", None)
    assert w.secrets("pd-closed", "apiToken") == []  # deleted at once, every version


@flow
def personal_data_queues_a_long_history_for_the_worker(w: World) -> None:
    w.save_key("pd-long")
    w.simulator.privacy.updated = {"sim-admin-0001": "Sam Renamed"}
    long_history, privacy.LARGE_HISTORY = privacy.LARGE_HISTORY, 0
    try:
        answer = w.api.call("personal_data", account=None, tenant="pd-long")
    finally:
        privacy.LARGE_HISTORY = long_history
        w.simulator.reset()
    assert answer.status == 202 and answer.body["queued"], answer.body
    assert w.deliver() == {"batchItemFailures": []}
    (event,) = w.api.call("history", tenant="pd-long").body["events"]
    assert event["actor"]["displayName"] == "Sam Renamed"


@flow
def ops_personal_data_erases_an_account(w: World) -> None:
    w.save_key("pd-ops")
    body = {"accountId": "sim-admin-0001", "status": "closed"}
    answer = w.api.call("ops_personal_data", body=body, tenant="pd-ops", operator=OPERATOR)
    assert answer.status == 202 and answer.body["closed"] == 1, answer.body
    created_by = w.api.call("get_info", tenant="pd-ops").body["apiKey"]["createdBy"]
    assert created_by["accountId"] == "closed-account"


@flow
def race_uninstall_overtakes_a_first_key_save(w: World) -> None:
    w.api.call("get_info", tenant="race-key")
    undo = w.uninstall_before(API_KEY, "validate", "race-key")
    try:
        answer = w.api.call("change_key", body={"apiKey": KEY}, tenant="race-key")
    finally:
        undo()
    assert (answer.status, answer.body["error"]["code"]) == (409, "change_in_progress"), answer.body
    assert w.secrets("race-key", "apiKey") == []  # no secret left behind


@flow
def race_uninstall_overtakes_a_first_token_save(w: World) -> None:
    w.api.call("get_info", tenant="race-token")
    undo = w.uninstall_before(API_TOKEN, "validate", "race-token")
    try:
        answer = w.api.call("change_token", body=TOKEN, tenant="race-token")
    finally:
        undo()
    assert (answer.status, answer.body["error"]["code"]) == (409, "change_in_progress"), answer.body
    assert w.secrets("race-token", "apiToken") == []


@flow
def race_uninstall_overtakes_a_delete(w: World) -> None:
    w.save_key("race-delete")
    undo = w.uninstall_before(services().records, "delete", "race-delete")
    try:
        answer = w.api.call("delete_key", tenant="race-delete")
    finally:
        undo()
    assert answer.status == 200 and answer.body["apiKey"]["status"] == "not_configured"


@flow
def race_uninstall_overtakes_a_rejected_change(w: World) -> None:
    w.api.call("get_info", tenant="race-rejected")
    undo = w.uninstall_before(API_KEY, "validate", "race-rejected")
    try:
        answer = w.api.call("change_key", body={"apiKey": "sim-admin-key-wrong-XXXX"}, tenant="race-rejected")
    finally:
        undo()
    assert (answer.status, answer.body["error"]["code"]) == (422, "api_key_invalid")


@flow
def check_now(w: World) -> None:
    w.save_key("now")
    assert w.api.call("change_token", body=TOKEN, tenant="now").status == 200
    answer = w.api.call("check_now", tenant="now")
    assert answer.status == 200 and answer.body["apiKey"]["lastCheck"]["outcome"] == "ok"


@flow
def ops_check_now(w: World) -> None:
    w.save_key("now-ops")
    answer = w.api.call("check_now", tenant="now-ops", operator=OPERATOR)
    assert answer.status == 200, answer.body
    assert answer.body["apiKey"]["lastCheck"]["outcome"] == "ok"


@flow
def check_now_announces_a_revoked_key(w: World) -> None:
    key = w.new_key()
    w.save_key("now-revoked", key)
    w.simulator.remove_key(key)
    answer = w.api.call("check_now", tenant="now-revoked")
    assert answer.status == 200 and answer.body["apiKey"]["status"] == "invalid"
    events = [
        e for e in w.checks.events() if e["detail"]["tenant"]["installationId"] == w.tenant_id("now-revoked")
    ]
    assert [(e["detail"]["previousStatus"], e["detail"]["status"]) for e in events] == [("valid", "invalid")]


def reminded(w: World, tenant: str) -> list[int]:
    """The thresholds of the expiry reminders published for a flow's tenant."""
    return [
        r["detail"]["threshold"]
        for r in w.checks.reminders()
        if r["detail"]["tenantId"] == w.tenant_id(tenant)
    ]


@flow
def check_now_publishes_an_expiry_reminder(w: World) -> None:
    soon = (datetime.now(UTC).date() + timedelta(days=5)).isoformat()
    w.save_key("now-remind", body={"apiKey": KEY, "expiresOn": soon})
    assert w.api.call("check_now", tenant="now-remind").status == 200
    assert reminded(w, "now-remind") == [7]


@flow
def dispatcher_sends_every_tenant(w: World) -> None:
    w.save_key("dispatched")
    w.dispatch()
    sqs = w.admin("sqs")
    bodies = []
    while answer := sqs.receive_message(QueueUrl=w.checks.queue_url, MaxNumberOfMessages=10).get("Messages"):
        bodies += [json.loads(m["Body"])["tenantId"] for m in answer]
        sqs.delete_message_batch(
            QueueUrl=w.checks.queue_url,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(answer)],
        )
    assert w.tenant_id("dispatched") in bodies


@flow
def worker_checks_and_announces(w: World) -> None:
    key = w.new_key()
    w.save_key("worker")
    assert w.api.call("change_token", body=TOKEN, tenant="worker").status == 200
    w.save_key("worker-revoked", key)
    w.simulator.remove_key(key)
    w.enqueue("worker", "worker-revoked")
    assert w.deliver() == {"batchItemFailures": []}
    assert w.api.call("get_info", tenant="worker-revoked").body["apiKey"]["status"] == "invalid"
    revoked = w.tenant_id("worker-revoked")
    events = [e for e in w.checks.events() if e["detail"]["tenant"]["installationId"] == revoked]
    assert len(events) == 1
    assert w.admin("sqs").receive_message(QueueUrl=w.checks.queue_url).get("Messages") is None  # deleted


@flow
def worker_publishes_an_expiry_reminder(w: World) -> None:
    soon = (datetime.now(UTC).date() + timedelta(days=20)).isoformat()
    w.save_key("worker-remind", body={"apiKey": KEY, "expiresOn": soon})
    w.enqueue("worker-remind")
    assert w.deliver() == {"batchItemFailures": []}
    assert reminded(w, "worker-remind") == [30]


@flow
def worker_defers_a_check_atlassian_could_not_answer(w: World) -> None:
    key = w.new_key()
    w.save_key("worker-retry", key)
    w.simulator.add_key(key, ORG_ID, ORG_NAME, behaviour="error")
    w.enqueue("worker-retry")
    response = w.deliver()
    assert len(response["batchItemFailures"]) == 1
    # Its retry is timed by the worker (ChangeMessageVisibility), not by the queue's 12 minutes: hidden now.
    sqs = w.admin("sqs")
    assert sqs.receive_message(QueueUrl=w.checks.queue_url).get("Messages") is None
    # Gone for good, or it would come back into another flow's batch a minute later.
    sqs.delete_message(QueueUrl=w.checks.queue_url, ReceiptHandle=w.delivered[0]["ReceiptHandle"])


def _deployment(w: World, function: str) -> str:
    """A deployment of `function`'s alias in its deployment group, as SAM names them (moto's CodeDeploy)."""
    codedeploy = w.admin("codedeploy")
    app, group = f"{STACK}-ServerlessDeploymentApplication", f"{STACK}-{function}DeploymentGroup"
    with contextlib.suppress(codedeploy.exceptions.ApplicationAlreadyExistsException):
        codedeploy.create_application(applicationName=app, computePlatform="Lambda")
    with contextlib.suppress(codedeploy.exceptions.DeploymentGroupAlreadyExistsException):
        codedeploy.create_deployment_group(
            applicationName=app,
            deploymentGroupName=group,
            serviceRoleArn=f"arn:aws:iam::{ACCOUNT_ID}:role/{STACK}-CodeDeployRole",
        )
    revision = {"revisionType": "AppSpecContent", "appSpecContent": {"content": "{}"}}
    return codedeploy.create_deployment(applicationName=app, deploymentGroupName=group, revision=revision)[  # type: ignore[no-any-return]
        "deploymentId"
    ]


@flow
def pre_traffic_hook_lets_the_new_versions_through(w: World) -> None:
    # Given a deployment of get-info's alias; the hook tries every function's new version in turn (one
    # at a time: each runs under its own role, and the roles stack up in this process)
    event = {
        "DeploymentId": _deployment(w, "GetInfoFunction"),
        "LifecycleEventHookExecutionId": uuid.uuid4().hex,
    }
    parallel, pre_traffic.MAX_PARALLEL = pre_traffic.MAX_PARALLEL, 1
    w.hook_reports.clear()
    try:
        answer = w.functions["PreTrafficHookFunction"].lambda_handler(event, LambdaContext())
    finally:
        pre_traffic.MAX_PARALLEL = parallel
    assert answer == {"status": "Succeeded"}
    assert [r["status"] for r in w.hook_reports] == ["Succeeded"]
