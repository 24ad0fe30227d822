"""What the service takes from Atlassian's answers, and how far it trusts it (contract 2d): the numbers of
its headers, the text it keeps or shows, the size of a body. Every caller reads them through here.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

MAX_WAIT_SECONDS = 24 * 60 * 60  # a longer Retry-After or X-RateLimit-Reset is taken as 24 h
MAX_BODY_BYTES = 1024 * 1024  # an answer's body is read up to 1 MiB; a larger one is atlassian_error
MAX_TEXT_CHARS = 255  # a name, organization name or label kept or shown is cut to this
# str.isdigit() and int() accept other scripts' digits ('²', '٣'); Atlassian's numbers are ASCII.
_NUMBER = re.compile(r"[0-9]{1,10}")
# Bidirectional embeddings, overrides and isolates: they make a page read in another order than stored.
_BIDI = {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))}


def header_number(value: str | None) -> int | None:
    """A number of an Atlassian header: 1 to 10 ASCII digits (spaces around allowed), else None."""
    if value is None:
        return None
    value = value.strip(" \t")
    return int(value) if _NUMBER.fullmatch(value) else None


def wait_seconds(value: str | None, now: datetime | None = None) -> int | None:
    """A wait Atlassian asks for (`Retry-After`: seconds or an HTTP date; `X-RateLimit-Reset`: seconds),
    at most 24 h; None when it is neither. A date already past is a wait of 0."""
    seconds = header_number(value)
    if seconds is None and value:
        when = _http_date(value)
        if when is not None:
            left = (when - (now or datetime.now(UTC))).total_seconds()
            seconds = max(0, int(left + 0.999))  # rounded up: never sooner than asked
    return None if seconds is None else min(seconds, MAX_WAIT_SECONDS)


def cycle_period_days(value: str | None) -> int | None:
    """The `Cycle-Period` of the personal data reporting API: a number of days from 1 to 365, else None."""
    days = header_number(value)
    return days if days is not None and 1 <= days <= 365 else None


def clean_text(value: object) -> str | None:
    """Text from Atlassian as the service keeps or shows it: without control characters or bidirectional
    overrides, cut to MAX_TEXT_CHARS; None for anything that is not text or holds nothing readable."""
    if not isinstance(value, str):
        return None
    # Cut first, generously, so that a huge name costs no more than a short one.
    kept = "".join(
        ch
        for ch in value[: 4 * MAX_TEXT_CHARS]
        if ch not in _BIDI and unicodedata.category(ch) not in ("Cc", "Cs")
    )
    kept = kept.strip()[:MAX_TEXT_CHARS].strip()
    return kept or None


def _http_date(value: str) -> datetime | None:
    if len(value) > 64:  # an HTTP date is 29 characters
        return None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)
