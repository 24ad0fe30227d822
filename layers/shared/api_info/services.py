"""What the use cases receive: the stores and clients of one container, built by the wiring (wiring.py)
and passed down, so that no use case reaches for them itself."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    from api_info.atlassian import AtlassianClient
    from api_info.auth import AdminCheck, TokenVerifier
    from api_info.messaging import CheckQueue, EventPublisher
    from api_info.reader import CredentialReader
    from api_info.settings import Settings
    from api_info.store.history import History
    from api_info.store.personal_data import PersonalData
    from api_info.store.records import Records
    from api_info.store.secrets import Secrets
    from api_info.store.tenants import Tenants


@dataclass(frozen=True)
class Services:
    """Everything a use case needs, built once per container."""

    settings: Settings
    tenants: Tenants
    records: Records
    history: History
    secrets: Secrets
    atlassian: AtlassianClient
    verifier: TokenVerifier
    admin_check: AdminCheck
    reader: CredentialReader
    personal_data: PersonalData
    # Powertools' idempotency records of one tenant (made on a keyed change only).
    idempotency_store: Callable[[str], DynamoDBPersistenceLayer]


@dataclass(frozen=True)
class CheckServices:
    """What the checks need besides the core services, built once per container."""

    core: Services
    queue: CheckQueue
    events: EventPublisher
    pool: ThreadPoolExecutor  # the worker's checks in flight: one Atlassian request per thread at a time
    loader: ThreadPoolExecutor  # one thread reading a batch's tenants ahead of the checks

    def create_clients(self, *, queue: bool) -> None:
        """Create the AWS clients the checks use before fanning out: boto3 is not safe creating them from
        several threads at once (it is once they exist)."""
        _ = self.core.tenants.dynamodb, self.core.secrets.client, self.events.events
        if queue:
            _ = self.queue.sqs
