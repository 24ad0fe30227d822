"""What a request body must be before any parser sees it: JSON, an object, within the parse limits."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

MAX_JSON_DEPTH = 32
MAX_JSON_NUMBER_DIGITS = 100


def is_json(event: Mapping[str, Any]) -> bool:
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    return is_json_media_type(str(headers.get("content-type") or "application/json"))


def is_json_media_type(content_type: str) -> bool:
    media_type = content_type.split(";")[0].strip()
    return media_type.lower() == "application/json"  # media types are case-insensitive (RFC 9110)


def json_media_type_in_lower_case(event: dict[str, Any]) -> dict[str, Any]:
    """The event with `Content-Type: application/json` spelled in lower case, as Powertools' body parser
    matches it (case-sensitively); `serve` has already checked that it is JSON."""
    if not any(k.lower() == "content-type" for k in event.get("headers") or {}):
        return event

    def lowered(name: str, value: Any) -> Any:
        if name.lower() != "content-type":
            return value
        if isinstance(value, list):
            return [str(v).lower() for v in value]
        return str(value).lower()

    return {
        **event,
        "headers": {k: lowered(k, v) for k, v in (event.get("headers") or {}).items()},
        "multiValueHeaders": {k: lowered(k, v) for k, v in (event.get("multiValueHeaders") or {}).items()},
    }


def within_parse_limits(body: str) -> bool:
    """Whether a body stays within the nesting and number sizes the service parses (the contract's 400).

    Checked before any parser sees the body: json recurses once per level of nesting (RecursionError
    at about a thousand) and refuses integers over 4,300 digits with a ValueError of its own. One pass,
    linear in the body's length (8 KiB at most); strings are skipped, whatever they hold.
    """
    depth = digits = 0
    in_string = escaped = False
    for ch in body:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch in "[{":
            depth += 1
            if depth > MAX_JSON_DEPTH:
                return False
        elif ch in "]}":
            depth -= 1
        elif ch.isdigit():
            digits += 1
            if digits > MAX_JSON_NUMBER_DIGITS:
                return False
            continue
        elif ch == '"':
            in_string = True
        if ch not in ".eE+-":
            digits = 0
    return True


def is_json_object(body: str) -> bool:
    """Whether a body is a JSON object (`within_parse_limits` has kept json's recursion in bounds)."""
    try:
        return isinstance(json.loads(body), dict)
    except ValueError:  # json.JSONDecodeError, or text that is no JSON at all
        return False
