"""Building `auth.refresh-tokens.v1` records: sealing a token into one, and changing one.

A changed record is a new message (new `message_id`, `occurred_at`): the topic keeps the
latest per tenant.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from auth_service.domain.keyring import KeyRing, Sealed
from chat_contracts.auth import RefreshTokenRecord


def sealed_of(record: RefreshTokenRecord) -> Sealed:
    return Sealed(record.key_id, record.nonce, record.ciphertext)


def open_token(record: RefreshTokenRecord, ring: KeyRing) -> str:
    """The plaintext refresh token of a record (raises `KeyRingError`)."""
    return ring.open(sealed_of(record), tenant_id=record.tenant_id)


def new_record(
    *,
    tenant_id: str,
    refresh_token: str,
    ring: KeyRing,
    org_id: str,
    user_id: str,
    username: str,
    instance_url: str,
    sandbox: bool,
    now: datetime,
) -> RefreshTokenRecord:
    sealed = ring.seal(refresh_token, tenant_id=tenant_id)
    return RefreshTokenRecord(
        tenant_id=tenant_id,
        key_id=sealed.key_id,
        nonce=sealed.nonce,
        ciphertext=sealed.ciphertext,
        org_id=org_id,
        user_id=user_id,
        username=username,
        instance_url=instance_url,
        sandbox=sandbox,
        connected_at=now,
        last_refreshed_at=now,
    )


def changed(
    record: RefreshTokenRecord,
    *,
    ring: KeyRing,
    refresh_token: str | None = None,
    **fields: Any,
) -> RefreshTokenRecord:
    """`record` with `fields` changed; given `refresh_token`, re-sealed with the active key."""
    data = record.model_dump(exclude={"message_id", "occurred_at"})
    if refresh_token is not None:
        sealed = ring.seal(refresh_token, tenant_id=record.tenant_id)
        data.update(key_id=sealed.key_id, nonce=sealed.nonce, ciphertext=sealed.ciphertext)
    data.update(fields)
    return RefreshTokenRecord.model_validate(data)
