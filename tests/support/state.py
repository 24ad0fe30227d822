"""What a test can see of the stored state: the secret the app would use, and the history items."""

from __future__ import annotations

import json
from typing import Any

import boto3

from api_info.wiring import services


def current_secret(tenant_id: str, credential: str) -> dict[str, str] | None:
    """The AWSCURRENT value of a tenant's secret, or None when there is none."""
    client = boto3.client("secretsmanager")
    name = services().secrets.name(tenant_id, credential)  # type: ignore[arg-type]
    try:
        return json.loads(client.get_secret_value(SecretId=name, VersionStage="AWSCURRENT")["SecretString"])  # type: ignore[no-any-return]
    except client.exceptions.ResourceNotFoundException:
        return None


def history_items(table: str, tenant_id: str) -> list[dict[str, Any]]:
    client = boto3.client("dynamodb")
    answer = client.query(
        TableName=table,
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": f"HISTORY#{tenant_id}"}},
    )
    return answer["Items"]
