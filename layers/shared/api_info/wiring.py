"""The wiring, above the use cases: every AWS client and the services each use case receives
(services.py), and one `reset()` for tests. The handlers and the resolver glue call it; no use case does.

Everything here is built once per container, lazily (a route that never needs a client never makes
it), and replaced in tests by `reset()`, as a new Lambda sandbox would.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from functools import cache, partial
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config

from api_info.atlassian import AtlassianClient
from api_info.auth import AdminCheck, TokenVerifier
from api_info.messaging import EVENT_SOURCE, CheckQueue, EventPublisher
from api_info.reader import CredentialReader
from api_info.services import CheckServices, Services
from api_info.settings import Settings, get_settings
from api_info.store.dynamo import idempotency_pk
from api_info.store.history import History
from api_info.store.personal_data import PersonalData
from api_info.store.records import Records
from api_info.store.secrets import Secrets
from api_info.store.tenants import Tenants

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_secretsmanager.client import SecretsManagerClient
    from mypy_boto3_sqs.client import SQSClient

# AWS validates every request itself; botocore checking the same parameters again first was a tenth of
# the check worker's CPU (docs/PERFORMANCE.md). The parameters the layer sends are typed (mypy strict).
# The check worker's threads (CHECK_CONCURRENCY, at most 100) and its loader share each client: with
# botocore's default pool of 10 connections, urllib3 threw away a connection on one call in eight, with a
# warning each time (`python -m bench.checks --aws process`, 300 tenants: 87 warnings). The SQS and
# EventBridge clients are sent through from the same threads, so they share the same config.
MAX_POOL_CONNECTIONS = 128
CLIENT_CONFIG = Config(parameter_validation=False, max_pool_connections=MAX_POOL_CONNECTIONS)


@cache
def dynamodb_client() -> DynamoDBClient:
    """The container's DynamoDB client, created on first use."""
    client: DynamoDBClient = boto3.client("dynamodb", config=CLIENT_CONFIG)
    return client


@cache
def secrets_client() -> SecretsManagerClient:
    """The container's Secrets Manager client, created on first use."""
    client: SecretsManagerClient = boto3.client("secretsmanager", config=CLIENT_CONFIG)
    return client


@cache
def sqs_client() -> SQSClient:
    """The container's SQS client, created on first use."""
    client: SQSClient = boto3.client("sqs", config=CLIENT_CONFIG)
    return client


@cache
def events_client() -> Any:
    """The container's EventBridge client, created on first use (untyped: no stubs are installed for it)."""
    return boto3.client("events", config=CLIENT_CONFIG)


@cache
def services() -> Services:
    """The container's services, created on first use."""
    settings = get_settings()
    atlassian = AtlassianClient(settings)
    records = Records(settings, dynamodb_client)
    secrets = Secrets(settings, secrets_client)
    return Services(
        settings=settings,
        tenants=Tenants(settings, dynamodb_client),
        records=records,
        history=History(settings, dynamodb_client),
        secrets=secrets,
        atlassian=atlassian,
        verifier=TokenVerifier(
            jwks_url=settings.forge_jwks_url, app_id=settings.forge_app_id, http=atlassian.transport
        ),
        admin_check=AdminCheck(atlassian, settings.admin_cache_seconds),
        reader=CredentialReader(records, secrets, settings.credential_cache_seconds),
        personal_data=PersonalData(settings, dynamodb_client),
        idempotency_store=partial(idempotency_layer, settings),
    )


@cache
def check_services() -> CheckServices:
    """The container's check services, created on first use."""
    core = services()
    settings = core.settings
    return CheckServices(
        core=core,
        queue=CheckQueue(settings.check_queue_url, sqs_client),
        events=EventPublisher(settings.event_bus_name, EVENT_SOURCE, events_client),
        pool=ThreadPoolExecutor(max_workers=settings.check_concurrency, thread_name_prefix="check"),
        loader=ThreadPoolExecutor(max_workers=1, thread_name_prefix="load"),
    )


def idempotency_layer(settings: Settings, tenant_id: str) -> DynamoDBPersistenceLayer:
    """Powertools' idempotency records of one tenant, in a partition of its own in the credentials table.

    There, an uninstall deletes them with everything else of the installation (so a replay after it
    is a new request), and the table's TTL removes them when they expire.
    """
    # Imported here: only the change routes use it, and its package pulls in all of Powertools'
    # idempotency (and boto3's resource layer) on import.
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    return DynamoDBPersistenceLayer(
        table_name=settings.table_name,
        key_attr="PK",
        sort_key_attr="SK",
        static_pk_value=idempotency_pk(tenant_id),
        expiry_attr="ttl",
        boto3_client=dynamodb_client(),
    )


def reset() -> None:
    """Forget every per-container cache (settings, services, AWS clients), as a new Lambda sandbox."""
    for cached in (get_settings, services, check_services):
        cached.cache_clear()
    for client in (dynamodb_client, secrets_client, sqs_client, events_client):
        client.cache_clear()
