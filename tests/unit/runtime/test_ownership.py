"""Key ownership: the partition a key is written to, and the hand-over of revoked ones."""

from __future__ import annotations

import asyncio

from aiokafka import TopicPartition
from aiokafka.partitioner import DefaultPartitioner

from chat_runtime.request_reply.ownership import KeyOwnership, partition_of


def test_a_key_is_owned_where_the_producer_writes_it() -> None:
    for n in (1, 3, 6, 12):
        for i in range(200):
            key = f"t-{i}".encode()
            assert partition_of(key, n) == DefaultPartitioner()(key, list(range(n)), [])


async def test_revoked_partitions_stop_being_owned_before_their_work_is_finished() -> None:
    ownership = KeyOwnership("requests")
    ownership.assigned({TopicPartition("requests", p) for p in range(3)}, 3)
    key = b"t-1"
    assert ownership.owns(key)
    seen: list[bool] = []

    async def finish() -> None:
        seen.append(ownership.owns(key))
        await asyncio.sleep(0)

    ownership.on_release(finish)
    await ownership.revoked({TopicPartition("requests", partition_of(key, 3))})
    assert seen == [False]
    assert not ownership.owns(key)
    assert len(ownership.owned) == 2


async def test_a_hand_over_is_bounded() -> None:
    ownership = KeyOwnership("requests", release_timeout_s=0.05)
    ownership.assigned({TopicPartition("requests", 0)}, 1)
    ownership.on_release(lambda: asyncio.sleep(10))
    await ownership.revoked()
    assert not ownership.owned
