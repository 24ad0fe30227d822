"""The simulator's Personal data reporting API: `POST /app/report-accounts/`.

As Atlassian documents it (docs/PRIVACY.md): the app's token as Bearer, `{"accounts": [{"accountId",
"updatedAt"}]}` with at most 90 accounts (more: 400), `204` when no account needs action, `200` with
`{"accounts": [{"accountId", "status": "closed" | "updated"}]}` otherwise, a `Cycle-Period` header,
and 429 with `Retry-After`. Tests set what it answers and read what it received.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from local.sim_credentials import ERROR, OK, RATE_LIMITED, RETRY_AFTER_SECONDS, SYSTEM_TOKEN_PREFIX

Answer = tuple[int, Any, dict[str, str]]
REPORT_PATH = "/app/report-accounts/"
BATCH_LIMIT = 90
# Atlassian's test accounts, from the privacy guide: the closed one is reported closed by default.
ACTIVE_TEST_ACCOUNT = "5be24ad8b1653240376955d2"
CLOSED_TEST_ACCOUNT = "5be24ba3f91c106033269289"


@dataclass
class SimPrivacy:
    """What the reporting API answers, and every batch it received."""

    closed: set[str] = field(default_factory=lambda: {CLOSED_TEST_ACCOUNT})
    updated: dict[str, str] = field(default_factory=dict)  # accountId -> its new display name in Jira
    behaviour: str = OK  # OK, ERROR (500) or RATE_LIMITED (429 with Retry-After)
    trouble_after: int = 0  # batches answered normally before `behaviour` applies
    cycle_period: str | None = "7"  # the Cycle-Period header, None for none
    received: list[list[dict[str, Any]]] = field(default_factory=list)

    def reported_ids(self) -> list[str]:
        """Every account id received, in order."""
        return [a.get("accountId") for batch in self.received for a in batch]

    def answer(self, authorization: str, body: bytes) -> Answer:
        """The answer to one report."""
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip().startswith(SYSTEM_TOKEN_PREFIX):
            return 401, {"code": 401, "message": "Unauthorized"}, {}
        try:
            accounts = json.loads(body)["accounts"]
            ids = [a["accountId"] for a in accounts if isinstance(a.get("updatedAt"), str)]
        except (ValueError, KeyError, TypeError, AttributeError):
            return 400, {"code": 400, "message": "Invalid request payload"}, {}
        if len(ids) != len(accounts) or not 0 < len(ids) <= BATCH_LIMIT:
            return 400, {"code": 400, "message": f"Report between 1 and {BATCH_LIMIT} accounts"}, {}
        trouble = self.behaviour if len(self.received) >= self.trouble_after else OK
        if trouble == ERROR:
            return 500, {"code": 500, "message": "Internal Server Error"}, {}
        if trouble == RATE_LIMITED:
            return 429, {"code": 429, "message": "Too Many Requests"}, {"Retry-After": RETRY_AFTER_SECONDS}
        self.received.append(accounts)
        headers = {"Cycle-Period": self.cycle_period} if self.cycle_period else {}
        statuses = [
            {"accountId": a, "status": "closed" if a in self.closed else "updated"}
            for a in ids
            if a in self.closed or a in self.updated
        ]
        if not statuses:
            return 204, None, headers
        return 200, {"accounts": statuses}, headers

    def name_of(self, account_id: str) -> str | None:
        """An updated account's new display name, as Jira's user lookup then shows it."""
        return self.updated.get(account_id)
