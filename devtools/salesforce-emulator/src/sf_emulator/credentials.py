"""Minting tokens and secrets in Salesforce's shapes.

Access tokens look like real session ids (`00D...!AQ...`), so a client that logs or
parses them behaves as it would in production. Only hashes are stored.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import string

from sf_emulator.store import Store
from sf_emulator.store.orgs import Org

_ALPHABET = string.ascii_letters + string.digits


def _random(n: int, alphabet: str = _ALPHABET) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(n))


def new_access_token(org_id: str) -> str:
    return f"{org_id[:15]}!{_random(96, _ALPHABET + '._')}"


def new_refresh_token() -> str:
    return "5Aep861" + _random(80, _ALPHABET + "._")


def new_client_id() -> str:
    return "3MVG9" + _random(80, _ALPHABET + "._")


def new_client_secret() -> str:
    return secrets.token_hex(32).upper()


def new_password() -> str:
    return _random(16)


def new_code() -> str:
    return "aPrx" + _random(60)


def signature(client_secret: str, identity_url: str, issued_at: str) -> str:
    """Salesforce's token `signature`: base64 HMAC-SHA256 of id + issued_at."""
    mac = hmac.new(client_secret.encode(), (identity_url + issued_at).encode(), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


def start_session(
    store: Store,
    org: Org,
    user_id: str,
    token: str | None = None,
    client_id: str | None = None,
    parent: str | None = None,
) -> str:
    """A new access token for the user (`token` fixes its value, for seeds)."""
    token = token or new_access_token(org.id)
    store.tokens.add_access(token, org.id, user_id, org.settings.session_timeout, client_id, parent)
    return token
