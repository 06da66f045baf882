"""Reply topics of request/reply clients: naming, creation, heartbeats, deletion, pruning.

Each client principal (a service's Kafka user, the bot runtime's) owns the prefix
`replies.<principal>.` and may read nothing else: replies to crm-sync carry every tenant's
access token, so the bot runtime must not be able to read them. A client's topic is
`replies.<principal>.<instance id>`.

A client writes a heartbeat record (header `rr-heartbeat`, empty value) on its own topic
when it starts and every `heartbeat_s` after, so a topic whose owner died without its
clean-stop deletion can be found: no record newer than the idle limit. `prune()` (the
`chat-reply-topics prune` command, a CronJob on Kubernetes) deletes those, deciding from
offsets and timestamps alone (Kafka's ListOffsets), never reading a reply.
"""

from __future__ import annotations

import re
import socket
import time
import uuid
from dataclasses import dataclass

from aiokafka import TopicPartition
from aiokafka.admin import NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from chat_contracts.topics import REPLY_TOPIC_PREFIX
from chat_runtime.kafka import KafkaKit
from chat_runtime.logging import get_logger

log = get_logger(__name__)

HEARTBEAT = "rr-heartbeat"
"""Header of a client's liveness record on its own reply topic; readers skip it."""


@dataclass(frozen=True, slots=True)
class ReplyTopicOptions:
    """How reply topics are created. On Kubernetes, set to the cluster's defaults
    (`KAFKA_REPLY_TOPIC_REPLICATION_FACTOR`, `KAFKA_REPLY_TOPIC_MIN_INSYNC_REPLICAS`), so a
    reply topic survives the loss of a broker like every other topic."""

    replication_factor: int = 1
    min_insync_replicas: int | None = None
    """None: the broker's default."""
    retention_ms: int = 60 * 60 * 1000
    heartbeat_s: float = 60.0

    def configs(self) -> dict[str, str]:
        """Topic-level configs of a reply topic."""
        configs = {"retention.ms": str(self.retention_ms), "cleanup.policy": "delete"}
        if self.min_insync_replicas is not None:
            configs["min.insync.replicas"] = str(self.min_insync_replicas)
        return configs


def _safe(text: str) -> str:
    # Kafka topic names allow [a-zA-Z0-9._-] and at most 249 characters; the dot is ours.
    return re.sub(r"[^a-zA-Z0-9_-]", "-", text)[:80]


def principal_prefix(principal: str) -> str:
    """`replies.<principal>.`: the topics one principal may create, read and delete."""
    return f"{REPLY_TOPIC_PREFIX}{_safe(principal)}."


def reply_topic_name(principal: str, instance_id: str | None = None) -> str:
    """`replies.<principal>.<instance id>`; the instance id defaults to host + random."""
    instance = instance_id or f"{socket.gethostname()}-{uuid.uuid4().hex[:8]}"
    return f"{principal_prefix(principal)}{_safe(instance)}"


async def create_reply_topic(kit: KafkaKit, name: str, options: ReplyTopicOptions) -> None:
    """Create a one-partition reply topic; an existing one (same instance id) is reused."""
    async with kit.admin_session("rr-admin") as admin:
        new = NewTopic(name, 1, options.replication_factor, topic_configs=options.configs())
        try:
            response = await admin.create_topics([new])
        except TopicAlreadyExistsError:
            return
        for topic, code, *_ in response.topic_errors:
            if code not in (0, TopicAlreadyExistsError.errno):
                raise RuntimeError(f"creating reply topic {topic} failed: Kafka error {code}")


async def delete_reply_topic(kit: KafkaKit, name: str) -> None:
    """Delete a reply topic; failure is logged, not raised (the pruner catches it later)."""
    try:
        async with kit.admin_session("rr-admin") as admin:
            await admin.delete_topics([name])
    except KafkaError as exc:
        log.warning("could not delete reply topic", topic=name, error=type(exc).__name__)


async def idle_reply_topics(kit: KafkaKit, idle_s: float) -> list[str]:
    """Reply topics with no record (reply or heartbeat) newer than `idle_s` seconds."""
    since_ms = int((time.time() - idle_s) * 1000)
    async with kit.admin_session("rr-pruner") as admin:
        topics = [t for t in await admin.list_topics() if t.startswith(REPLY_TOPIC_PREFIX)]
    if not topics:
        return []
    consumer = kit.consumer("rr-pruner")
    await consumer.start()
    try:
        partitions = [TopicPartition(t, 0) for t in sorted(topics)]
        recent = await consumer.offsets_for_times(dict.fromkeys(partitions, since_ms))
    finally:
        await consumer.stop()
    return [tp.topic for tp in partitions if recent.get(tp) is None]


async def prune(kit: KafkaKit, idle_s: float, *, dry_run: bool = False) -> list[str]:
    """Delete the reply topics whose owner is gone; the names deleted (or, dry, found)."""
    gone = await idle_reply_topics(kit, idle_s)
    if gone and not dry_run:
        async with kit.admin_session("rr-pruner") as admin:
            await admin.delete_topics(gone)
    for topic in gone:
        log.info("reply topic pruned" if not dry_run else "reply topic idle", topic=topic)
    return gone
