"""Resources and environment variables from a template, over moto's in-process mock."""

import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from local.cfn import TemplateError, load_template
from local.resources import create_from_template, create_resources, register_stack

REGION = "us-east-1"
REPO_TEMPLATE = Path(__file__).parents[2] / "template.yaml"

TEMPLATE = """\
Parameters:
  Prefix:
    Type: String
    Default: app/
  Required:
    Type: String
  Env:
    Type: String
    Default: dev
Conditions:
  IsProd: !Equals [!Ref Env, prod]
Globals:
  Function:
    Environment:
      Variables:
        TABLE_NAME: !Ref Table
        TABLE_ARN: !GetAtt Table.Arn
        PREFIX: !Ref Prefix
        REQUIRED: !Ref Required
        FLAG: true
        NUMBER: 14
Resources:
  Key:
    Type: AWS::KMS::Key
    Properties:
      Description: !Sub key of ${AWS::StackName}
      EnableKeyRotation: true
      KeyPolicy: {Version: "2012-10-17", Statement: []}
  KeyAlias:
    Type: AWS::KMS::Alias
    Properties:
      AliasName: !Sub alias/${AWS::StackName}
      TargetKeyId: !Ref Key
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions:
        - {AttributeName: PK, AttributeType: S}
        - {AttributeName: SK, AttributeType: S}
        - {AttributeName: entity, AttributeType: S}
      KeySchema:
        - {AttributeName: PK, KeyType: HASH}
        - {AttributeName: SK, KeyType: RANGE}
      GlobalSecondaryIndexes:
        - IndexName: tenants
          KeySchema:
            - {AttributeName: entity, KeyType: HASH}
            - {AttributeName: PK, KeyType: RANGE}
          Projection: {ProjectionType: KEYS_ONLY}
      TimeToLiveSpecification: {AttributeName: ttl, Enabled: true}
      PointInTimeRecoverySpecification: {PointInTimeRecoveryEnabled: true}
      DeletionProtectionEnabled: true
      SSESpecification: {SSEEnabled: true, SSEType: KMS, KMSMasterKeyId: !GetAtt Key.Arn}
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: 60
      KmsMasterKeyId: !Ref Key
      RedrivePolicy:
        deadLetterTargetArn: !GetAtt DeadLetters.Arn
        maxReceiveCount: 3
  DeadLetters:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Sub ${AWS::StackName}-dlq
  Bus:
    Type: AWS::Events::EventBus
    Properties:
      Name: !Sub ${AWS::StackName}-bus
  ProdOnlyTable:
    Type: AWS::DynamoDB::Table
    Condition: IsProd
    Properties:
      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
      KeySchema: [{AttributeName: id, KeyType: HASH}]
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument: {}
  Worker:
    Type: AWS::Serverless::Function
    Properties:
      Environment:
        Variables:
          QUEUE_URL: !Ref Queue
          QUEUE_ARN: !GetAtt Queue.Arn
          KEY_ID: !Ref Key
          KEY_ARN: !GetAtt Key.Arn
          BUS_NAME: !Ref Bus
          BUS_ARN: !GetAtt Bus.Arn
          ROLE_ARN: !GetAtt Role.Arn
          JOINED: !Join ["-", [a, !Ref Env, b]]
          SUBBED: !Sub
            - "${Prefix}${Name}/${!Literal}"
            - Name: x
          MAYBE: !If [IsProd, "yes", !Ref AWS::NoValue]
          CHOSEN: !If [IsProd, "prod", "not prod"]
  Api:
    Type: AWS::Serverless::Function
    Properties:
      Environment:
        Variables:
          PREFIX: own
"""


@pytest.fixture()
def template(tmp_path: Path) -> Path:
    path = tmp_path / "template.yaml"
    path.write_text(TEMPLATE)
    return path


@pytest.fixture()
def aws() -> Iterator[None]:
    with mock_aws():
        yield


def test_tables_are_built_from_the_template_definition(template: Path, aws: None) -> None:
    # When
    resources = create_resources(template, parameter_overrides={"Required": "r"})
    # Then
    ddb = boto3.client("dynamodb", region_name=REGION)
    table = ddb.describe_table(TableName=resources.refs["Table"])["Table"]
    assert {a["AttributeName"] for a in table["AttributeDefinitions"]} == {"PK", "SK", "entity"}
    assert table["KeySchema"] == [
        {"AttributeName": "PK", "KeyType": "HASH"},
        {"AttributeName": "SK", "KeyType": "RANGE"},
    ]
    assert table["GlobalSecondaryIndexes"][0]["IndexName"] == "tenants"
    assert table["GlobalSecondaryIndexes"][0]["Projection"] == {"ProjectionType": "KEYS_ONLY"}
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    ttl = ddb.describe_time_to_live(TableName=resources.refs["Table"])["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "ttl"}
    assert "ProdOnlyTable" not in resources.refs  # its condition is false


def test_environment_is_resolved(template: Path, aws: None) -> None:
    resources = create_resources(template, parameter_overrides={"Required": "r"})
    worker = resources.functions["Worker"]
    sqs = boto3.client("sqs", region_name=REGION)
    assert worker["TABLE_NAME"] == "api-info-local-Table"
    assert worker["TABLE_ARN"].endswith(":table/api-info-local-Table")
    assert (worker["PREFIX"], worker["REQUIRED"], worker["FLAG"], worker["NUMBER"]) == (
        "app/",
        "r",
        "true",
        "14",
    )
    assert worker["QUEUE_URL"] == sqs.get_queue_url(QueueName="api-info-local-Queue")["QueueUrl"]
    assert worker["QUEUE_ARN"].endswith(":api-info-local-Queue")
    key = boto3.client("kms", region_name=REGION).describe_key(KeyId=worker["KEY_ID"])["KeyMetadata"]
    assert worker["KEY_ARN"] == key["Arn"]
    assert worker["BUS_NAME"] == "api-info-local-bus"
    assert (
        worker["BUS_ARN"]
        == boto3.client("events", region_name=REGION).describe_event_bus(Name="api-info-local-bus")["Arn"]
    )
    assert worker["ROLE_ARN"] == "arn:aws:iam::123456789012:role/api-info-local-Role"
    assert worker["JOINED"] == "a-dev-b"
    assert worker["SUBBED"] == "app/x/${Literal}"
    assert "MAYBE" not in worker
    assert worker["CHOSEN"] == "not prod"
    # A function's own variables win over Globals
    assert resources.functions["Api"]["PREFIX"] == "own"


def test_queue_attributes_and_dead_letter_queue(template: Path, aws: None) -> None:
    resources = create_resources(template)
    sqs = boto3.client("sqs", region_name=REGION)
    attributes = sqs.get_queue_attributes(QueueUrl=resources.refs["Queue"], AttributeNames=["All"])[
        "Attributes"
    ]
    assert attributes["VisibilityTimeout"] == "60"
    assert json.loads(attributes["RedrivePolicy"])["deadLetterTargetArn"] == resources.arns["DeadLetters"]


def test_key_alias_and_rotation(template: Path, aws: None) -> None:
    resources = create_resources(template)
    kms = boto3.client("kms", region_name=REGION)
    aliases = {a["AliasName"]: a.get("TargetKeyId") for a in kms.list_aliases()["Aliases"]}
    assert aliases["alias/api-info-local"] == resources.refs["Key"]
    assert kms.get_key_rotation_status(KeyId=resources.refs["Key"])["KeyRotationEnabled"] is True


def test_clients_can_be_passed_and_parameters_overridden(template: Path, aws: None) -> None:
    clients = {s: boto3.client(s, region_name=REGION) for s in ("dynamodb", "kms", "sqs", "events")}
    env = create_from_template(template, clients=clients, parameter_overrides={"Env": "prod", "Prefix": "p/"})
    assert env["PREFIX"] == "own"  # merged: later functions win
    assert env["CHOSEN"] == "prod"
    assert env["MAYBE"] == "yes"
    assert env["REQUIRED"] == ""  # no Default, no override
    tables = clients["dynamodb"].list_tables()["TableNames"]
    assert "api-info-local-ProdOnlyTable" in tables


def test_running_twice_reuses_what_exists(template: Path, aws: None) -> None:
    first = create_resources(template)
    second = create_resources(template)
    assert first.refs["Table"] == second.refs["Table"]
    assert first.refs["Queue"] == second.refs["Queue"]


def test_unknown_reference_is_a_template_error(tmp_path: Path, aws: None) -> None:
    path = tmp_path / "template.yaml"
    path.write_text(
        "Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties:\n"
        "      Environment: {Variables: {X: !Ref Missing}}\n"
    )
    with pytest.raises(TemplateError, match="Missing"):
        create_resources(path)


@pytest.mark.skipif(not REPO_TEMPLATE.is_file(), reason="template.yaml not written yet")
def test_the_projects_template_builds(aws: None) -> None:
    resources = create_resources(REPO_TEMPLATE)
    assert resources.functions
    ddb = boto3.client("dynamodb", region_name=REGION)
    assert ddb.list_tables()["TableNames"]


@pytest.mark.skipif(not REPO_TEMPLATE.is_file(), reason="template.yaml not written yet")
def test_the_projects_alarms_dashboard_schedule_and_outputs_are_there_to_be_read(aws: None) -> None:
    # When
    resources = create_resources(REPO_TEMPLATE, stack_name="smoke")
    register_stack(boto3.client("cloudformation", region_name=REGION), "smoke", resources.outputs)

    # Then describe-stacks answers with the template's outputs, resolved to what was created
    (stack,) = boto3.client("cloudformation", region_name=REGION).describe_stacks(StackName="smoke")["Stacks"]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    assert outputs["CheckQueueUrl"] == resources.refs["CheckQueue"]
    assert "AlarmTopicArn" not in outputs  # its condition (AlarmEmail) does not hold
    # every alarm the AlarmNames output lists exists, watching the created queue for one
    cloudwatch = boto3.client("cloudwatch", region_name=REGION)
    names = outputs["AlarmNames"].split(",")
    alarms = {a["AlarmName"]: a for a in cloudwatch.describe_alarms(AlarmNames=names)["MetricAlarms"]}
    template_alarms = [
        r for r in load_template(REPO_TEMPLATE)["Resources"].values() if r["Type"] == "AWS::CloudWatch::Alarm"
    ]
    assert sorted(alarms) == sorted(names) and len(names) == len(template_alarms)
    queue_name = resources.refs["CheckQueue"].rsplit("/", 1)[1]
    assert alarms["smoke-check-queue-age"]["Dimensions"] == [{"Name": "QueueName", "Value": queue_name}]
    # the schedule is enabled, and the dashboard's body is JSON naming the created queue
    scheduler = boto3.client("scheduler", region_name=REGION)
    assert scheduler.get_schedule(Name=outputs["CheckScheduleName"])["State"] == "ENABLED"
    body = cloudwatch.get_dashboard(DashboardName=outputs["DashboardName"])["DashboardBody"]
    assert queue_name in json.dumps(json.loads(body))
