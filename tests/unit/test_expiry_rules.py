"""The expiry rules of docs/API.md §4 with no AWS and no HTTP: which listed token gives the expiry,
which reminder threshold is due, and the REMINDER_DAYS setting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from api_info.expiry import Listed, NotLearnt, pick
from api_info.records import Reminder
from api_info.reminders import due
from api_info.settings import Settings

NOW = datetime(2026, 12, 2, 18, 0, tzinfo=UTC)


def listed(expires_in_days: float, used_hours_ago: float | None) -> Listed:
    used = None if used_hours_ago is None else NOW - timedelta(hours=used_hours_ago)
    return Listed(NOW + timedelta(days=expires_in_days), used)


def test_a_single_live_token_gives_its_date_in_utc_whenever_it_was_used() -> None:
    assert pick([listed(6.5, None)], NOW) == "2026-12-09"


def test_of_several_the_one_used_last_within_a_day_and_strictly_after_the_others() -> None:
    assert pick([listed(100, 30), listed(12.5, 0.5), listed(40, None)], NOW) == "2026-12-15"


@pytest.mark.parametrize(
    "tokens",
    [
        pytest.param([listed(20, 30), listed(25, 30)], id="tie-over-a-day-ago"),
        pytest.param([listed(20, 2), listed(25, 2)], id="tie-within-a-day"),
        pytest.param([listed(20, 25), listed(25, 48)], id="none-within-a-day"),
        pytest.param([listed(20, None), listed(25, None)], id="never-used"),
        pytest.param([], id="none-listed"),
    ],
)
def test_no_clear_token_learns_nothing(tokens: list[Listed]) -> None:
    with pytest.raises(NotLearnt):
        pick(tokens, NOW)


@pytest.mark.parametrize(
    ("days_left", "announced", "expected"),
    [
        (31, None, None),
        (30, None, 30),
        (12, None, 14),
        (5, Reminder(version="v1", threshold=30), 7),  # 14 and 7 passed since: the smallest reached
        (5, Reminder(version="v1", threshold=7), None),  # announced already for this value
        (0, Reminder(version="v1", threshold=1), None),  # nothing smaller than 1 to announce
        (-3, None, 1),  # expired without a reminder: the last one still goes out
        (5, Reminder(version="v0", threshold=1), 7),  # announced for the old value: afresh
        (None, None, None),  # no date, no reminder
    ],
)
def test_the_due_threshold(days_left: int | None, announced: Reminder | None, expected: int | None) -> None:
    assert due(days_left, (30, 14, 7, 1), announced, "v1") == expected


def test_reminder_days_default_and_parse() -> None:
    assert Settings.from_env({"FORGE_APP_ID": "x"}).reminder_days == (30, 14, 7, 1)
    parsed = Settings.from_env({"FORGE_APP_ID": "x", "REMINDER_DAYS": " 7, 60 ,0,7"})
    assert parsed.reminder_days == (60, 7, 0)


@pytest.mark.parametrize("value", ["30,x", "30,,7", "-1", "366", "7;1", "1.5"])
def test_a_bad_reminder_days_fails_at_start(value: str) -> None:
    with pytest.raises(ValueError, match="reminder_days"):
        Settings.from_env({"FORGE_APP_ID": "x", "REMINDER_DAYS": value})
