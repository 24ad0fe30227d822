"""Creates template.yaml's DynamoDB tables, KMS keys, SQS queues and event buses over moto, and resolves
the functions' environment variables to the created names, URLs and ARNs. Its alarms, dashboard and
check schedule are created too, and its Outputs resolved, for what reads the stack as an operator would
(scripts/smoke.py through `register_stack`).

Works with clients the caller passes in (e.g. under moto's in-process `mock_aws()`) or with a session
and endpoint URL (the local stack's moto server).
"""

from __future__ import annotations

import contextlib
import json
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError

from local.cfn import load_template
from local.intrinsics import ACCOUNT_ID, NO_VALUE, Intrinsics, as_text

log = logging.getLogger(__name__)

_CREATED = {
    "AWS::DynamoDB::Table",
    "AWS::KMS::Key",
    "AWS::KMS::Alias",
    "AWS::SQS::Queue",
    "AWS::Events::EventBus",
    "AWS::SecretsManager::Secret",
    "AWS::CloudWatch::Alarm",
    "AWS::CloudWatch::Dashboard",
    "AWS::Scheduler::Schedule",
}
# The properties of these that the AWS APIs creating them take as they are.
_ALARM_ARGS = (
    "AlarmDescription", "ActionsEnabled", "AlarmActions", "OKActions", "InsufficientDataActions",
    "Namespace", "MetricName", "Dimensions", "Statistic", "ExtendedStatistic", "Unit", "Metrics",
    "Period", "EvaluationPeriods", "DatapointsToAlarm", "Threshold", "ComparisonOperator",
    "TreatMissingData",
)  # fmt: skip
_SCHEDULE_ARGS = (
    "Description", "GroupName", "ScheduleExpression", "ScheduleExpressionTimezone",
    "FlexibleTimeWindow", "State", "Target", "StartDate", "EndDate",
)  # fmt: skip
# ARNs CloudFormation would give resources the local stack does not create ({r} region, {a} account).
_ARN_FORMATS = {
    "AWS::Serverless::Function": "arn:aws:lambda:{r}:{a}:function:{name}",
    "AWS::Lambda::Function": "arn:aws:lambda:{r}:{a}:function:{name}",
    "AWS::IAM::Role": "arn:aws:iam::{a}:role/{name}",
    "AWS::SecretsManager::Secret": "arn:aws:secretsmanager:{r}:{a}:secret:{name}",
}


@dataclass
class LocalResources:
    environment: dict[str, str]  # all functions' variables merged
    functions: dict[str, dict[str, str]]  # per function logical id
    refs: dict[str, str] = field(default_factory=dict)  # logical id -> what !Ref gives (name, URL, key id)
    arns: dict[str, str] = field(default_factory=dict)  # logical id -> ARN
    outputs: dict[str, str] = field(default_factory=dict)  # the template's Outputs, resolved


def create_from_template(template_path: str | Path, **options: Any) -> dict[str, str]:
    """Create the template's resources; returns the functions' environment variables, merged.

    The options are those of create_resources.
    """
    return create_resources(template_path, **options).environment


def create_resources(
    template_path: str | Path,
    *,
    session: boto3.session.Session | None = None,
    clients: Mapping[str, Any] | None = None,
    parameter_overrides: Mapping[str, str] | None = None,
    region: str = "us-east-1",
    endpoint_url: str | None = None,
    stack_name: str = "api-info-local",
) -> LocalResources:
    """Create the template's resources; returns the merged and the per-function environments.

    clients: boto3 clients by service name ("dynamodb", "kms", "sqs", "events"); any missing one is
    made from session (default: boto3's) with region and endpoint_url.
    """
    template = load_template(template_path)
    builder = _Builder(
        template, session or boto3.session.Session(), dict(clients or {}), region, endpoint_url
    )
    builder.stack_name = stack_name
    builder.overrides = dict(parameter_overrides or {})
    for logical_id, resource in template["Resources"].items():
        if resource.get("Type") in _CREATED and builder.condition_holds(resource.get("Condition")):
            builder.ensure(logical_id)
    glob = ((template.get("Globals") or {}).get("Function") or {}).get("Environment") or {}
    functions: dict[str, dict[str, str]] = {}
    merged: dict[str, str] = {}
    for logical_id, resource in template["Resources"].items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        own = ((resource.get("Properties") or {}).get("Environment") or {}).get("Variables") or {}
        variables = {**(glob.get("Variables") or {}), **own}
        env = {}
        for name, value in variables.items():
            resolved = builder.resolve(value)
            if resolved is not NO_VALUE:
                env[name] = as_text(resolved)
        functions[logical_id] = env
        merged.update(env)
    outputs = {}
    for name, output in (template.get("Outputs") or {}).items():
        if builder.condition_holds(output.get("Condition")):
            outputs[name] = as_text(builder.resolve(output["Value"]))
    return LocalResources(merged, functions, dict(builder.refs), dict(builder.arns), outputs)


def register_stack(cloudformation: Any, stack_name: str, outputs: Mapping[str, str]) -> None:
    """Make `describe-stacks` answer for the local stack, with these outputs (moto's CloudFormation)."""
    body = {"Resources": {}, "Outputs": {name: {"Value": value} for name, value in outputs.items()}}
    with contextlib.suppress(ClientError):
        cloudformation.delete_stack(StackName=stack_name)  # a second run replaces the first
    cloudformation.create_stack(StackName=stack_name, TemplateBody=json.dumps(body))


def secrets_token(spec: Mapping[str, Any]) -> str:
    """A random value like GenerateSecretString makes (length only; letters and digits)."""
    return secrets.token_hex(int(spec.get("PasswordLength", 32)))[: int(spec.get("PasswordLength", 32))]


class _Builder(Intrinsics):
    def __init__(
        self,
        template: dict[str, Any],
        session: boto3.session.Session,
        clients: dict[str, Any],
        region: str,
        endpoint_url: str | None,
    ) -> None:
        super().__init__(template, region)
        self.session: Any = session
        self.clients = clients
        self.endpoint_url = endpoint_url

    def client(self, service: str) -> Any:
        if service not in self.clients:
            self.clients[service] = self.session.client(
                service, region_name=self.region, endpoint_url=self.endpoint_url
            )
        return self.clients[service]

    # --- resources ------------------------------------------------------------------------------

    def ensure(self, logical_id: str) -> None:
        """Create a resource on first reference, so a queue's dead-letter queue exists before it."""
        if logical_id in self.refs:
            return
        resource = self.template["Resources"][logical_id]
        kind = resource.get("Type")
        name = f"{self.stack_name}-{logical_id}"
        if kind not in _CREATED:
            # Not created locally (roles, functions, schedules...): give the name and ARN CloudFormation
            # would, so that environment variables pointing at them still resolve. Their properties are
            # not read, which also keeps reference cycles (a role naming a function naming the role) out.
            service = str(kind).split("::")[1].lower() if str(kind).count("::") == 2 else "local"
            arn = _ARN_FORMATS.get(kind, "arn:aws:{service}:{r}:{a}:{name}")
            self.refs[logical_id] = name
            self.arns[logical_id] = arn.format(service=service, r=self.region, a=ACCOUNT_ID, name=name)
            return
        props = self.resolve(resource.get("Properties") or {})
        if kind == "AWS::DynamoDB::Table":
            self._table(logical_id, props.get("TableName") or name, props)
        elif kind == "AWS::KMS::Key":
            self._kms_key(logical_id, props)
        elif kind == "AWS::KMS::Alias":
            self._alias(props["AliasName"], props["TargetKeyId"])
            self.refs[logical_id] = props["AliasName"]
            self.arns[logical_id] = f"arn:aws:kms:{self.region}:{ACCOUNT_ID}:{props['AliasName']}"
        elif kind == "AWS::SQS::Queue":
            self._queue(logical_id, props, name)
        elif kind == "AWS::SecretsManager::Secret":
            self._secret(logical_id, props.get("Name") or name, props)
        elif kind == "AWS::CloudWatch::Alarm":
            self._alarm(logical_id, props.get("AlarmName") or name, props)
        elif kind == "AWS::CloudWatch::Dashboard":
            self._dashboard(logical_id, props.get("DashboardName") or name, props)
        elif kind == "AWS::Scheduler::Schedule":
            self._schedule(logical_id, props.get("Name") or name, props)
        else:
            self._event_bus(logical_id, props.get("Name") or name)

    def _table(self, logical_id: str, table_name: str, props: dict[str, Any]) -> None:
        ddb = self.client("dynamodb")
        args: dict[str, Any] = {
            "TableName": table_name,
            "AttributeDefinitions": props["AttributeDefinitions"],
            "KeySchema": props["KeySchema"],
            "BillingMode": props.get("BillingMode", "PROVISIONED"),
        }
        if args["BillingMode"] == "PROVISIONED":
            args["ProvisionedThroughput"] = props.get(
                "ProvisionedThroughput", {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
            )
        index_keys = ("IndexName", "KeySchema", "Projection", "ProvisionedThroughput")
        for kind in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
            if props.get(kind):
                args[kind] = [{k: v for k, v in index.items() if k in index_keys} for index in props[kind]]
        if props.get("StreamSpecification"):
            args["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
        if props.get("Tags"):
            args["Tags"] = props["Tags"]
        # SSE and deletion protection are left out: moto does not enforce them, and deletion protection
        # would only stop tests from dropping their tables.
        try:
            description = ddb.create_table(**args)["TableDescription"]
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceInUseException":
                raise
            description = ddb.describe_table(TableName=table_name)["Table"]
            log.info("table %s exists already; reusing it", table_name)
        ttl = props.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            ddb.update_time_to_live(
                TableName=table_name,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]},
            )
        pitr = props.get("PointInTimeRecoverySpecification")
        if pitr and pitr.get("PointInTimeRecoveryEnabled"):
            ddb.update_continuous_backups(
                TableName=table_name,
                PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
            )
        self.refs[logical_id] = table_name
        self.arns[logical_id] = description["TableArn"]
        if description.get("LatestStreamArn"):
            self.attrs[logical_id] = {"StreamArn": description["LatestStreamArn"]}

    def _kms_key(self, logical_id: str, props: dict[str, Any]) -> None:
        kms = self.client("kms")
        # The key policy is left out: moto does not enforce it and it names the deploying account's roles.
        args: dict[str, Any] = {k: props[k] for k in ("Description", "KeyUsage", "KeySpec") if k in props}
        if props.get("Tags"):
            args["Tags"] = [{"TagKey": t["Key"], "TagValue": t["Value"]} for t in props["Tags"]]
        meta = kms.create_key(**args)["KeyMetadata"]
        if props.get("EnableKeyRotation"):
            kms.enable_key_rotation(KeyId=meta["KeyId"])
        self.refs[logical_id] = meta["KeyId"]
        self.arns[logical_id] = meta["Arn"]
        self.attrs[logical_id] = {"KeyId": meta["KeyId"]}

    def _alias(self, alias: str, key_id: str) -> None:
        kms = self.client("kms")
        try:
            kms.create_alias(AliasName=alias, TargetKeyId=key_id)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "AlreadyExistsException":
                raise
            kms.update_alias(AliasName=alias, TargetKeyId=key_id)  # a second run points it at its new key

    def _queue(self, logical_id: str, props: dict[str, Any], default_name: str) -> None:
        sqs = self.client("sqs")
        fifo = str(props.get("FifoQueue", "")).lower() == "true"
        queue_name = props.get("QueueName") or (default_name + (".fifo" if fifo else ""))
        attributes = {}
        for key, value in props.items():
            if key in ("QueueName", "Tags"):
                continue
            attributes[key] = json.dumps(value) if isinstance(value, dict) else as_text(value)
        try:
            url = sqs.create_queue(QueueName=queue_name, Attributes=attributes)["QueueUrl"]
        except ClientError as exc:
            if exc.response["Error"]["Code"] not in ("QueueAlreadyExists", "QueueNameExists"):
                raise
            # A second run (e.g. its new KMS key) differs from the first: update the queue instead.
            url = sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]
            attributes.pop("FifoQueue", None)
            sqs.set_queue_attributes(QueueUrl=url, Attributes=attributes)
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self.refs[logical_id] = url
        self.arns[logical_id] = arn
        self.attrs[logical_id] = {"QueueName": queue_name, "QueueUrl": url}

    def _secret(self, logical_id: str, secret_name: str, props: dict[str, Any]) -> None:
        # A stack secret (not a customer credential): its generated value is random, as in AWS.
        client = self.client("secretsmanager")
        try:
            arn = client.describe_secret(SecretId=secret_name)["ARN"]
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceNotFoundException":
                raise
            value = props.get("SecretString") or secrets_token(props.get("GenerateSecretString") or {})
            arn = client.create_secret(Name=secret_name, SecretString=value)["ARN"]
        # !Ref of a secret is its ARN.
        self.refs[logical_id] = arn
        self.arns[logical_id] = arn

    def _event_bus(self, logical_id: str, bus_name: str) -> None:
        events = self.client("events")
        try:
            arn = events.create_event_bus(Name=bus_name)["EventBusArn"]
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceAlreadyExistsException":
                raise
            arn = events.describe_event_bus(Name=bus_name)["Arn"]
        self.refs[logical_id] = bus_name
        self.arns[logical_id] = arn
        self.attrs[logical_id] = {"Name": bus_name}

    def _alarm(self, logical_id: str, alarm_name: str, props: dict[str, Any]) -> None:
        args = {k: props[k] for k in _ALARM_ARGS if k in props}
        self.client("cloudwatch").put_metric_alarm(AlarmName=alarm_name, **args)  # creates or replaces
        self.refs[logical_id] = alarm_name
        self.arns[logical_id] = f"arn:aws:cloudwatch:{self.region}:{ACCOUNT_ID}:alarm:{alarm_name}"

    def _dashboard(self, logical_id: str, dashboard_name: str, props: dict[str, Any]) -> None:
        self.client("cloudwatch").put_dashboard(
            DashboardName=dashboard_name, DashboardBody=props["DashboardBody"]
        )
        self.refs[logical_id] = dashboard_name
        self.arns[logical_id] = f"arn:aws:cloudwatch::{ACCOUNT_ID}:dashboard/{dashboard_name}"

    def _schedule(self, logical_id: str, schedule_name: str, props: dict[str, Any]) -> None:
        # Nothing runs it locally (there is no scheduler); it is there to be read, as deployed.
        scheduler = self.client("scheduler")
        args = {k: props[k] for k in _SCHEDULE_ARGS if k in props}
        try:
            arn = scheduler.create_schedule(Name=schedule_name, **args)["ScheduleArn"]
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConflictException":
                raise
            arn = scheduler.update_schedule(Name=schedule_name, **args)["ScheduleArn"]
        self.refs[logical_id] = schedule_name
        self.arns[logical_id] = arn
