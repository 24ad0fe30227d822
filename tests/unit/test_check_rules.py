"""The checks' rules, with no AWS and no HTTP: retry timing, the status a change is judged from, tallies."""

from __future__ import annotations

from datetime import date

import pytest

from api_info.check_results import CheckTally, CredentialCheck, TenantCheck
from api_info.credentials.api_key import API_KEY
from api_info.credentials.api_token import API_TOKEN
from api_info.observability import metrics
from api_info.records import CredentialRecord
from api_info.settings import Settings
from api_info.status import days_left, previous_status, retry_delay
from tests.support.records import credential_record

SETTINGS = Settings(forge_app_id="ari:cloud:ecosystem::app/x")


def record(**overrides: object) -> CredentialRecord:
    return credential_record(lastUpdatedAt="2026-01-10T08:00:00Z", **overrides)


@pytest.mark.parametrize(
    ("attempt", "low", "high"), [(1, 60, 66), (2, 120, 132), (3, 240, 264), (5, 900, 900)]
)
def test_retries_back_off_doubling_with_jitter_up_to_15_minutes(attempt: int, low: int, high: int) -> None:
    delays = {retry_delay(attempt, None) for _ in range(200)}

    assert min(delays) >= low and max(delays) <= high


def test_a_retry_never_comes_before_atlassians_retry_after() -> None:
    assert retry_delay(1, 7) >= 60
    assert retry_delay(1, 600) == 600
    assert retry_delay(6, 3600) == 3600
    assert retry_delay(1, 10**9) == 43200  # SQS cannot hide a message longer


def test_theprevious_status_is_the_one_the_app_was_told() -> None:
    assert previous_status(record(), "invalid", SETTINGS) == "invalid"


def test_never_told_theprevious_status_is_the_one_at_save_time() -> None:
    # Saved on 2026-01-10, expiring on 2026-01-20: it was already "expiring" (14 days) when saved.
    assert previous_status(record(expiresOn="2026-01-20"), None, SETTINGS) == "expiring"
    assert previous_status(record(expiresOn="2026-12-31"), None, SETTINGS) == "valid"
    assert previous_status(record(), "garbage", SETTINGS) == "valid"


def check(outcome: str, status: str, previous: str = "valid", **kw: object) -> CredentialCheck:
    return CredentialCheck(API_KEY, outcome, None, previous, status, **kw)  # type: ignore[arg-type]


def test_a_tenant_check_fails_when_any_credential_could_not_be_checked() -> None:
    result = TenantCheck("t", (check("ok", "valid"), check("error", "valid", retry_after=7)))

    assert result.failed and result.retry_after == 7
    assert not TenantCheck("t", (check("ok", "valid"), check("rejected", "invalid"))).failed
    assert TenantCheck("t").retry_after is None


def test_a_superseded_check_announces_nothing() -> None:
    assert check("rejected", "invalid").changed
    assert not check("rejected", "invalid", superseded=True).changed
    assert not check("ok", "valid").changed


def test_the_tally_counts_statuses_errors_and_changes() -> None:
    tally = CheckTally()
    tally.add(TenantCheck("a", (check("ok", "valid"), check("rejected", "invalid"))))
    tally.add(TenantCheck("b", (check("error", "expiring", previous="expiring"),)))
    tally.add(TenantCheck("c", (check("ok", "expired", previous="expiring"),)))

    assert dict(tally.counts) == {
        "CredentialsChecked": 4,
        "CredentialsValid": 1,
        "CredentialsInvalid": 1,
        "CredentialsExpiring": 1,
        "CredentialsExpired": 1,
        "CheckErrors": 1,
        "CredentialStatusChanged": 2,
    }


def emitted() -> dict[str, object]:
    """The EMF document the tally's metrics would be written as, then forgotten."""
    try:
        blob = metrics.serialize_metric_set()
    finally:
        metrics.clear_metrics()
    units = {m["Name"]: m["Unit"] for m in blob["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
    return {name: (blob[name], unit) for name, unit in units.items()}


def test_the_worker_reports_the_share_of_its_first_attempts_atlassian_could_not_answer() -> None:
    # Given one batch's first attempts: 1 timeout and 1 Atlassian 5xx among 8 checks; a refusal, an
    # AWS failure and a retry that timed out again do not count as Atlassian being unreachable
    metrics.clear_metrics()
    tally = CheckTally()
    unavailable = CredentialCheck(API_KEY, "error", "atlassian_unavailable", "valid", "valid")
    failed = CredentialCheck(API_TOKEN, "error", "atlassian_error", "valid", "valid")
    aws_fault = CredentialCheck(API_KEY, "error", "internal_error", "valid", "valid")
    tally.add(TenantCheck("a", (unavailable, failed)), scheduled=True)
    tally.add(TenantCheck("b", (check("rejected", "invalid"), aws_fault)), scheduled=True)
    tally.add(TenantCheck("c", (check("ok", "valid"), check("ok", "valid"))), scheduled=True)
    tally.add(TenantCheck("d", (check("ok", "valid"), check("ok", "expiring"))), scheduled=True)
    tally.add(TenantCheck("e", (unavailable,)), scheduled=False)  # a retry

    # When
    tally.emit()

    # Then 2 of 8 is 25 %, one value for the invocation
    assert emitted()["ScheduledChecksUnreachablePercent"] == ([25.0], "Percent")
    # and checks outside the schedule (POST /api-info/check) report no share
    on_demand = CheckTally()
    on_demand.add(TenantCheck("f", (unavailable,)))
    on_demand.emit()
    assert "ScheduledChecksUnreachablePercent" not in emitted()


@pytest.mark.parametrize(
    ("expires_on", "left"), [("2026-12-08", 6), ("2026-12-02", 0), ("2026-11-29", -3), (None, None)]
)
def test_days_left_counts_whole_utc_days_and_goes_negative_once_passed(
    expires_on: str | None, left: int | None
) -> None:
    assert days_left(expires_on, today=date(2026, 12, 2)) == left
