"""Atlassian's Personal data reporting API: `POST {ATLASSIAN_API_URL}/app/report-accounts/`.

Forge apps call it with the app's own token (the remote receives it as the app system token), at most
90 accounts per request; the answer names the accounts whose data must be erased (`closed`) or
refreshed (`updated`), and its `Cycle-Period` header how often to report (docs/PRIVACY.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from api_info.answers import cycle_period_days
from api_info.atlassian import Transport, deadline, read_json
from api_info.errors import AtlassianError

BATCH_LIMIT = 90  # "Each request allows up to 90 accounts to be reported on."
AccountStatus = Literal["closed", "updated"]


@dataclass(frozen=True)
class ReportAnswer:
    """What Atlassian answered for one batch: the accounts to act on, and the cycle period it named."""

    statuses: dict[str, AccountStatus] = field(default_factory=dict)
    cycle_period_days: int | None = None


def report_accounts(
    client: Transport, system_token: str, accounts: Mapping[str, str], seconds: float
) -> ReportAnswer:
    """Report one batch (accountId -> updatedAt); AtlassianUnavailable on 429 (with its Retry-After)
    or a timeout, AtlassianError on anything else unexpected."""
    if len(accounts) > BATCH_LIMIT:
        raise ValueError(f"at most {BATCH_LIMIT} accounts per request")
    body = {"accounts": [{"accountId": a, "updatedAt": at} for a, at in accounts.items()]}
    with deadline(seconds):
        answer = client.send(
            "POST",
            f"{client.api_url}/app/report-accounts/",
            headers={"Authorization": f"Bearer {system_token}"},
            json=body,
        )
    period = cycle_period_days(answer.headers.get("cycle-period"))
    if answer.status_code == 204:
        return ReportAnswer(cycle_period_days=period)
    listed = read_json(answer).get("accounts")  # raises for 429, 5xx and other statuses
    if not isinstance(listed, list):
        raise AtlassianError()
    statuses: dict[str, AccountStatus] = {}
    for entry in listed:
        account_id = entry.get("accountId") if isinstance(entry, dict) else None
        status = entry.get("status") if isinstance(entry, dict) else None
        # Only accounts this batch reported are acted on: an answer never erases anything else.
        if isinstance(account_id, str) and account_id in accounts and status in ("closed", "updated"):
            statuses[account_id] = status
    return ReportAnswer(statuses, period)
