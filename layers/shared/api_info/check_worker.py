"""The check worker: one SQS batch of tenants, read ahead in a few batched calls and checked on the
container's pool, its history written in full batches.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import Future

from api_info.check_results import CheckIncomplete, CheckTally, TenantCheck
from api_info.checks import SCHEDULER, check_tenant
from api_info.credentials.kind import Secret
from api_info.credentials.ref import CredentialRef
from api_info.messages import CheckRequest, HistoryRewrite
from api_info.observability import logger
from api_info.services import CheckServices
from api_info.status import retry_delay
from api_info.store.history import PendingEvent
from api_info.store.tenants import TenantState

Loaded = tuple[dict[str, TenantState], dict[CredentialRef, Secret]]
LOAD_CHUNK = 33  # tenants read together: their three items fill one BatchGetItem (100 keys at most)
# History events written together: one TransactWriteItems (25 events and at most 25 tenants' conditions).
HISTORY_CHUNK = 25


class WorkerBatch:
    """One worker invocation: the batch's tenants and secrets read in a few batched calls, a chunk at a
    time on the loader thread, so the first checks start while the rest is read; each tenant checked
    on the shared pool; the history written on the loader thread too, a full write at a time
    while the checks go on, the rest at the end."""

    def __init__(self, svc: CheckServices, bodies: Sequence[str]) -> None:
        self.svc = svc
        self.tally = CheckTally()
        self.history: list[PendingEvent] = []  # not yet sent to be written
        self.writes: list[Future[None]] = []
        self._history_lock = threading.Lock()
        ids = []
        for body in bodies:
            try:
                ids.append(CheckRequest.model_validate_json(body).tenant_id)
            except ValueError:
                continue  # another kind of message, or one whose record fails on its own in `check`
        svc.create_clients(queue=True)
        self.loaded: dict[str, Future[Loaded]] = {}
        for start in range(0, len(ids), LOAD_CHUNK):
            chunk = ids[start : start + LOAD_CHUNK]
            future = svc.loader.submit(self._load, chunk)
            self.loaded.update(dict.fromkeys(chunk, future))

    def _load(self, tenant_ids: list[str]) -> Loaded:
        core = self.svc.core
        states = core.tenants.load_for_checks(tenant_ids)
        wanted = {
            CredentialRef(tenant_id, kind): record
            for tenant_id, state in states.items()
            for kind, record in state.credentials.items()
            if not record.secret_erased
        }
        return states, dict(core.secrets.read_many(wanted)) if wanted else {}

    def check(self, body: str, receipt_handle: str, attempt: int) -> TenantCheck:
        """Check one queued tenant; on failure delay the message's retry and raise."""
        try:
            if work := _history_rewrite(body):  # a long history to rewrite for the personal data cycle
                self.svc.core.personal_data.apply_rewrite(work)
                return TenantCheck(work.tenant_id)
            tenant_id = CheckRequest.model_validate_json(body).tenant_id
            states, secrets = self.loaded[tenant_id].result()  # a failed read fails its tenants' checks
            state = states.get(tenant_id, TenantState())
            result = check_tenant(self.svc, tenant_id, state, SCHEDULER, secrets=secrets)
        except Exception:
            logger.exception("Could not check a queued tenant", extra={"attempt": attempt})
            self._defer(receipt_handle, retry_delay(attempt, None))
            raise
        self.tally.add(result, scheduled=attempt == 1)
        self._add_history(result.history)
        if result.failed:
            delay = retry_delay(attempt, result.retry_after)
            logger.info("Check to be retried", extra={"tenant": tenant_id, "attempt": attempt, "in": delay})
            self._defer(receipt_handle, delay)
            raise CheckIncomplete(result)
        return result

    def _add_history(self, events: list[PendingEvent]) -> None:
        with self._history_lock:
            self.history.extend(events)
            if len(self.history) < HISTORY_CHUNK:
                return
            full, self.history = self.history[:HISTORY_CHUNK], self.history[HISTORY_CHUNK:]
            self.writes.append(self.svc.loader.submit(self.svc.core.history.add_events, full))

    def finish(self) -> None:
        """Write the rest of the batch's history and emit its metrics; raises if some history was not
        written (the whole batch is then retried)."""
        self.tally.emit()
        for write in self.writes:
            write.result()
        if self.history:
            self.svc.core.history.add_events(self.history)

    def _defer(self, receipt_handle: str, seconds: int) -> None:
        try:
            self.svc.queue.defer(receipt_handle, seconds)
        except Exception:  # the queue's own visibility timeout still brings the message back
            logger.exception("Could not delay the retry of a check message")


def _history_rewrite(body: str) -> HistoryRewrite | None:
    try:
        return HistoryRewrite.model_validate_json(body)
    except ValueError:
        return None  # a check request
