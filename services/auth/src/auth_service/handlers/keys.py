"""Key rotation: after a new key becomes active, re-seal records sealed with older ones,
so the old key can leave the ring once every replica has run with the new one."""

from __future__ import annotations

from aiokafka.errors import KafkaError

from auth_service.adapters.ports import TokenStore
from auth_service.domain.keyring import KeyRing, KeyRingError
from auth_service.domain.token_records import changed, open_token
from chat_runtime.logging import get_logger

log = get_logger(__name__)


async def reseal_records(store: TokenStore, ring: KeyRing) -> int:
    """Re-seal every record not sealed with the active key; returns how many were."""
    resealed = 0
    for record in store.records():
        if ring.is_current(record.key_id):
            continue
        try:
            token = open_token(record, ring)
            await store.put(changed(record, ring=ring, refresh_token=token))
        except KeyRingError:
            log.error(
                "record sealed with a key missing from the ring: tenant must reconnect",
                tenant_id=record.tenant_id,
                key_id=record.key_id,
            )
            continue
        except KafkaError as exc:
            log.error("re-sealed record not written", error=type(exc).__name__)
            continue
        resealed += 1
    if resealed:
        log.info("records re-sealed with the active key", count=resealed, key_id=ring.active_id)
    return resealed
