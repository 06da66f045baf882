"""At-least-once delivery of the app factory's subscribers, against the real broker."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from faststream.kafka import KafkaBroker

from chat_runtime.app import make_broker, subscriber
from chat_runtime.metrics import new_registry
from chat_runtime.settings import ServiceSettings
from tests.kafka_helpers import temp_topic

WAIT_S = 10.0


@pytest.fixture
async def topic(kafka_bootstrap: str) -> AsyncIterator[str]:
    async with temp_topic(kafka_bootstrap, "rt-delivery") as name:
        yield name


@pytest.fixture
def settings(kafka_bootstrap: str) -> ServiceSettings:
    return ServiceSettings(
        service_name="delivery-test",
        kafka_bootstrap_servers=kafka_bootstrap,
        group_id=f"delivery-{uuid.uuid4().hex[:8]}",
        shutdown_timeout_s=2.0,
    )


async def _committed(bootstrap: str, group_id: str, topic: str) -> int | None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group_id)
    finally:
        await admin.close()
    meta = offsets.get(TopicPartition(topic, 0))
    return None if meta is None or meta.offset < 0 else int(meta.offset)


async def _wait_committed(bootstrap: str, group_id: str, topic: str, offset: int) -> None:
    # Commits are the broker's state, not an event here: poll them.
    for _ in range(int(WAIT_S / 0.05)):
        if await _committed(bootstrap, group_id, topic) == offset:
            return
        await asyncio.sleep(0.05)
    pytest.fail(f"offset {offset} never committed")


async def test_a_failed_delivery_comes_back_and_handled_ones_stay_committed(
    settings: ServiceSettings, topic: str, kafka_bootstrap: str
) -> None:
    seen: list[str] = []
    failed_once: set[str] = set()
    arrived: dict[str, asyncio.Event] = {k: asyncio.Event() for k in "abc"}

    def build() -> KafkaBroker:
        broker = make_broker(settings, registry=new_registry())

        @subscriber(broker, topic, group_id=settings.group_id)
        async def handle(body: dict[str, str]) -> None:
            seen.append(body["id"])
            arrived[body["id"]].set()
            if body["id"] == "a" and "a" not in failed_once:
                failed_once.add("a")
                raise RuntimeError("transient failure on the first delivery")

        return broker

    async with build() as first:
        await first.start()
        await first.publish({"id": "a"}, topic)
        await first.publish({"id": "b"}, topic)
        await asyncio.wait_for(arrived["b"].wait(), WAIT_S)

    # "a" failed once and was delivered again, before "b": the partition's order holds.
    assert seen == ["a", "a", "b"]
    assert await _committed(kafka_bootstrap, settings.group_id, topic) == 2

    # A restarted member of the same group resumes after the committed records.
    seen.clear()
    async with build() as second:
        await second.start()
        await second.publish({"id": "c"}, topic)
        await asyncio.wait_for(arrived["c"].wait(), WAIT_S)
    assert seen == ["c"]


async def test_the_offset_is_committed_only_after_the_handler_returns(
    settings: ServiceSettings, topic: str, kafka_bootstrap: str
) -> None:
    entered, release = asyncio.Event(), asyncio.Event()
    broker = make_broker(settings, registry=new_registry())

    @subscriber(broker, topic, group_id=settings.group_id)
    async def handle(body: dict[str, str]) -> None:
        entered.set()
        await release.wait()

    async with broker:
        await broker.start()
        await broker.publish({"id": "slow"}, topic)
        await asyncio.wait_for(entered.wait(), WAIT_S)
        # Mid-handling: a crash now must redeliver, so nothing may be committed yet.
        assert await _committed(kafka_bootstrap, settings.group_id, topic) is None
        release.set()
        await _wait_committed(kafka_bootstrap, settings.group_id, topic, 1)


async def test_stop_lets_the_in_flight_message_finish_and_commit(
    settings: ServiceSettings, topic: str, kafka_bootstrap: str
) -> None:
    entered, release = asyncio.Event(), asyncio.Event()
    finished: list[str] = []
    broker = make_broker(settings, registry=new_registry())

    @subscriber(broker, topic, group_id=settings.group_id)
    async def handle(body: dict[str, str]) -> None:
        entered.set()
        await release.wait()
        finished.append(body["id"])

    await broker.start()
    await broker.publish({"id": "in-flight"}, topic)
    await asyncio.wait_for(entered.wait(), WAIT_S)
    stopping = asyncio.create_task(broker.stop())  # e.g. SIGTERM during a rolling update
    await asyncio.sleep(0.2)
    assert not stopping.done(), "stop must wait for the handler (graceful_timeout)"
    release.set()
    await asyncio.wait_for(stopping, WAIT_S)

    assert finished == ["in-flight"]
    assert await _committed(kafka_bootstrap, settings.group_id, topic) == 1
