"""Connection events on `auth.connections.v1` and admin actions on `audit.events.v1`, both
keyed by tenant."""

from __future__ import annotations

from aiokafka.errors import KafkaError

from auth_service.adapters.kafka import KafkaWriter
from chat_contracts.audit import AuditEvent
from chat_contracts.auth_events import ConnectionEvent
from chat_contracts.keys import tenant_key
from chat_runtime.logging import get_logger

log = get_logger(__name__)


async def _publish_logged(
    writer: KafkaWriter, topic: str, tenant_id: str, value: bytes, failed: str, **about: str
) -> None:
    """Publish keyed by tenant and wait for the broker's ack. A failure is logged as
    `failed`, never raised: what the record reports has already happened."""
    try:
        await writer.write(topic, tenant_key(tenant_id), value)
    except KafkaError as exc:
        log.error(failed, tenant_id=tenant_id, error=type(exc).__name__, **about)


class KafkaEventPublisher:
    def __init__(self, writer: KafkaWriter, topic: str) -> None:
        self._writer = writer
        self._topic = topic

    async def publish(self, event: ConnectionEvent) -> None:
        """Publish and wait for the broker's ack. A failure is logged, never raised: the
        connection change it reports has already happened and must not be undone by it."""
        await _publish_logged(
            self._writer,
            self._topic,
            event.tenant_id,
            event.model_dump_json().encode(),
            "connection event not published",
            kind=event.kind,
        )


class KafkaAuditTrail:
    def __init__(self, writer: KafkaWriter, topic: str) -> None:
        self._writer = writer
        self._topic = topic

    async def record(self, event: AuditEvent) -> None:
        """Publish and wait for the broker's ack; a failure is logged, never raised: the
        action it records has happened (or been refused) already."""
        await _publish_logged(
            self._writer,
            self._topic,
            event.tenant_id,
            event.model_dump_json().encode(),
            "audit event not published",
            action=event.action,
        )
