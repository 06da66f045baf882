"""Reply topics of request/reply clients: naming, creation, deletion."""

from __future__ import annotations

import logging
import re
import socket
import uuid
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from chat_contracts.topics import REPLY_TOPIC_PREFIX

log = logging.getLogger(__name__)


def _safe(text: str) -> str:
    # Kafka topic names allow [a-zA-Z0-9._-] and at most 249 characters; the dot is ours.
    return re.sub(r"[^a-zA-Z0-9_-]", "-", text)[:80]


def reply_topic_name(client_name: str, instance_id: str | None = None) -> str:
    """`replies.<client name>.<instance id>`; the instance id defaults to host + random."""
    instance = instance_id or f"{socket.gethostname()}-{uuid.uuid4().hex[:8]}"
    return f"{REPLY_TOPIC_PREFIX}{_safe(client_name)}.{_safe(instance)}"


async def create_reply_topic(
    bootstrap_servers: str, name: str, retention_ms: int, **kafka_options: Any
) -> None:
    """Create a one-partition reply topic; an existing one (same instance id) is reused."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, **kafka_options)
    await admin.start()
    try:
        configs = {"retention.ms": str(retention_ms), "cleanup.policy": "delete"}
        response = await admin.create_topics([NewTopic(name, 1, 1, topic_configs=configs)])
        for topic, code, *_ in response.topic_errors:
            if code not in (0, TopicAlreadyExistsError.errno):
                raise RuntimeError(f"creating reply topic {topic} failed: Kafka error {code}")
    except TopicAlreadyExistsError:
        pass
    finally:
        await admin.close()


async def delete_reply_topic(bootstrap_servers: str, name: str, **kafka_options: Any) -> None:
    """Delete a reply topic; failure is logged, not raised (retention keeps it empty)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, **kafka_options)
    try:
        await admin.start()
        await admin.delete_topics([name])
    except KafkaError:
        log.warning("could not delete reply topic %s", name)
    finally:
        await admin.close()
