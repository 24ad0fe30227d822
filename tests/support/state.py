"""What a test can see of the stored state: the secret the app would use, and the history items."""

from __future__ import annotations

import json
from typing import Any

import boto3

from api_info.credentials import kind_named
from api_info.credentials.ref import CredentialRef
from api_info.wiring import services


def ref(tenant_id: str, credential: str) -> CredentialRef:
    """The credential of that name (apiKey, apiToken) of a tenant."""
    return CredentialRef(tenant_id, kind_named(credential))


def secret_name(tenant_id: str, credential: str) -> str | None:
    """The name of the secret the credential's record uses, or None when no record names one."""
    record = services().records.load(ref(tenant_id, credential))
    if record is None or record.secret_erased:
        return None
    return services().secrets.name_of(ref(tenant_id, credential), record)


def current_secret(tenant_id: str, credential: str) -> dict[str, str] | None:
    """The AWSCURRENT value of the secret the credential's record uses, or None when there is none."""
    client = boto3.client("secretsmanager")
    name = secret_name(tenant_id, credential)
    if name is None:
        return None
    try:
        return json.loads(client.get_secret_value(SecretId=name, VersionStage="AWSCURRENT")["SecretString"])  # type: ignore[no-any-return]
    except client.exceptions.ResourceNotFoundException:
        return None


def tenant_secrets(tenant_id: str, credential: str = "") -> dict[str, list[str]]:
    """Every secret of a tenant (of one credential) that Secrets Manager still holds (deleted ones
    included while their recovery window runs), with the value of each of its versions, labelled or not."""
    client = boto3.client("secretsmanager")
    prefix = services().secrets.fixed_name(ref(tenant_id, "apiKey")).rsplit("/", 1)[0] + "/" + credential
    found: dict[str, list[str]] = {}
    for page in client.get_paginator("list_secrets").paginate(IncludePlannedDeletion=True):
        for secret in page["SecretList"]:
            if not secret["Name"].startswith(prefix):
                continue
            if "DeletedDate" in secret:  # its data is still there, until its recovery window ends
                found[secret["Name"]] = ["(scheduled for deletion)"]
                continue
            listed = client.list_secret_version_ids(SecretId=secret["ARN"], IncludeDeprecated=True)
            versions = listed["Versions"]
            found[secret["Name"]] = [
                client.get_secret_value(SecretId=secret["ARN"], VersionId=v["VersionId"])["SecretString"]
                for v in versions
            ]
    return found


def history_items(table: str, tenant_id: str) -> list[dict[str, Any]]:
    client = boto3.client("dynamodb")
    answer = client.query(
        TableName=table,
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": f"HISTORY#{tenant_id}"}},
    )
    return answer["Items"]
