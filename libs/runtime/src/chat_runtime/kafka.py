"""The Kafka kit: every aiokafka client of the suite is built here, and only here.

A service builds one `KafkaKit` from its settings (`KafkaKit.from_settings`) and asks it
for producers, consumers and admin clients. The kit applies what every client must
have, so no service can forget it: the bootstrap servers, the connection security
(`KAFKA_SECURITY_PROTOCOL` / `KAFKA_SASL_*` / `KAFKA_SSL_CAFILE`), a client id that names
the service and the client's role (what a broker's request logs and quotas show), and the
suite's delivery defaults (idempotent `acks="all"` producers, consumers that never commit
on their own). `docs/decisions/0001-faststream-and-the-kafka-kit.md` says where FastStream
is used instead, and why.

aiokafka clients bind to the running event loop when they are created, so services build
them in a startup hook; `ManagedProducer` is that pattern once.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, NamedTuple

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaConnectionError

if TYPE_CHECKING:
    from chat_runtime.settings import ServiceSettings

JSON_HEADERS: Final = (("content-type", b"application/json"),)


class OutRecord(NamedTuple):
    """One record to produce (a tuple: thousands are made per batch)."""

    topic: str
    key: bytes
    value: bytes
    headers: tuple[tuple[str, bytes], ...] = JSON_HEADERS


class PublishError(Exception):
    """Kafka did not confirm the record(s): nothing may be committed or acknowledged."""


# Kafka caps client ids at 255 characters in request headers; keep well inside it.
_CLIENT_ID_MAX = 200


@dataclass(frozen=True, slots=True)
class KafkaKit:
    """Factories for the aiokafka clients of one process."""

    bootstrap_servers: str
    client_id: str = "chat"
    security: Mapping[str, Any] = field(default_factory=dict)
    """aiokafka keyword arguments of the connection security (`KafkaSecurity`)."""

    @classmethod
    def from_settings(cls, settings: ServiceSettings) -> KafkaKit:
        """The kit of a service: its bootstrap servers, security and name."""
        return cls(
            settings.kafka_bootstrap_servers,
            settings.service_name,
            settings.kafka_security().aiokafka_options(),
        )

    @property
    def servers(self) -> list[str]:
        """The bootstrap servers as a list."""
        return [s.strip() for s in self.bootstrap_servers.split(",") if s.strip()]

    def named(self, client_id: str) -> KafkaKit:
        """The same kit with another base client id (a tool acting for another name)."""
        return KafkaKit(self.bootstrap_servers, client_id, self.security)

    def _common(self, role: str) -> dict[str, Any]:
        return {
            **self.security,
            "bootstrap_servers": self.servers,
            "client_id": f"{self.client_id}-{role}"[:_CLIENT_ID_MAX],
        }

    def producer(self, role: str = "producer", **options: Any) -> AIOKafkaProducer:
        """An idempotent producer whose sends return once every in-sync replica has the
        record (`acks="all"`), without linger unless `options` says otherwise."""
        config: dict[str, Any] = {"acks": "all", "enable_idempotence": True, "linger_ms": 0}
        config.update(options)
        return AIOKafkaProducer(**self._common(role), **config)

    def consumer(
        self, role: str, *topics: str, group_id: str | None = None, **options: Any
    ) -> AIOKafkaConsumer:
        """A consumer that commits only when told to (at-least-once is the caller's), and
        starts from the earliest retained record when it has no committed offset.
        Without `group_id` it is a plain reader: assign partitions yourself."""
        config: dict[str, Any] = {"enable_auto_commit": False, "auto_offset_reset": "earliest"}
        config.update(options)
        return AIOKafkaConsumer(*topics, **self._common(role), group_id=group_id, **config)

    def admin(self, role: str = "admin", **options: Any) -> AIOKafkaAdminClient:
        """An admin client (topics, configs, offsets)."""
        return AIOKafkaAdminClient(**self._common(role), **options)

    @contextlib.asynccontextmanager
    async def admin_session(self, role: str = "admin", **options: Any) -> AsyncIterator[Any]:
        """`async with kit.admin_session() as admin:` a started admin client, closed after."""
        admin = self.admin(role, **options)
        await admin.start()
        try:
            yield admin
        finally:
            await admin.close()


class ManagedProducer:
    """One producer for the process, created at `start()` (inside the running loop) and
    usable again after `stop()`. `producer` raises `NotStarted` outside that window."""

    def __init__(self, kit: KafkaKit, role: str = "producer", **options: Any) -> None:
        self._kit = kit
        self._role = role
        self._options = options
        self._producer: AIOKafkaProducer | None = None

    @property
    def started(self) -> bool:
        """Connected (readiness)."""
        return self._producer is not None

    @property
    def producer(self) -> AIOKafkaProducer:
        """The running producer."""
        if self._producer is None:
            raise NotStarted(f"the {self._role} producer is not started")
        return self._producer

    async def start(self) -> None:
        """Connect (raises when Kafka cannot be reached); a second call does nothing."""
        if self._producer is None:
            producer = self._kit.producer(self._role, **self._options)
            await producer.start()
            self._producer = producer

    async def stop(self) -> None:
        """Flush what is pending and disconnect."""
        producer, self._producer = self._producer, None
        if producer is not None:
            await producer.stop()


class NotStarted(KafkaConnectionError):  # type: ignore[misc]
    """A client was used before its `start()` or after its `stop()` (a KafkaError, so
    callers that handle Kafka being unreachable handle this too)."""
