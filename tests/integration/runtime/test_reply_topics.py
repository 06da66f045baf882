"""Reply topics on the real broker: per-principal names, configs from settings, heartbeats,
and the pruner that removes the topics of clients that died without cleaning up."""

from __future__ import annotations

import asyncio
import os
import sys
import time
import uuid

from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from chat_runtime.kafka import KafkaKit
from chat_runtime.request_reply import ReplyTopicOptions, RequestReplyClient
from chat_runtime.request_reply.metrics import RequestReplyMetrics
from chat_runtime.request_reply.topics import HEARTBEAT, create_reply_topic, prune
from tests.kafka_helpers import topic_exists


async def topic_configs(bootstrap: str, topic: str) -> dict[str, str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        (response,) = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, topic)]
        )
        (_, _, _, _, entries) = response.resources[0][:5]
        return {entry[0]: entry[1] for entry in entries}
    finally:
        await admin.close()


async def test_a_client_names_its_topic_after_its_principal_with_configs_from_settings(
    kafka_bootstrap: str,
) -> None:
    options = ReplyTopicOptions(replication_factor=1, min_insync_replicas=1, retention_ms=600_000)
    metrics = RequestReplyMetrics()
    async with RequestReplyClient(
        kafka_bootstrap, name="bot-runtime", topic_options=options, metrics=metrics
    ) as client:
        assert client.reply_topic.startswith("replies.bot-runtime.")
        configs = await topic_configs(kafka_bootstrap, client.reply_topic)
        assert configs["min.insync.replicas"] == "1"
        assert configs["retention.ms"] == "600000"
        consumer = KafkaKit(kafka_bootstrap).consumer("test")
        await consumer.start()
        try:
            tp = TopicPartition(client.reply_topic, 0)
            ends = await consumer.end_offsets([tp])
        finally:
            await consumer.stop()
        assert ends[tp] >= 1  # the heartbeat written at start
    assert metrics.unknown_replies._value.get() == 0  # heartbeats are not replies


async def test_the_pruner_deletes_only_the_topics_of_clients_that_are_gone(
    kafka_bootstrap: str,
) -> None:
    kit = KafkaKit(kafka_bootstrap, "test")
    run = uuid.uuid4().hex[:8]
    dead, empty = f"replies.test-dead.{run}", f"replies.test-empty.{run}"
    for name in (dead, empty):
        await create_reply_topic(kit, name, ReplyTopicOptions())
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    try:  # its owner's last heartbeat, an hour ago
        hour_ago_ms = int((time.time() - 3600) * 1000)
        await producer.send_and_wait(
            dead, b"", timestamp_ms=hour_ago_ms, headers=[(HEARTBEAT, b"1")]
        )
    finally:
        await producer.stop()
    async with RequestReplyClient(kafka_bootstrap, name="test-alive") as alive:
        found = await prune(kit, idle_s=900, dry_run=True)
        assert {dead, empty} <= set(found)
        assert alive.reply_topic not in found
        assert await topic_exists(kafka_bootstrap, dead)  # a dry run deletes nothing
        env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap, "LOG_JSON": "false"}
        command = [sys.executable, "-m", "chat_runtime.request_reply.cli", "prune"]
        process = await asyncio.create_subprocess_exec(
            *command, "--idle-minutes", "15", env=env, stdout=asyncio.subprocess.PIPE
        )
        out, _ = await process.communicate()
        assert process.returncode == 0
        assert f"deleted {dead}" in out.decode()
        assert not await topic_exists(kafka_bootstrap, dead)
        assert not await topic_exists(kafka_bootstrap, empty)
        assert await topic_exists(kafka_bootstrap, alive.reply_topic)
