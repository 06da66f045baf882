"""OAuth `state` and PKCE for the web server flow.

The state is sealed (AES-GCM under a key derived from the key ring), not merely signed,
because it carries the PKCE `code_verifier`: the verifier must stay unknown to anyone who
sees the redirect URLs, or PKCE protects nothing. Sealing also makes the state stateless
across replicas: any replica can open a state another one issued. It is bound to one
tenant and one login host (production or sandbox), expires after minutes, and is
single-use: `UsedStates` remembers spent nonces until they would have expired anyway.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import secrets
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from auth_service.domain.keyring import NONCE_BYTES, KeyRing, KeyRingError

_PURPOSE = b"auth.oauth-state.v1"
_SEPARATOR = "."


class StateError(Exception):
    """The state cannot be used; `reason` is one of malformed, tampered, expired, replayed."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"OAuth state {reason}")


@dataclass(frozen=True, slots=True)
class OAuthState:
    """What a connect attempt needs to remember until Salesforce redirects back."""

    tenant_id: str
    sandbox: bool
    code_verifier: str
    nonce: str
    expires_at: float  # epoch seconds
    actor: str = "unknown"
    """Who started the attempt (the audit trail's actor of its outcome)."""


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def b64url_decode(text: str) -> bytes:
    # Strict: characters outside the alphabet are an error, not silently skipped, so a
    # state with anything appended is refused whatever its length.
    padded = text + "=" * (-len(text) % 4)
    return base64.b64decode(padded, altchars=b"-_", validate=True)


def new_state(
    tenant_id: str, *, sandbox: bool, now: float, ttl_s: float, actor: str = "unknown"
) -> OAuthState:
    """A fresh state with a new PKCE verifier (RFC 7636: 43 to 128 characters)."""
    return OAuthState(
        tenant_id=tenant_id,
        sandbox=sandbox,
        code_verifier=secrets.token_urlsafe(64),
        nonce=secrets.token_urlsafe(16),
        expires_at=now + ttl_s,
        actor=actor,
    )


def pkce_challenge(code_verifier: str) -> str:
    """The S256 `code_challenge` of a verifier."""
    return b64url(hashlib.sha256(code_verifier.encode("ascii")).digest())


def seal_state(state: OAuthState, ring: KeyRing) -> str:
    """The `state` parameter: `<key id>.<base64url(nonce + ciphertext)>`."""
    body = json.dumps(
        {
            "t": state.tenant_id,
            "s": state.sandbox,
            "v": state.code_verifier,
            "n": state.nonce,
            "e": state.expires_at,
            "a": state.actor,
        },
        separators=(",", ":"),
    ).encode()
    aead_nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(ring.derived(ring.active_id, _PURPOSE)).encrypt(aead_nonce, body, _PURPOSE)
    return f"{ring.active_id}{_SEPARATOR}{b64url(aead_nonce + sealed)}"


def open_state(token: str, ring: KeyRing, *, now: float) -> OAuthState:
    """Open and check a `state` parameter; raises StateError with the reason."""
    key_id, sep, payload = token.partition(_SEPARATOR)
    if not sep or not payload or len(token) > 2048:
        raise StateError("malformed")
    try:
        raw = b64url_decode(payload)
        key = ring.derived(key_id, _PURPOSE)
        body = AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], _PURPOSE)
    except (binascii.Error, ValueError, KeyRingError, InvalidTag):
        raise StateError("tampered") from None
    data = json.loads(body)
    state = OAuthState(
        tenant_id=str(data["t"]),
        sandbox=bool(data["s"]),
        code_verifier=str(data["v"]),
        nonce=str(data["n"]),
        expires_at=float(data["e"]),
        actor=str(data.get("a") or "unknown"),  # a state sealed before actors were kept
    )
    if now >= state.expires_at:
        raise StateError("expired")
    return state


class UsedStates:
    """Nonces of states already spent, kept until they would have expired anyway."""

    def __init__(self) -> None:
        self._spent: dict[str, float] = {}

    def claim(self, state: OAuthState, *, now: float) -> None:
        """Mark the state spent; raises StateError("replayed") when it already was."""
        self._spent = {n: exp for n, exp in self._spent.items() if exp > now}
        if state.nonce in self._spent:
            raise StateError("replayed")
        self._spent[state.nonce] = state.expires_at
