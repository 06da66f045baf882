"""`chat-topics` on the real broker: topics made and aligned from the registry, without
moving the keys of state topics or dropping configs an operator set."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from chat_contracts.topics import TopicSpec
from chat_runtime.provision import provision_topics

OPERATOR_CONFIG = {"segment.ms": "3600000"}  # set by hand on the cluster, not in the registry


@pytest.fixture
async def admin(kafka_bootstrap: str) -> AsyncIterator[AIOKafkaAdminClient]:
    client = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await client.start()
    names: list[str] = []
    client.made = names
    try:
        yield client
    finally:
        await client.delete_topics(names)
        await client.close()


async def existing(admin: AIOKafkaAdminClient, spec: TopicSpec, partitions: int) -> None:
    """The topic as a cluster might hold it: fewer partitions, an operator's config."""
    configs = {**spec.configs(), "retention.ms": "1000", **OPERATOR_CONFIG}
    await admin.create_topics([NewTopic(spec.name, partitions, 1, topic_configs=configs)])
    admin.made.append(spec.name)


async def state(admin: AIOKafkaAdminClient, name: str) -> tuple[int, dict[str, str]]:
    (described,) = await admin.describe_topics([name])
    (response,) = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, name)])
    dynamic = {e[0]: e[1] for e in response.resources[0][4] if e[3] == 1}  # DYNAMIC_TOPIC_CONFIG
    return len(described["partitions"]), dynamic


def spec(compacted: bool) -> TopicSpec:
    return TopicSpec(
        name=f"test.provision.{uuid.uuid4().hex[:8]}",
        partitions=3,
        description="a test topic",
        key="tenant_id",
        compacted=compacted,
        retention_ms=None if compacted else 7_200_000,
    )


async def test_a_keyed_state_topic_keeps_its_partitions_and_says_so(
    kafka_bootstrap: str, admin: AIOKafkaAdminClient
) -> None:
    compacted = spec(compacted=True)
    await existing(admin, compacted, partitions=1)
    report = await provision_topics(kafka_bootstrap, [compacted])
    # Growing it would move keys: an older value left in its old partition could win over
    # the newer one at the next full read. An operator must migrate it instead.
    assert report.partitions_refused == [compacted.name]
    assert report.partitions_added == []
    partitions, configs = await state(admin, compacted.name)
    assert partitions == 1
    assert configs["cleanup.policy"] == "compact"


async def test_drifted_configs_are_reapplied_and_the_operators_kept(
    kafka_bootstrap: str, admin: AIOKafkaAdminClient
) -> None:
    plain = spec(compacted=False)
    await existing(admin, plain, partitions=1)
    report = await provision_topics(kafka_bootstrap, [plain])
    assert report.partitions_added == [plain.name]
    assert report.configs_altered == [plain.name]
    partitions, configs = await state(admin, plain.name)
    assert partitions == 3
    assert configs["retention.ms"] == "7200000"  # the registry's
    assert configs["segment.ms"] == OPERATOR_CONFIG["segment.ms"]  # the operator's, kept
    again = await provision_topics(kafka_bootstrap, [plain])
    assert not again.changed
