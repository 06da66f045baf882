"""Messages of the auth service: access tokens on request, encrypted refresh tokens.

`auth.token-requests.v1` (request/reply): a `TokenRequest` is answered on the caller's
reply topic by a `TokenReply`. The reply carries the short-lived **access token** (in
plaintext on the reply topic, since the caller must use it; reply topics are private to
their client and short-lived). The refresh token never leaves auth except encrypted in
`auth.refresh-tokens.v1`. In Python the access token is a `SecretStr`, so `repr()`, logs
and `model_dump()` show `**********`; only `model_dump_json()` (the wire) reveals it.

A caller whose token was refused (`INVALID_SESSION_ID`) names it by `token_fingerprint`,
not by value, so requests carry no token at all.
"""

from __future__ import annotations

import hashlib
from enum import StrEnum
from typing import Annotated, Literal, TypeAlias

from pydantic import Field, SecretStr, StringConstraints, field_serializer

from chat_contracts.base import (
    Base64Bytes,
    Envelope,
    InstanceUrl,
    NonEmptyStr,
    SalesforceId,
    UtcDatetime,
)
from chat_contracts.rr import ErrorReply

FINGERPRINT_PATTERN = r"^[0-9a-f]{16}$"


def token_fingerprint(access_token: str) -> str:
    """A short, non-reversible name for a token: first 16 hex digits of its SHA-256."""
    return hashlib.sha256(access_token.encode("utf-8")).hexdigest()[:16]


class TokenRequest(Envelope):
    """Ask for the tenant's access token. Key: `keys.tenant_key`."""

    schema_version: Literal[1] = 1
    force_refresh: bool = Field(False, description="Skip the cache and refresh now.")
    rejected_token_fingerprint: (
        Annotated[str, StringConstraints(pattern=FINGERPRINT_PATTERN)] | None
    ) = Field(
        None,
        description=(
            "`token_fingerprint` of a token Salesforce refused: auth refreshes once if it is "
            "still the cached one, and serves the newer token otherwise (no refresh storm)."
        ),
        examples=["9f86d081884c7d65"],
    )


class TokenGrantedReply(Envelope):
    """The tenant's current access token and where to use it."""

    schema_version: Literal[1] = 1
    status: Literal["ok"] = "ok"
    access_token: SecretStr = Field(
        description="Short-lived Salesforce access token (never the refresh token).",
        examples=["00D5g000004XyZ!AQ0AQ..."],
    )
    instance_url: InstanceUrl = Field(examples=["https://acme.my.salesforce.com"])
    org_id: SalesforceId = Field(examples=["00D5g000004XyZaEAK"])
    user_id: SalesforceId = Field(
        description="The connected user (the owner fallback).", examples=["0055g00000AbCdEAAV"]
    )
    issued_at: UtcDatetime = Field(examples=["2024-05-01T12:00:00Z"])
    expires_at: UtcDatetime | None = Field(
        None, description="Expected expiry, when auth knows the org's session timeout."
    )

    @field_serializer("access_token", when_used="json")
    def _reveal(self, token: SecretStr) -> str:
        # The reply exists to hand the token over: JSON carries it, repr/logs do not.
        return token.get_secret_value()


class TokenErrorCode(StrEnum):
    """Why no token was issued; includes the generic request/reply codes."""

    NOT_CONNECTED = "not_connected"
    REVOKED = "revoked"
    REFRESH_FAILED = "refresh_failed"
    VALIDATION = "validation"
    DEADLINE_EXCEEDED = "deadline_exceeded"
    INTERNAL = "internal"


class TokenErrorReply(ErrorReply):
    """No token: the tenant never connected, was revoked, or the refresh failed."""

    code: TokenErrorCode = Field(examples=["revoked"])


TokenReply: TypeAlias = Annotated[
    TokenGrantedReply | TokenErrorReply, Field(discriminator="status")
]
"""A reply to an `auth.token-requests.v1` request."""


class RefreshTokenRecord(Envelope):
    """`auth.refresh-tokens.v1` value (compacted, key `keys.tenant_key`): the encrypted token.

    Never plaintext: `ciphertext` is the refresh token sealed with the key `key_id` names
    (so keys rotate without losing tokens), with the tenant id as associated data so a
    record copied under another key does not decrypt. A disconnect writes a tombstone: the
    tenant's key with a null value, which compaction later removes.
    """

    schema_version: Literal[1] = 1
    key_id: NonEmptyStr = Field(description="Which encryption key sealed it.", examples=["k2024"])
    algorithm: Literal["AES-256-GCM"] = Field("AES-256-GCM", examples=["AES-256-GCM"])
    nonce: Base64Bytes = Field(description="AEAD nonce, base64.", examples=["q83vEjRWeJASNFZ4"])
    ciphertext: Base64Bytes = Field(description="Sealed refresh token and tag, base64.")
    org_id: SalesforceId = Field(examples=["00D5g000004XyZaEAK"])
    instance_url: InstanceUrl = Field(examples=["https://acme.my.salesforce.com"])
    sandbox: bool = Field(description="Connected through the sandbox login host.")
    user_id: SalesforceId = Field(examples=["0055g00000AbCdEAAV"])
    username: NonEmptyStr = Field(examples=["admin@acme.test"])
    connected_at: UtcDatetime = Field(examples=["2024-05-01T12:00:00Z"])
    last_refreshed_at: UtcDatetime | None = None
    revoked_at: UtcDatetime | None = Field(
        None,
        description=(
            "When Salesforce refused the token (`invalid_grant`): the tenant must reconnect. "
            "Kept, not tombstoned, so every replica reports 'revoked' rather than "
            "'never connected'."
        ),
    )
