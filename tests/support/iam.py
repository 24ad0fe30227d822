"""Least privilege, proven: every function runs under exactly the policies template.yaml gives its role,
against moto's server, and a small policy evaluator decides each request through moto's enforcement hook.

How a request is decided: moto checks the SigV4 signature and finds the principal (the function's role
session, or the test's own admin user); then, instead of moto's own `check_action_permitted` (which
compares resources as `*` for DynamoDB, Secrets Manager and EventBridge, checks batches under their own
names, ignores conditions and never sees KMS), `Evaluator.authorize` lists what AWS would check for the
request (`Evaluator.checks`) and evaluates each against the role's policies as moto's IAM holds them.

MODEL: what this evaluator assumes beyond AWS's documentation, or chooses where AWS documents less.
Each assumption is marked `MODEL:` where it is made, and listed in docs/SECURITY.md.
- Only Allow/Deny statements with Action/Resource/Condition are read (no NotAction, NotResource,
  permission boundaries, SCPs or session policies: the template uses none).
- A KMS call a service makes for the caller is decided on every request that could make it. AWS caches
  data keys (DynamoDB's table key for minutes, SQS's for KmsDataKeyReusePeriodSeconds), so a deployed
  function needs the permission at least as often as it first meets a table or queue in a container.
- Secrets Manager: storing a value (CreateSecret with a value, PutSecretValue) is kms:GenerateDataKey,
  reading one (GetSecretValue, each secret of BatchGetSecretValue) is kms:Decrypt.
- The Lambda service's own calls with the execution role (CloudWatch Logs, X-Ray) are made by
  `Stack.invoked` once per invocation, standing in for the runtime; the SQS event source mapping's
  calls (GetQueueAttributes, ReceiveMessage, DeleteMessage) are made by `Stack.deliver`.
- Lambda's Invoke is checked as lambda:InvokeFunction on the ARN the caller names (a version's ARN,
  qualified); CodeDeploy's PutLifecycleEventHookExecutionStatus on the deployment group of the
  deployment reported on. Behind the check, tests/iam/flows.py stands in for both services.
"""

from __future__ import annotations

import copy
import json
import re
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import boto3
import requests
from botocore.credentials import CredentialProvider, Credentials, ReadOnlyCredentials

from local.cfn import load_template
from local.resources import ACCOUNT_ID, LocalResources, _Builder, create_resources
from tests.support.harness import reset_container_caches

REGION = "us-east-1"
STACK = "api-info-iam"
ADMIN_USER = "least-privilege-test"  # the test's own principal: it sets up and looks, it is no function


# --- the template as `sam deploy` sends it ----------------------------------------------------------


def transformed(template_path: Path, parameters: dict[str, str]) -> dict[str, Any]:
    """The template after the SAM transform, as CloudFormation receives it from `sam deploy`."""
    from samtranslator.translator.transform import transform

    template = copy.deepcopy(load_template(template_path))
    for resource in template["Resources"].values():
        props = resource.get("Properties") or {}
        # `sam package` replaces local code paths with S3 locations before the transform runs.
        if resource.get("Type") == "AWS::Serverless::Function":
            props["CodeUri"] = "s3://artifacts/function.zip"
        elif resource.get("Type") == "AWS::Serverless::LayerVersion":
            props["ContentUri"] = "s3://artifacts/layer.zip"

    class NoManagedPolicies:  # the roles are explicit: SAM attaches no managed policy to look up
        def load(self) -> dict[str, str]:
            return {}

    result: dict[str, Any] = transform(template, dict(parameters), NoManagedPolicies())
    return result


def function_roles(template: dict[str, Any]) -> dict[str, str]:
    """Function logical id -> logical id of the role it runs as (its Role: !GetAtt X.Arn)."""
    roles = {}
    for logical_id, resource in template["Resources"].items():
        if resource.get("Type") == "AWS::Lambda::Function":
            role = resource["Properties"]["Role"]
            assert "Fn::GetAtt" in role, f"{logical_id}: expected Role: !GetAtt <Role>.Arn, got {role}"
            roles[logical_id] = role["Fn::GetAtt"][0]
    return roles


# --- identities ---------------------------------------------------------------------------------------


class _CurrentCredentials(Credentials):
    """Credentials that sign as whoever runs now: a function's role session while it is invoked."""

    def __init__(self, identities: Identities) -> None:
        super().__init__("unused", "unused")
        self._identities = identities

    def get_frozen_credentials(self) -> ReadOnlyCredentials:
        return self._identities.current()


class _Provider(CredentialProvider):
    METHOD = "least-privilege-test"

    def __init__(self, identities: Identities) -> None:
        self._credentials = _CurrentCredentials(identities)

    def load(self) -> Credentials:
        return self._credentials


class Identities:
    """A stack of credentials: the test's admin at the bottom, the function being invoked on top.

    A stack, not a context variable: the check worker signs from its own threads, and an uninstall
    landing in the middle of a change runs nested inside it."""

    def __init__(self, admin: ReadOnlyCredentials) -> None:
        self._stack = [admin]
        self._lock = threading.Lock()

    def current(self) -> ReadOnlyCredentials:
        with self._lock:
            return self._stack[-1]

    @contextmanager
    def acting_as(self, credentials: ReadOnlyCredentials) -> Iterator[None]:
        with self._lock:
            self._stack.append(credentials)
        try:
            yield
        finally:
            with self._lock:
                self._stack.pop()


# --- the evaluator --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    """One authorization AWS makes for a request: an action on a resource, with its context keys."""

    action: str
    resource: str
    context: tuple[tuple[str, str], ...] = ()
    kms_via: bool = False  # a KMS call a service makes with the caller's credentials

    def __str__(self) -> str:
        keys = "".join(f" {k}={v}" for k, v in self.context if not k.startswith("kms:CallerAccount"))
        return f"{self.action} on {self.resource}{keys}"


@dataclass(frozen=True)
class Denial:
    function: str
    request: str  # the API call the function made
    check: Check
    reason: str

    def __str__(self) -> str:
        return f"{self.function} calling {self.request}: denied {self.check} ({self.reason})"


@dataclass
class Evaluator:
    """Decides each request to moto's server as IAM would, for the template's roles."""

    key_policy: dict[str, Any]
    table_keys: dict[str, str]  # table name -> ARN of the KMS key encrypting it
    backends: Callable[[], Any]  # (secrets backend, sqs backend), read when a request comes
    codedeploy: Callable[[], Any]  # moto's CodeDeploy backend, read when a request comes
    denials: list[Denial] = field(default_factory=list)
    # (role name, statement Sid, action) of every allow that decided a check: what each grant was used for
    used: set[tuple[str, str, str]] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def authorize(self, request: Any) -> None:
        """moto's hook (`IAMRequest.check_action_permitted`): raise AccessDenied unless every check passes."""
        from moto.core.exceptions import AccessDeniedError
        from moto.iam.access_control import AssumedRoleAccessKey, IAMUserAccessKey

        principal = request._access_key
        if isinstance(principal, IAMUserAccessKey) and principal._owner_user_name == ADMIN_USER:
            return
        if not isinstance(principal, AssumedRoleAccessKey):
            raise AccessDeniedError(user_arn=principal.arn, action=request._action)
        role = principal._owner_role_name
        policies = [json.loads(p) if isinstance(p, str) else p for p in principal.collect_policies()]
        for check in self.checks(request):
            reason = self._decide(role, policies, check)
            if reason:
                denial = Denial(principal._session_name, request._action, check, reason)
                with self._lock:
                    self.denials.append(denial)
                raise AccessDeniedError(user_arn=principal.arn, action=check.action)

    def _decide(self, role: str, policies: list[dict[str, Any]], check: Check) -> str | None:
        """None when allowed; else why not."""
        role_statements = [statement for policy in policies for statement in _statements(policy)]
        allowing, refused = _judge(role_statements, check, "the role's policies")
        if refused:
            return refused
        if check.kms_via:
            # Same account: the key policy must allow it too (its root principal delegates to IAM).
            principal = f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/{role}"
            key_statements = [s for s in _statements(self.key_policy) if _principal_matches(s, principal)]
            key_allows, refused = _judge(key_statements, check, "the key policy")
            if refused:
                return refused
            with self._lock:
                self.used.update(("SecretsKey", sid, check.action) for sid in key_allows)
        with self._lock:
            self.used.update((role, sid, check.action) for sid in allowing)
        return None

    # --- what AWS checks for a request ----------------------------------------------------------------

    def checks(self, request: Any) -> list[Check]:
        service, operation = request._action.split(":", 1)
        body = _json_body(request)
        region, account = request._region, ACCOUNT_ID
        if service == "dynamodb":
            return self._dynamodb(operation, body, region, account)
        if service == "secretsmanager":
            return self._secretsmanager(operation, body, region, account)
        if service == "sqs":
            return self._sqs(operation, body)
        if service == "events" and operation == "PutEvents":
            return [
                Check(
                    "events:PutEvents",
                    _bus_arn(entry.get("EventBusName") or "default", region, account),
                    (("events:source", entry["Source"]), ("events:detail-type", entry["DetailType"])),
                )
                for entry in body["Entries"]
            ]
        if service == "logs" and operation in ("CreateLogStream", "PutLogEvents"):
            arn = f"arn:aws:logs:{region}:{account}:log-group:{body['logGroupName']}"
            return [Check(f"logs:{operation}", f"{arn}:log-stream:{body['logStreamName']}")]
        # MODEL: Invoke on the ARN named; the hook names each version by its qualified ARN.
        if service == "lambda" and operation == "Invoke":
            # /2015-03-31/functions/<name or ARN, URL-encoded>/invocations; the version in the ARN
            name = unquote(request._path.split("?")[0].rstrip("/").split("/")[-2])
            qualifier = (request._data or {}).get("Qualifier")
            arn = name if name.startswith("arn:") else f"arn:aws:lambda:{region}:{account}:function:{name}"
            return [Check("lambda:InvokeFunction", f"{arn}:{qualifier}" if qualifier else arn)]
        if service == "codedeploy" and operation == "PutLifecycleEventHookExecutionStatus":
            # Authorized on the deployment group of the deployment reported on.
            deployment = self.codedeploy().deployments[body["deploymentId"]]
            group = f"{deployment.application_name}/{deployment.deployment_group_name}"
            return [Check(request._action, f"arn:aws:codedeploy:{region}:{account}:deploymentgroup:{group}")]
        if service == "xray":
            # moto names X-Ray's operations after their paths (/TraceSegments); neither has a resource.
            return [Check(f"xray:Put{operation.removeprefix('Put')}", "*")]
        # Anything else is checked on `*`, so that an unexpected call is denied rather than let through.
        return [Check(request._action, "*")]

    def _dynamodb(self, operation: str, body: dict[str, Any], region: str, account: str) -> list[Check]:
        def table(name: str) -> str:
            return f"arn:aws:dynamodb:{region}:{account}:table/{name}"

        checks: list[Check] = []
        tables: list[str] = []
        if operation in ("BatchGetItem", "BatchWriteItem"):
            for name in body["RequestItems"]:
                checks.append(Check(f"dynamodb:{operation}", table(name)))
                tables.append(name)
        elif operation in ("TransactWriteItems", "TransactGetItems"):
            # No IAM action of its own: each item is authorized as the single-item action it is.
            kinds = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem"}
            kinds |= {"ConditionCheck": "ConditionCheckItem", "Get": "GetItem"}
            for item in body["TransactItems"]:
                ((kind, spec),) = item.items()
                checks.append(Check(f"dynamodb:{kinds[kind]}", table(spec["TableName"])))
                tables.append(spec["TableName"])
        else:
            name = body["TableName"]
            arn = table(name)
            if body.get("IndexName"):
                arn += f"/index/{body['IndexName']}"
            checks.append(Check(f"dynamodb:{operation}", arn))
            tables.append(name)
        # MODEL: DynamoDB decrypts a table's key with the caller's credentials on data-plane calls.
        for key in sorted({self.table_keys[t] for t in tables if t in self.table_keys}):
            checks.append(_via(key, "kms:Decrypt", "dynamodb", region, account))
        return checks

    def _secretsmanager(self, operation: str, body: dict[str, Any], region: str, account: str) -> list[Check]:
        secrets_backend, _ = self.backends()
        checks: list[Check] = []
        if operation == "BatchGetSecretValue":
            # No resource of its own; each secret returned is also authorized as GetSecretValue.
            checks.append(Check("secretsmanager:BatchGetSecretValue", "*"))
            for secret_id in body.get("SecretIdList", []):
                checks += self._secretsmanager("GetSecretValue", {"SecretId": secret_id}, region, account)
            return checks
        secret_id = body.get("SecretId") or body["Name"]
        secret = secrets_backend.secrets.get(secret_id)
        # MODEL: a secret still to be created is checked under its name and a six-character suffix, as
        # AWS will name it.
        arn = secret.arn if secret else f"arn:aws:secretsmanager:{region}:{account}:secret:{secret_id}-AbCdEf"
        checks.append(Check(f"secretsmanager:{operation}", arn))
        if operation == "CreateSecret" and body.get("Tags"):
            checks.append(Check("secretsmanager:TagResource", arn))
        key = body.get("KmsKeyId") if operation == "CreateSecret" else (secret.kms_key_id if secret else None)
        if key and not key.startswith("alias/aws/"):
            key = _key_arn(key, region, account)
            # MODEL: storing a value is GenerateDataKey, reading one Decrypt (on every such call).
            stores = operation == "CreateSecret" and ("SecretString" in body or "SecretBinary" in body)
            if stores or operation == "PutSecretValue":
                checks.append(_via(key, "kms:GenerateDataKey", "secretsmanager", region, account))
            elif operation == "GetSecretValue":
                checks.append(_via(key, "kms:Decrypt", "secretsmanager", region, account))
        return checks

    def _sqs(self, operation: str, body: dict[str, Any]) -> list[Check]:
        _, sqs_backend = self.backends()
        # Batch calls are authorized as the single-message action (AWS's SQS API reference).
        action = operation.removesuffix("Batch") if operation.endswith("MessageBatch") else operation
        action = "ChangeMessageVisibility" if operation == "ChangeMessageVisibilityBatch" else action
        url = body.get("QueueUrl")
        if not url:
            return [Check(f"sqs:{operation}", "*")]
        account, name = urlparse(url).path.strip("/").split("/")[:2]
        region = sqs_backend.region_name
        checks = [Check(f"sqs:{action}", f"arn:aws:sqs:{region}:{account}:{name}")]
        queue = sqs_backend.queues.get(name)
        key = getattr(queue, "kms_master_key_id", None) if queue else None
        if key and not key.startswith("alias/aws/"):
            key = _key_arn(key, region, account)
            # SQS's documentation: a producer needs GenerateDataKey and Decrypt, a consumer Decrypt.
            # MODEL: on every call, though SQS reuses a data key for KmsDataKeyReusePeriodSeconds.
            if action == "SendMessage":
                checks.append(_via(key, "kms:GenerateDataKey", "sqs", region, account))
                checks.append(_via(key, "kms:Decrypt", "sqs", region, account))
            elif action == "ReceiveMessage":
                checks.append(_via(key, "kms:Decrypt", "sqs", region, account))
        return checks


def _via(key_arn: str, action: str, service: str, region: str, account: str) -> Check:
    context = (("kms:ViaService", f"{service}.{region}.amazonaws.com"), ("kms:CallerAccount", account))
    return Check(action, key_arn, context, kms_via=True)


def _key_arn(key: str, region: str, account: str) -> str:
    return key if key.startswith("arn:") else f"arn:aws:kms:{region}:{account}:key/{key}"


def _bus_arn(name: str, region: str, account: str) -> str:
    return name if name.startswith("arn:") else f"arn:aws:events:{region}:{account}:event-bus/{name}"


def _json_body(request: Any) -> dict[str, Any]:
    raw = request._body
    if not raw:
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _judge(statements: list[dict[str, Any]], check: Check, whose: str) -> tuple[list[str], str | None]:
    """The Sids of the statements that allow the check; or why `whose` statements refuse it."""
    allowing, denied = _allowing(statements, check)
    if denied:
        return [], f"an explicit Deny in {whose}"
    if not allowing:
        return [], f"no statement of {whose} allows it"
    return allowing, None


def _allowing(statements: list[dict[str, Any]], check: Check) -> tuple[list[str], bool]:
    """The Sids of the statements that allow the check, and whether one of them denies it instead."""
    allowing = []
    for statement in statements:
        if _matches(statement, check):
            if statement["Effect"] == "Deny":
                return [], True
            allowing.append(statement.get("Sid", "(no Sid)"))
    return allowing, False


def _statements(policy: dict[str, Any]) -> list[dict[str, Any]]:
    statements = policy.get("Statement", [])
    statements = statements if isinstance(statements, list) else [statements]
    for statement in statements:
        unknown = set(statement) - {"Sid", "Effect", "Action", "Resource", "Condition", "Principal"}
        # MODEL: only these elements are read; anything else would need the model to grow first.
        assert not unknown, f"the evaluator does not read {unknown} (statement {statement.get('Sid')})"
    return statements


def _listed(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _glob(pattern: str, text: str, *, case: bool) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, text, 0 if case else re.IGNORECASE) is not None


def _matches(statement: dict[str, Any], check: Check) -> bool:
    if not any(_glob(a, check.action, case=False) for a in _listed(statement.get("Action", []))):
        return False
    if not any(_glob(r, check.resource, case=True) for r in _listed(statement.get("Resource", []))):
        return False
    return _conditions_hold(statement.get("Condition") or {}, dict(check.context))


def _conditions_hold(conditions: dict[str, Any], context: dict[str, str]) -> bool:
    keys = {k.lower(): v for k, v in context.items()}
    for operator, tests in conditions.items():
        for key, expected in tests.items():
            actual = keys.get(key.lower())
            if actual is None:
                return False  # a condition on a key the request does not have never holds
            wanted = _listed(expected)
            if operator == "StringEquals":
                ok = actual in wanted
            elif operator in ("StringLike", "ArnLike", "ArnEquals"):
                ok = any(_glob(w, actual, case=True) for w in wanted)
            elif operator == "Bool":
                ok = actual.lower() in [w.lower() for w in wanted]
            else:
                raise AssertionError(f"the evaluator does not know the condition operator {operator}")
            if not ok:
                return False
    return True


def _principal_matches(statement: dict[str, Any], principal_arn: str) -> bool:
    principal = statement.get("Principal")
    if principal == "*":
        return True
    for arn in _listed((principal or {}).get("AWS", [])):
        # An account's root principal stands for every principal of the account (IAM decides the rest).
        if arn == "*" or arn == f"arn:aws:iam::{ACCOUNT_ID}:root" or principal_arn.startswith(arn):
            return True
    return False


# --- the stack ------------------------------------------------------------------------------------------


@dataclass
class Stack:
    """moto's server holding template.yaml's resources and roles, each function's role session, and the
    evaluator deciding every request."""

    url: str
    resources: LocalResources
    template: dict[str, Any]
    roles: dict[str, str]  # function -> role name in IAM
    role_policies: dict[str, dict[str, dict[str, Any]]]  # role name -> policy name -> document
    sessions: dict[str, ReadOnlyCredentials]  # function -> its role session's credentials
    identities: Identities
    evaluator: Evaluator
    log_groups: dict[str, str]  # function -> its log group name
    admin: boto3.session.Session
    container: str = ""  # the function whose sandbox ran last
    runtime_clients: list[Any] = field(default_factory=list)

    @contextmanager
    def invoked(self, function: str) -> Iterator[None]:
        """Run the body as `function` invoked by Lambda: its role session signs every AWS call.

        MODEL: the runtime writes the invocation's logs and trace with the execution role; here one
        log stream, one log event and one trace segment per invocation."""
        if function != self.container:
            # MODEL: another function's sandbox; nothing cached (clients, the fingerprint key) carries over.
            reset_container_caches()
            self.container = function
        with self.identities.acting_as(self.sessions[function]):
            if not self.runtime_clients:  # they sign as whoever runs: here, the function's role
                self.runtime_clients = [boto3.client("logs"), boto3.client("xray")]
            logs, xray = self.runtime_clients
            stream = f"2026/12/02/[$LATEST]{uuid.uuid4().hex}"
            logs.create_log_stream(logGroupName=self.log_groups[function], logStreamName=stream)
            logs.put_log_events(
                logGroupName=self.log_groups[function],
                logStreamName=stream,
                logEvents=[{"timestamp": 1_764_633_600_000, "message": f"START {function}"}],
            )
            trace_id = f"1-6755a0b0-{uuid.uuid4().hex[:24]}"
            segment = {"name": function, "id": uuid.uuid4().hex[:16], "trace_id": trace_id}
            xray.put_trace_segments(
                TraceSegmentDocuments=[json.dumps({**segment, "start_time": 1, "end_time": 2})]
            )
            xray.put_telemetry_records(TelemetryRecords=[{"Timestamp": 1_764_633_600}])
            yield

    @contextmanager
    def without(self, role: str, sid: str, action: str) -> Iterator[None]:
        """One action taken out of a role's statement in IAM (the statement, if it was its only one)."""
        iam = self.admin.client("iam", endpoint_url=self.url)
        for name, document in self.role_policies[role].items():
            statements = []
            for statement in document["Statement"]:
                if statement.get("Sid") == sid:
                    kept = [a for a in _listed(statement["Action"]) if a != action]
                    if not kept:
                        continue
                    statement = {**statement, "Action": kept}
                statements.append(statement)
            if statements != document["Statement"]:
                ablated = json.dumps({**document, "Statement": statements})
                iam.put_role_policy(RoleName=role, PolicyName=name, PolicyDocument=ablated)
                try:
                    yield
                finally:
                    iam.put_role_policy(RoleName=role, PolicyName=name, PolicyDocument=json.dumps(document))
                return
        raise KeyError(f"{role} has no statement {sid} granting {action}")


def start_stack(server_url: str, template_path: Path, parameters: dict[str, str]) -> Stack:
    """Create the template's resources and roles on moto's server, take each function's role session,
    then switch on enforcement with the evaluator as moto's hook (see `enforce`)."""
    admin = boto3.session.Session(
        aws_access_key_id="setup", aws_secret_access_key="setup", region_name=REGION
    )
    requests.post(f"{server_url}/moto-api/reset", timeout=10)
    resources = create_resources(
        template_path,
        session=admin,
        parameter_overrides=parameters,
        region=REGION,
        endpoint_url=server_url,
        stack_name=STACK,
    )
    template = transformed(template_path, parameters)
    builder = _Builder(template, admin, {}, REGION, server_url)
    builder.stack_name, builder.overrides = STACK, dict(parameters)
    builder.refs.update(resources.refs)
    builder.arns.update(resources.arns)

    # Log groups: created here (the local stack has no use for them); CloudFormation's Arn ends in ":*".
    logs = admin.client("logs", endpoint_url=server_url)
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] == "AWS::Logs::LogGroup":
            name = builder.resolve(resource["Properties"]["LogGroupName"])
            logs.create_log_group(logGroupName=name)
            builder.refs[logical_id] = name
            builder.arns[logical_id] = f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:{name}:*"

    # The stack's own secret is encrypted with the stack's key, as the template says.
    secrets = admin.client("secretsmanager", endpoint_url=server_url)
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] == "AWS::SecretsManager::Secret":
            kms_key = builder.resolve((resource.get("Properties") or {}).get("KmsKeyId"))
            if kms_key:
                secrets.update_secret(SecretId=resources.refs[logical_id], KmsKeyId=kms_key)

    # SAM's `!Ref <Function>.Version` becomes a reference to a published version: its ARN, version 1, as
    # the local stack gives the pre-traffic hook's environment (local.intrinsics).
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] == "AWS::Lambda::Version":
            function = resource["Properties"]["FunctionName"]["Ref"]
            builder.ensure(function)
            builder.refs[logical_id] = f"{builder.arns[function]}:1"

    iam = admin.client("iam", endpoint_url=server_url)
    sts = admin.client("sts", endpoint_url=server_url)
    roles, role_policies, sessions, log_groups = {}, {}, {}, {}
    for function, role_id in function_roles(template).items():
        role = template["Resources"][role_id]["Properties"]
        name = f"{STACK}-{role_id}"
        if name not in role_policies:
            iam.create_role(
                RoleName=name,
                AssumeRolePolicyDocument=json.dumps(builder.resolve(role["AssumeRolePolicyDocument"])),
            )
            assert not role.get("ManagedPolicyArns"), f"{role_id}: managed policies are not modelled"
            role_policies[name] = {}
            for policy in role.get("Policies", []):
                document = builder.resolve(policy["PolicyDocument"])
                iam.put_role_policy(
                    RoleName=name, PolicyName=policy["PolicyName"], PolicyDocument=json.dumps(document)
                )
                role_policies[name][policy["PolicyName"]] = document
        roles[function] = name
        # Taken before enforcement: moto's AssumeRole crashes when it checks a service-only trust.
        answer = sts.assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT_ID}:role/{name}", RoleSessionName=function)[
            "Credentials"
        ]
        sessions[function] = ReadOnlyCredentials(
            answer["AccessKeyId"], answer["SecretAccessKey"], answer["SessionToken"], None
        )
        config = template["Resources"][function]["Properties"].get("LoggingConfig") or {}
        log_groups[function] = builder.resolve(config["LogGroup"])

    iam.create_user(UserName=ADMIN_USER)
    key = iam.create_access_key(UserName=ADMIN_USER)["AccessKey"]
    admin_credentials = ReadOnlyCredentials(key["AccessKeyId"], key["SecretAccessKey"], None, None)
    admin = boto3.session.Session(
        aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"], region_name=REGION
    )

    key_id = next(k for k, r in template["Resources"].items() if r["Type"] == "AWS::KMS::Key")
    table_keys = {}
    for logical_id, resource in template["Resources"].items():
        sse = (resource.get("Properties") or {}).get("SSESpecification") or {}
        if resource["Type"] == "AWS::DynamoDB::Table" and sse.get("KMSMasterKeyId"):
            table_keys[resources.refs[logical_id]] = builder.resolve(sse["KMSMasterKeyId"])

    def backends() -> Any:
        from moto.secretsmanager.models import secretsmanager_backends
        from moto.sqs.models import sqs_backends

        return secretsmanager_backends[ACCOUNT_ID][REGION], sqs_backends[ACCOUNT_ID][REGION]

    def codedeploy() -> Any:
        from moto.codedeploy.models import codedeploy_backends

        return codedeploy_backends[ACCOUNT_ID][REGION]

    evaluator = Evaluator(
        key_policy=builder.resolve(template["Resources"][key_id]["Properties"]["KeyPolicy"]),
        table_keys=table_keys,
        backends=backends,
        codedeploy=codedeploy,
    )
    return Stack(
        url=server_url,
        resources=resources,
        template=template,
        roles=roles,
        role_policies=role_policies,
        sessions=sessions,
        identities=Identities(admin_credentials),
        evaluator=evaluator,
        log_groups=log_groups,
        admin=admin,
    )


@contextmanager
def enforce(stack: Stack) -> Iterator[None]:
    """Every request to moto's server decided by the evaluator; the default session signs as whoever
    runs now (the admin, or the function being invoked)."""
    from moto.iam.access_control import IAMRequest

    original = IAMRequest.check_action_permitted
    IAMRequest.check_action_permitted = lambda request, resource: stack.evaluator.authorize(request)  # type: ignore[method-assign]
    boto3.setup_default_session(region_name=REGION)
    assert boto3.DEFAULT_SESSION is not None
    boto3.DEFAULT_SESSION._session.get_component("credential_provider").insert_before(
        "env", _Provider(stack.identities)
    )
    answer = requests.post(f"{stack.url}/moto-api/reset-auth", data=b"0", timeout=10)
    previous = answer.json()["PREVIOUS_INITIAL_NO_AUTH_ACTION_COUNT"]
    try:
        yield
    finally:
        requests.post(f"{stack.url}/moto-api/reset-auth", data=previous.encode(), timeout=10)
        IAMRequest.check_action_permitted = original  # type: ignore[method-assign]
        boto3.DEFAULT_SESSION = None
