"""The credential kinds: the registry every other module iterates, and the way to a kind by its name.

Adding a kind: docs/DESIGN.md, "Adding a credential kind".
"""

from __future__ import annotations

from api_info.credentials.api_key import API_KEY
from api_info.credentials.api_token import API_TOKEN
from api_info.credentials.kind import CredentialKind, UnknownCredential

__all__ = ["API_KEY", "API_TOKEN", "CredentialKind", "UnknownCredential", "kind_named", "kinds", "register"]

_KINDS: dict[str, CredentialKind] = {kind.name: kind for kind in (API_KEY, API_TOKEN)}


def kinds() -> tuple[CredentialKind, ...]:
    """Every kind, in the order the page shows them."""
    return tuple(_KINDS.values())


def kind_named(name: str) -> CredentialKind:
    """The kind of this name; UnknownCredential for a name no module declares."""
    try:
        return _KINDS[name]
    except KeyError:
        raise UnknownCredential(name) from None


def register(kind: CredentialKind) -> None:
    """List one more kind (its module calls this once, on import)."""
    if kind.name in _KINDS and _KINDS[kind.name] is not kind:
        raise ValueError(f"Another credential kind is named {kind.name!r}")
    _KINDS[kind.name] = kind


def unregister(kind: CredentialKind) -> None:
    """Forget a kind (tests that register one of their own)."""
    if _KINDS.get(kind.name) is kind:
        del _KINDS[kind.name]
