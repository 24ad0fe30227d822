"""The personal data reporting cycle: report the Atlassian accounts a tenant holds, erase the closed
ones, refresh the names of the updated ones (docs/PRIVACY.md, "Reporting to Atlassian").

Forge's daily scheduled trigger calls it per installation with the app system token, which lives for
that call only: the reporting and the name lookups run inline, never from a queue.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from api_info.atlassian import NAME_LOOKUP_SECONDS, deadline, header_safe
from api_info.auth import Caller
from api_info.credentials import CredentialKind, kind_named, kinds
from api_info.credentials.ref import CRED_PREFIX, CredentialRef
from api_info.errors import AtlassianUnavailable, Forbidden
from api_info.messages import HistoryRewrite
from api_info.messaging import CheckQueue
from api_info.models import PersonalDataRequest, PersonalDataResponse
from api_info.observability import logger, metrics
from api_info.privacy_api import BATCH_LIMIT, AccountStatus, report_accounts
from api_info.records import LastCheck
from api_info.services import Services
from api_info.status import previous_status
from api_info.store.personal_data import HeldAccounts
from api_info.store.records import Locked
from api_info.upkeep import retire_secrets

CLOSED_CODE = "api_token_account_closed"
NO_SYSTEM_TOKEN = "Reporting personal data needs the app system token (x-forge-oauth-system)."
# A history longer than this is rewritten by the check worker, so that the trigger is answered fast.
LARGE_HISTORY = 1000
# Kept of the invocation's time for what follows the last outbound call: erasing and recording what the
# last batch answered, rewriting a history of up to LARGE_HISTORY events, and the answer.
RESERVE_SECONDS = 4.0
MIN_CALL_SECONDS = 0.5  # a shorter deadline than this is no chance for an answer: stop instead


def utc_now() -> datetime:
    """Now, in UTC (a seam for tests that move the clock)."""
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def report_cycle(
    svc: Services, caller: Caller, queue: CheckQueue, time_left: Callable[[], float] | None = None
) -> PersonalDataResponse:
    """Report the tenant's accounts that are due, in batches of 90, and act on Atlassian's answers,
    within the invocation's time (`time_left`, in seconds) less RESERVE_SECONDS.

    An account is due when it was never reported, or last reported a cycle period ago or more. Each
    batch's closed accounts are erased and the batch recorded as reported before any name is looked up;
    the names of the updated accounts are looked up last, while time is left. What does not fit waits
    for the next trigger. A 429 or a failure stops the cycle: what was reported and done so far stays
    recorded, the rest waits (not before Atlassian's Retry-After), and the error is the answer.
    """
    token = caller.system_token
    if not token or not header_safe(token):
        raise Forbidden(NO_SYSTEM_TOKEN)
    tenant_id = caller.tenant.installation_id
    budget = Budget(time_left)
    cycle = Cycle(svc, caller, queue, svc.personal_data.held(tenant_id), utc_now())
    due = cycle.due()
    if not due:
        return cycle.answer(due=False)
    updated: list[str] = []
    try:
        for start in range(0, len(due), BATCH_LIMIT):
            seconds = budget.for_call(svc.settings.atlassian_timeout_seconds)
            if seconds is None:
                logger.info(
                    "Personal data cycle: the rest waits for the next trigger",
                    extra={"due": len(due) - start},
                )
                break
            batch = {a: cycle.held.accounts[a] for a in due[start : start + BATCH_LIMIT]}
            answer = report_accounts(svc.atlassian.transport, token, batch, seconds)
            cycle.erase({a for a, s in answer.statuses.items() if s == "closed"})
            cycle.reported.update(dict.fromkeys(batch, cycle.now_iso))
            cycle.reported_now += len(batch)
            cycle.period_days = answer.cycle_period_days or cycle.period_days
            cycle.record()
            updated += sorted(a for a, s in answer.statuses.items() if s == "updated")
        if updated:  # reported and recorded: their names are refreshed with the time that is left
            cycle.refresh(updated, budget)
            cycle.record()
    except AtlassianUnavailable as exc:
        if exc.retry_after:
            cycle.not_before = _iso(cycle.now + timedelta(seconds=exc.retry_after))
            cycle.record()
        raise
    finally:
        cycle.count()
    return cycle.answer(due=True)


class Budget:
    """The invocation's time for outbound calls: what is left, less RESERVE_SECONDS for the writes that
    follow them and the answer. Without a Lambda context (`time_left` None) every call gets its own
    deadline."""

    def __init__(self, time_left: Callable[[], float] | None) -> None:
        self._time_left = time_left

    def for_call(self, longest: float) -> float | None:
        """The deadline of the next call (at most `longest`), or None when too little time is left."""
        if self._time_left is None:
            return longest
        seconds = min(longest, self._time_left() - RESERVE_SECONDS)
        return seconds if seconds >= MIN_CALL_SECONDS else None


def apply_for_operator(
    svc: Services, caller: Caller, queue: CheckQueue, request: PersonalDataRequest
) -> PersonalDataResponse:
    """An operator's word on one account, for a deletion request: `closed` erases it now; `updated`
    makes it due, so that the next trigger reports it and Atlassian's answer refreshes its name."""
    cycle = Cycle(svc, caller, queue, svc.personal_data.held(caller.tenant.installation_id), utc_now())
    if request.account_id in cycle.held.accounts:
        if request.status == "closed":
            cycle.act({request.account_id: "closed"})
        else:
            cycle.reported.pop(request.account_id, None)
        cycle.record()
    cycle.count()
    return cycle.answer(due=False)


@dataclass
class Cycle:
    """One call's work on a tenant: what is held, what was reported and done."""

    svc: Services
    caller: Caller
    queue: CheckQueue
    held: HeldAccounts
    now: datetime
    reported: dict[str, str] = field(default_factory=dict)
    refreshed: dict[str, str] = field(default_factory=dict)
    closed: set[str] = field(default_factory=set)
    renamed: int = 0
    period_days: int = 0
    not_before: str | None = None
    reported_now: int = 0
    queued: bool = False

    def __post_init__(self) -> None:
        self.reported = dict(self.held.reported)
        self.refreshed = dict(self.held.refreshed)
        self.period_days = self.held.period_days
        self.not_before = self.held.not_before

    @property
    def tenant_id(self) -> str:
        return self.caller.tenant.installation_id

    @property
    def now_iso(self) -> str:
        return _iso(self.now)

    def due(self) -> list[str]:
        """The accounts to report now: none before Atlassian's Retry-After or within an account's period."""
        if not self.held.installed or (self.not_before and self.now_iso < self.not_before):
            return []
        since = _iso(self.now - timedelta(days=self.period_days))
        return sorted(a for a in self.held.accounts if self.reported.get(a, "") <= since)

    def act(self, statuses: dict[str, AccountStatus]) -> None:
        """Erase the closed accounts and refresh the names of the updated ones, in every item."""
        self.erase({a for a, s in statuses.items() if s == "closed"})
        self.refresh(sorted(a for a, s in statuses.items() if s == "updated"), Budget(None))

    def erase(self, closed: set[str]) -> None:
        """Erase closed accounts from every item of the tenant: no Atlassian call, so they come first."""
        if not closed:
            return
        store, tenant_id = self.svc.personal_data, self.tenant_id
        closed_check = LastCheck(at=self.now_iso, outcome="rejected", detail=CLOSED_CODE)
        told, in_use, leftovers = self._owned()
        for account_id in sorted(closed):
            erased = store.erase_in_credentials(
                tenant_id, self.held.credentials, account_id, closed_check, told, in_use
            )
            for kind in erased:
                # Every version of every secret of it, at once: nothing may bring the email back.
                ref = CredentialRef(tenant_id, kind)
                retire_secrets(self.svc, ref, {in_use[kind], *leftovers[kind]})
        store.delete_idempotency_records(tenant_id)
        self._rewrite_history(closed, {})
        self.closed |= closed

    def refresh(self, updated: list[str], budget: Budget) -> None:
        """Look the updated accounts' names up while the budget lasts, and write the names found."""
        names: dict[str, str] = {}
        for account_id in updated:
            seconds = budget.for_call(NAME_LOOKUP_SECONDS)
            if seconds is None:
                logger.info("Names left for the next cycle", extra={"accounts": len(updated) - len(names)})
                break
            with deadline(seconds):
                name = self._look_up(account_id)
            if name:
                names[account_id] = name
        if not names:
            return
        for account_id, name in names.items():
            self.svc.personal_data.refresh_in_credentials(self.held.credentials, account_id, name)
        self._rewrite_history(set(), names)
        self.renamed += len(names)
        self.refreshed.update(dict.fromkeys(names, self.now_iso))

    def _rewrite_history(self, closed: set[str], names: dict[str, str]) -> None:
        """Erase and rename accounts in the history: inline, or by the check worker when it is long.
        A closed account leaves the record of held accounts once the history no longer holds it."""
        store, tenant_id = self.svc.personal_data, self.tenant_id
        if store.history_is_long(tenant_id, LARGE_HISTORY):
            # Only DynamoDB work is left: the worker does it. The names wait on the tenant item.
            if names:
                store.hold_names(tenant_id, {**store.pending_names(tenant_id), **names})
            work = HistoryRewrite(
                kind="personal-data", tenant_id=tenant_id, closed=sorted(closed), updated=sorted(names)
            )
            self.queue.send_all([work.model_dump_json(by_alias=True)])
            self.queued = True
            return
        store.rewrite_history(tenant_id, closed, names)
        store.forget_accounts(tenant_id, closed)

    def _owned(
        self,
    ) -> tuple[dict[CredentialKind, str], dict[CredentialKind, str], dict[CredentialKind, set[str]]]:
        """Of each kind erased with its owner: the status the app knows of it (when it was never told of a
        change: its status on the day it was saved, as the checks judge it, so that the next check
        announces it became invalid), its secret in use, and those no record uses any more."""
        told: dict[CredentialKind, str] = {}
        in_use = {k: self.svc.secrets.fixed_name(CredentialRef(self.tenant_id, k)) for k in kinds()}
        leftovers: dict[CredentialKind, set[str]] = {}
        for item in self.held.credentials:
            kind = kind_named(str(item["SK"]).removeprefix(CRED_PREFIX))
            locked = Locked.of(item)
            if not kind.erased_with_owner or locked.record is None:
                continue
            told[kind] = previous_status(locked.record, None, self.svc.settings)
            in_use[kind] = self.svc.secrets.name_of(CredentialRef(self.tenant_id, kind), locked.record)
            leftovers[kind] = set(locked.leftovers)
        return told, in_use, leftovers

    def _look_up(self, account_id: str) -> str | None:
        caller = self.caller
        if not caller.api_base_url or not caller.system_token:
            return None  # an operator has no system token: the next trigger refreshes it
        return self.svc.atlassian.jira.display_name(
            api_base_url=caller.api_base_url, system_token=caller.system_token, account_id=account_id
        )

    def record(self) -> None:
        """Keep the cycle's state on the tenant item, for the accounts still held."""
        kept = set(self.held.accounts) - self.closed
        self.svc.personal_data.record_cycle(
            self.tenant_id,
            reported={a: at for a, at in self.reported.items() if a in kept},
            refreshed={a: at for a, at in self.refreshed.items() if a in kept},
            period_days=self.period_days,
            not_before=self.not_before,
        )

    def count(self) -> None:
        metrics.add_metric(name="PersonalDataAccountsReported", unit="Count", value=self.reported_now)
        metrics.add_metric(name="PersonalDataAccountsErased", unit="Count", value=len(self.closed))
        metrics.add_metric(name="PersonalDataNamesRefreshed", unit="Count", value=self.renamed)
        logger.info(
            "Personal data cycle",
            extra={
                "tenant": self.tenant_id,
                "reported": self.reported_now,
                "erased": len(self.closed),
                "refreshed": self.renamed,
            },
        )

    def answer(self, *, due: bool) -> PersonalDataResponse:
        return PersonalDataResponse(
            due=due,
            reported=self.reported_now,
            closed=len(self.closed),
            updated=self.renamed,
            queued=self.queued,
        )
