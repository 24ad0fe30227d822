"""The Atlassian simulator's fixed test credentials and accounts: what each answers, and its banner.

Listed in CREDENTIALS_HELP (printed at the local stack's start), README.md and docs/LOCAL_STACK.md.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypedDict

ORG_ID = "sim-org-acme"
ORG_NAME = "Acme (simulated)"
# An organization that holds the simulated site too, whose listing of API keys dates its key.
DATED_ORG_ID = "sim-org-initech"
DATED_ORG_NAME = "Initech (simulated)"
# An organization that does not hold the simulated site (its workspaces are Globex's own).
OTHER_ORG_ID = "sim-org-globex"
OTHER_ORG_NAME = "Globex (simulated)"
ADMIN_ACCOUNT = "sim-admin-0001"
USER_ACCOUNT = "sim-user-0002"
SYSTEM_TOKEN_PREFIX = "sim-system-token"
DISPLAY_NAMES = {ADMIN_ACCOUNT: "Sam Admin (simulated)", USER_ACCOUNT: "Uma User (simulated)"}
RETRY_AFTER_SECONDS = "7"

# Behaviours a key or token can carry besides answering normally.
OK, ERROR, RATE_LIMITED, SLOW, REDIRECT = "ok", "error", "rate_limited", "slow", "redirect"
# Answers normally, but after the headers the body comes a byte at a time (`trickle_seconds` apart):
# no single read waits long, the whole answer takes minutes.
TRICKLE = "trickle"
# Answers 200 with a body that is not JSON (a proxy's error page, say).
UNREADABLE = "unreadable"
# Where REDIRECT credentials are sent: the instance metadata service, as an attacker would choose.
METADATA_URL = "http://169.254.169.254/latest/meta-data/iam/security-credentials/"


# A moment of a listing: a datetime, or a timedelta from the moment of the answer (negative: before it).
Moment = datetime | timedelta | None


@dataclass(frozen=True)
class SimKey:
    org_id: str | None  # None: the key belongs to no organization
    org_name: str | None
    scoped: bool = False
    behaviour: str = OK
    tokens_behaviour: str = OK  # how GET .../api-tokens alone behaves (the key is otherwise fine)
    keys_behaviour: str = OK  # how GET .../api-keys alone behaves
    workspaces_behaviour: str = OK  # how POST /admin/v2/orgs/{orgId}/workspaces alone behaves
    # How the organization's listing of API keys shows it: no expiresAt when None (nothing to learn).
    label: str = "Admin API key"
    expires_at: Moment = None
    last_active_at: Moment = None
    revoked: bool = False  # listed as revoked, and refused (401) on every call
    id: str = field(default_factory=lambda: str(uuid.uuid4()), compare=False)  # the listing's id


class KeyOptions(TypedDict, total=False):
    """AtlassianSimulator.add_key's keywords: how the key's listings and search answer, alone, and how
    its organization's api-keys listing shows it (a time: a datetime, or a timedelta from the answer)."""

    tokens_behaviour: str
    keys_behaviour: str
    workspaces_behaviour: str
    label: str
    expires_at: Moment  # None (the default): listed with expiresAt null
    last_active_at: Moment
    revoked: bool  # listed with revokedBy and revocationDate, and refused (401) on every call


@dataclass(frozen=True)
class SimToken:
    account_id: str
    display_name: str
    email_address: str  # what /myself reports, which may differ from the login email
    active: bool = True
    scoped: bool = False  # scoped tokens work only through the API gateway
    behaviour: str = OK


def default_keys() -> dict[str, SimKey]:
    return {
        "sim-admin-key-unscoped-GOOD1": SimKey(ORG_ID, ORG_NAME),
        "sim-admin-key-scoped-SCOP1": SimKey(ORG_ID, ORG_NAME, scoped=True),
        "sim-admin-key-no-org-NORG1": SimKey(None, None),
        "sim-admin-key-error-ERR5": SimKey(ORG_ID, ORG_NAME, behaviour=ERROR),
        "sim-admin-key-ratelimited-R429": SimKey(ORG_ID, ORG_NAME, behaviour=RATE_LIMITED),
        "sim-admin-key-slow-SLOW": SimKey(ORG_ID, ORG_NAME, behaviour=SLOW),
        "sim-admin-key-trickle-DRIP": SimKey(ORG_ID, ORG_NAME, behaviour=TRICKLE),
        "sim-admin-key-tokens-error-TER5": SimKey(ORG_ID, ORG_NAME, tokens_behaviour=ERROR),
        # Initech lists this key expiring in 20 days, beside a revoked key and a key with scopes
        # (local/sim_orgs.py) that were used more recently: only this one can be the caller's.
        "sim-admin-key-expiring-EXP20": SimKey(
            DATED_ORG_ID,
            DATED_ORG_NAME,
            label="api-info",
            expires_at=timedelta(days=20),
            last_active_at=-timedelta(hours=1),
        ),
        "sim-admin-key-revoked-RVK1": SimKey(
            DATED_ORG_ID,
            DATED_ORG_NAME,
            label="old laptop",
            expires_at=timedelta(days=200),
            last_active_at=-timedelta(minutes=30),
            revoked=True,
        ),
        "sim-admin-key-other-org-OTHR": SimKey(OTHER_ORG_ID, OTHER_ORG_NAME, label="globex sync"),
    }


def default_tokens() -> dict[tuple[str, str], SimToken]:
    ada = "ada@acme.test"
    expiring = {
        (email, token): SimToken(account, name, email)
        for account, name, email, token in (
            ("sim-account-eve", "Eve Expiring", "eve@acme.test", "sim-token-expiry-one-EXP1"),
            ("sim-account-max", "Max Many", "max@acme.test", "sim-token-expiry-used-EXP2"),
            ("sim-account-tia", "Tia Tied", "tia@acme.test", "sim-token-expiry-tied-EXP3"),
            ("sim-account-gus", "Gus Guest", "gus@partner.test", "sim-token-unmanaged-EXP4"),
            ("sim-account-rex", "Rex Revoked", "rex@acme.test", "sim-token-expiry-status-EXP5"),
        )
    }
    return {
        **expiring,
        (ada, "sim-token-classic-GOOD2"): SimToken("sim-account-ada", "Ada Admin", ada),
        (ada, "sim-token-scoped-SCP2"): SimToken("sim-account-ada", "Ada Admin", ada, scoped=True),
        ("ina@acme.test", "sim-token-inactive-INA2"): SimToken(
            "sim-account-ina", "Ina Inactive", "ina@acme.test", active=False
        ),
        ("alias@acme.test", "sim-token-alias-ALS2"): SimToken("sim-account-ada", "Ada Admin", ada),
        (ada, "sim-token-error-ERR5"): SimToken("sim-account-ada", "Ada Admin", ada, behaviour=ERROR),
        (ada, "sim-token-ratelimited-R429"): SimToken(
            "sim-account-ada", "Ada Admin", ada, behaviour=RATE_LIMITED
        ),
        (ada, "sim-token-slow-SLOW"): SimToken("sim-account-ada", "Ada Admin", ada, behaviour=SLOW),
        (ada, "sim-token-trickle-DRIP"): SimToken("sim-account-ada", "Ada Admin", ada, behaviour=TRICKLE),
    }


_KEY_ROWS = [
    ("sim-admin-key-unscoped-GOOD1", f'valid: org {ORG_ID} "{ORG_NAME}", without scopes', ""),
    ("sim-admin-key-scoped-SCOP1", "same org, with scopes (user read 403)", "api_key_has_scopes"),
    ("sim-admin-key-no-org-NORG1", "no organization", "api_key_no_organization"),
    ("sim-admin-key-error-ERR5", "Atlassian answers 500", "atlassian_error"),
    ("sim-admin-key-ratelimited-R429", "Atlassian answers 429, Retry-After 7", "atlassian_unavailable"),
    ("sim-admin-key-slow-SLOW", "valid, but answers after 10 s", ""),
    ("sim-admin-key-trickle-DRIP", "valid; body trickles in, 1 byte / 2 s", "atlassian_unavailable"),
    ("sim-admin-key-tokens-error-TER5", "valid; its api-tokens listing answers 500", ""),
    ("sim-admin-key-expiring-EXP20", f'valid: org "{DATED_ORG_NAME}", listed: 20 d left', ""),
    ("sim-admin-key-revoked-RVK1", "revoked: 401; listed as revoked", "api_key_invalid"),
    ("sim-admin-key-other-org-OTHR", f'org "{OTHER_ORG_NAME}", not this site', "api_key_other_organization"),
    ("anything else", "401", "api_key_invalid"),
]
_TOKEN_ROWS = [
    ("ada@acme.test", "sim-token-classic-GOOD2", 'valid: sim-account-ada "Ada Admin"', ""),
    ("ada@acme.test", "sim-token-scoped-SCP2", "with scopes (site 401)", "api_token_has_scopes"),
    ("ina@acme.test", "sim-token-inactive-INA2", "deactivated account", "api_token_account_inactive"),
    ("alias@acme.test", "sim-token-alias-ALS2", "/myself says ada@acme.test", "api_token_email_mismatch"),
    ("ada@acme.test", "sim-token-error-ERR5", "Atlassian answers 500", "atlassian_error"),
    ("ada@acme.test", "sim-token-ratelimited-R429", "429, Retry-After 7", "atlassian_unavailable"),
    ("ada@acme.test", "sim-token-slow-SLOW", "valid, but answers after 10 s", ""),
    ("ada@acme.test", "sim-token-trickle-DRIP", "body trickles in, 1 byte / 2 s", "atlassian_unavailable"),
    ("eve@acme.test", "sim-token-expiry-one-EXP1", "valid; listed: 1 token, expires in 6.5 d", ""),
    ("max@acme.test", "sim-token-expiry-used-EXP2", "valid; listed: 3 live, 1 used 30 min ago", ""),
    ("tia@acme.test", "sim-token-expiry-tied-EXP3", "valid; listed: 2 live, none clearly in use", ""),
    ("gus@partner.test", "sim-token-unmanaged-EXP4", "valid; unmanaged account, not listed", ""),
    ("rex@acme.test", "sim-token-expiry-status-EXP5", "valid; listed: 1 ALLOWED of 3", ""),
    ("anything else", "", "401", "api_token_invalid"),
]
CREDENTIALS_HELP = "\n".join(
    [
        'Org Admin API keys (PUT /api-info/key {"apiKey": ...}):',
        *(f"  {k:32}{what:40}{'-> ' + code if code else ''}".rstrip() for k, what, code in _KEY_ROWS),
        'User API tokens (PUT /api-info/token {"email": ..., "apiToken": ...}):',
        *(
            f"  {e:17}{t:29}{what:31}{'-> ' + code if code else ''}".rstrip()
            for e, t, what, code in _TOKEN_ROWS
        ),
        "Token expiry (GET /admin/api-access/v1/orgs/{orgId}/api-tokens, Bearer key): GOOD1 lists the",
        "  EXP1-EXP3 and EXP5 accounts' tokens; SCOP1 gets 403, TER5 500; the other tokens' accounts are not",
        "  listed. Rex's (EXP5) token used last is REVOKED, the next BLOCKED: only the ALLOWED one counts.",
        "Sites (POST /admin/v2/orgs/{orgId}/workspaces, Bearer key): every organization holds the simulated",
        f"  site but {OTHER_ORG_NAME}, which holds globex.atlassian.net.",
        "Key expiry (GET /admin/api-access/v1/orgs/{orgId}/api-keys, Bearer key): each org's keys; only",
        f"  EXP20 has an expiresAt, in {DATED_ORG_NAME}'s listing, beside RVK1 (revoked) and a key with",
        "  scopes that were both used after it: only EXP20 counts.",
        f"Jira accounts (the token's principal): {ADMIN_ACCOUNT} is a Jira administrator;",
        f"  {USER_ACCOUNT} (or any other accountId) is not.",
        "Personal data reporting (POST /app/report-accounts/, Bearer app system token, at most 90 accounts):",
        "  204 for every account but Atlassian's closed test account 5be24ba3f91c106033269289 (closed);",
        "  Cycle-Period: 7.",
    ]
)
