"""The producer's partitioner: the same partition for a key as aiokafka's default."""

from __future__ import annotations

import random

from aiokafka.partitioner import DefaultPartitioner
from aiokafka.partitioner import murmur2 as aiokafka_murmur2

from ingest_service.adapters.kafka import murmur2, partition_for


def test_murmur2_is_kafkas() -> None:
    rnd = random.Random(3)
    keys = [rnd.randbytes(rnd.randint(0, 70)) for _ in range(20_000)]
    keys += [b"10000|email:jo@example.com", b"10000|phone:+14155550132", b""]
    for key in keys:
        assert murmur2(key) == aiokafka_murmur2(key), key


def test_keys_land_on_the_default_partitioners_partition() -> None:
    default = DefaultPartitioner()
    rnd = random.Random(4)
    for count in (1, 6, 7, 12):
        partitions = list(range(count))
        for _ in range(500):
            key = rnd.randbytes(rnd.randint(1, 60))
            assert partition_for(key, partitions, partitions) == default(
                key, partitions, partitions
            )
    assert partition_for(None, [0, 1, 2], [1]) == 1  # no key: any available partition
