"""What the service takes from Atlassian's answers (contract 2d): the numbers of its headers, the text it
keeps or shows, and the one outbound budget of a request (2a)."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from api_info import models
from api_info.answers import (
    MAX_BODY_BYTES,
    MAX_TEXT_CHARS,
    clean_text,
    cycle_period_days,
    header_number,
    wait_seconds,
)
from api_info.atlassian import Transport, deadline, retry_after, transport, within_deadline
from api_info.errors import AtlassianError, AtlassianUnavailable
from api_info.records import Account, Actor, Organization
from api_info.settings import Settings

NOW = datetime(2026, 12, 7, 12, 0, 0, tzinfo=UTC)
DAY = 24 * 60 * 60


# --- numbers in headers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "number"),
    [
        ("0", 0),
        ("120", 120),
        (" 7 ", 7),
        ("9999999999", 9_999_999_999),  # ten digits: still a number
        ("99999999999999999999", None),  # twenty: not one (int() would take it, and overflow later)
        ("²", None),  # str.isdigit() says yes, int() raises
        ("٣", None),  # an Arabic-Indic three: int() would take it
        ("1e3", None),
        ("-1", None),
        ("+1", None),
        ("1.5", None),
        ("", None),
        ("garbage", None),
        (None, None),
    ],
)
def test_only_one_to_ten_ascii_digits_are_a_number_in_a_header(value: str | None, number: int | None) -> None:
    assert header_number(value) == number


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("30", 30),
        ("0", 0),
        (str(DAY), DAY),
        (str(DAY + 1), DAY),  # longer than 24 h: 24 h
        ("9999999999", DAY),
        ("99999999999999999999", None),
        ("²", None),
        ("soon", None),
        ("", None),
        (None, None),
        (format_datetime(NOW + timedelta(seconds=90), usegmt=True), 90),  # an HTTP date, read as a date
        ("Mon, 07 Dec 2026 12:01:30 GMT", 90),
        ("Monday, 07-Dec-26 12:01:30 GMT", 90),  # RFC 850, which HTTP still allows
        (format_datetime(NOW + timedelta(days=30), usegmt=True), DAY),
        (format_datetime(NOW - timedelta(hours=1), usegmt=True), 0),  # already past: no wait
        ("Mon, 99 Dec 2026 12:01:30 GMT", None),
        ("Mon, 07 Dec 99999 12:01:30 GMT", None),
    ],
)
def test_a_wait_is_seconds_or_an_http_date_and_never_more_than_24_hours(
    value: str | None, seconds: int | None
) -> None:
    assert wait_seconds(value, now=NOW) == seconds


@pytest.mark.parametrize(
    ("value", "days"),
    [
        ("1", 1),
        ("30", 30),
        ("365", 365),
        ("0", None),
        ("366", None),
        ("²", None),
        ("7 days", None),
        (None, None),
    ],
)
def test_the_cycle_period_stays_days_from_1_to_365(value: str | None, days: int | None) -> None:
    assert cycle_period_days(value) == days


@pytest.mark.parametrize(
    ("headers", "wait"),
    [
        ({"Retry-After": "²"}, None),
        ({"Retry-After": "99999999999999999999"}, None),
        ({"Retry-After": "86401"}, DAY),
        ({"Retry-After": "garbage", "X-RateLimit-Reset": "12"}, 12),
        ({"X-RateLimit-Reset": "99999"}, DAY),
        ({}, None),
    ],
)
def test_a_429_s_wait_is_read_with_the_one_parser(headers: dict[str, str], wait: int | None) -> None:
    answer = httpx.Response(429, headers={k: v.encode() for k, v in headers.items()}, content=b"{}")

    with pytest.raises(AtlassianUnavailable) as raised:
        transport.read_json(answer)

    assert raised.value.retry_after == wait == retry_after(answer)


# --- text ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "kept"),
    [
        ("Ada Admin", "Ada Admin"),
        ("Zoë Ångström 山田", "Zoë Ångström 山田"),
        ("\u202eevil\u202c", "evil"),  # a right-to-left override: the page would read backwards
        ("a\u2066b\u2067c\u2068d\u2069e\u202af\u202bg\u202dh", "abcdefgh"),
        ("line\nbreak\ttab\x00nul\x1b[31m\x7f\x85", "linebreaktabnul[31m"),
        ("   ", None),
        ("\u202e", None),
        ("", None),
        (42, None),
        (None, None),
        ({"name": "x"}, None),
    ],
)
def test_text_from_atlassian_loses_controls_and_bidirectional_overrides(
    value: object, kept: str | None
) -> None:
    assert clean_text(value) == kept


def test_text_from_atlassian_is_cut_to_255_characters_however_long() -> None:
    huge = "N" * 450_000

    assert clean_text(huge) == "N" * MAX_TEXT_CHARS
    assert clean_text("\u202e" * 10 + "x" * 300) == "x" * MAX_TEXT_CHARS


def test_every_model_that_keeps_atlassian_text_cleans_it() -> None:
    # Stored items are read through the same models: a name stored before this rule is cleaned too.
    hostile = "\u202e" + "é" * 1000

    cleaned = "é" * MAX_TEXT_CHARS
    assert Account.from_item({"accountId": "a", "displayName": hostile}).display_name == cleaned
    assert (
        Actor.from_item({"type": "atlassian", "accountId": "a", "displayName": hostile}).display_name
        == cleaned
    )
    assert Organization.from_item({"id": "o", "name": hostile}).name == cleaned
    assert Account(account_id="a", display_name=hostile).display_name == cleaned
    # and so do the answers' models
    assert models.Account(accountId="a", displayName=hostile).display_name == cleaned
    assert models.Organization(id="o", name=hostile).name == cleaned


# --- size ----------------------------------------------------------------------------------------


def answering(content: bytes, headers: dict[str, str] | None = None) -> Transport:
    """A client whose every exchange is answered 200 with `content` (no network)."""
    mock = httpx.MockTransport(lambda _: httpx.Response(200, content=content, headers=headers))
    settings = Settings(forge_app_id="x", allow_insecure_loopback=True)
    return Transport(settings, http=httpx.Client(transport=mock))


def test_a_body_up_to_1_mib_is_read() -> None:
    body = b'{"x": "' + b"a" * (MAX_BODY_BYTES - 9) + b'"}'

    assert len(answering(body).send("GET", "http://127.0.0.1/x").content) == MAX_BODY_BYTES


@pytest.mark.parametrize(
    ("content", "headers"),
    [
        (b"a" * (MAX_BODY_BYTES + 1), None),
        (gzip.compress(b"\0" * (2 * MAX_BODY_BYTES)), {"Content-Encoding": "gzip"}),  # 2 KB that inflate
        (b"this is not gzip", {"Content-Encoding": "gzip"}),
    ],
    ids=["a byte past 1 MiB", "a compressed bomb", "a broken encoding"],
)
def test_a_body_past_1_mib_or_unreadable_is_atlassian_error(
    content: bytes, headers: dict[str, str] | None
) -> None:
    with pytest.raises(AtlassianError):
        answering(content, headers).send("GET", "http://127.0.0.1/x")


# --- one outbound budget per request -------------------------------------------------------------


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    now = [1000.0]
    monkeypatch.setattr(transport, "_clock", lambda: now[0])
    return now


def test_each_call_gets_at_most_its_own_deadline_and_never_more_than_the_budget_left(
    clock: list[float],
) -> None:
    with deadline(12):  # the request's budget
        with deadline(5):  # the first call: its 5 s
            assert transport._time_left() == 5
            clock[0] += 5
        with deadline(5):  # the second: its 5 s
            assert transport._time_left() == 5
            clock[0] += 5
        with deadline(5):  # the third: only the 2 s the budget has left
            assert transport._time_left() == 2
            clock[0] += 2
        with deadline(5):  # the budget is spent: a call ends at once
            left = transport._time_left()
            assert left is not None and left <= 0


def test_calls_side_by_side_share_the_request_s_budget(clock: list[float]) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def call(_: int) -> float | None:
        with deadline(5):
            return transport._time_left()

    with ThreadPoolExecutor(max_workers=2) as pool, deadline(12):
        clock[0] += 10
        # Another thread does not see this one's budget unless it is carried over
        assert list(pool.map(call, [1, 2])) == [5, 5]
        assert list(pool.map(within_deadline(call), [1, 2])) == [2, 2]
