"""The producer both halves of ingest write through: acks=all, idempotent, batched.

One aiokafka producer per process. Concurrent webhook requests and a normaliser batch
share its accumulator, so records travel in few produce requests while each caller still
waits for its own records' confirmation.
"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Awaitable, Sequence
from typing import Any, Final

from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner

from chat_contracts.topics import LARGE_MESSAGE_BYTES
from chat_runtime import tracing
from chat_runtime.kafka import KafkaKit, ManagedProducer
from ingest_service.adapters.ports import OutRecord, PublishError

# The chat topics' `max.message.bytes`: a 1 MiB webhook body, its conversation and its
# dead letter (base64, a third larger) all fit.
MAX_REQUEST_BYTES: Final = LARGE_MESSAGE_BYTES
# Large batches: a normaliser batch is hundreds of 2-3 KiB records per partition.
MAX_BATCH_BYTES: Final = 512 * 1024
_WORD: Final = struct.Struct("<I")
_M: Final = 0x5BD1E995
_DEFAULT_PARTITIONER: Final = DefaultPartitioner()


def murmur2(data: bytes) -> int:
    """Kafka's murmur2 of a key, as aiokafka's (and the Java client's) `murmur2`, a word
    at a time rather than a byte at a time: about half its cost."""
    length = len(data)
    h = 0x9747B28C ^ length
    end = length & ~3
    for (k,) in _WORD.iter_unpack(data[:end]):
        k = (k * _M) & 0xFFFFFFFF
        k = ((k ^ (k >> 24)) * _M) & 0xFFFFFFFF
        h = ((h * _M) & 0xFFFFFFFF) ^ k
    extra = length & 3
    if extra:
        if extra >= 3:
            h ^= data[end + 2] << 16
        if extra >= 2:
            h ^= data[end + 1] << 8
        h = ((h ^ data[end]) * _M) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * _M) & 0xFFFFFFFF
    return h ^ (h >> 15)


def partition_for(key: bytes | None, all_partitions: list[int], available: list[int]) -> int:
    """aiokafka's default partitioner (the Java client's for keyed records) with the
    faster `murmur2`: a key lands on the same partition as with any Kafka client."""
    if key is None:
        partition: int = _DEFAULT_PARTITIONER(key, all_partitions, available)
        return partition
    return all_partitions[(murmur2(key) & 0x7FFFFFFF) % len(all_partitions)]


class KafkaPublisher(ManagedProducer):
    """`Publisher` over one producer (the runtime's kit builds it); `start()` may be
    called again after `stop()`."""

    def __init__(self, kit: KafkaKit, *, linger_ms: int) -> None:
        super().__init__(
            kit,
            "producer",
            linger_ms=linger_ms,
            max_batch_size=MAX_BATCH_BYTES,
            max_request_size=MAX_REQUEST_BYTES,
            partitioner=partition_for,
        )

    def _running(self) -> AIOKafkaProducer:
        if not self.started:
            raise PublishError("the producer is not connected")
        return self.producer

    async def publish(self, record: OutRecord, timeout_s: float) -> None:
        """Wait for Kafka to store `record`, at most `timeout_s`; PublishError otherwise.

        After a timeout the record may still be stored later; the caller reports failure
        anyway and the sender's retry is deduplicated downstream (at-least-once).
        """
        producer = self._running()
        try:
            async with asyncio.timeout(timeout_s):
                with tracing.producer_span(record.topic, key=record.key):
                    headers = tracing.with_context(record.headers)
                    delivery = await producer.send(
                        record.topic, record.value, key=record.key, headers=list(headers)
                    )
                    # Shielded: a timeout must not cancel aiokafka's own future.
                    await asyncio.shield(delivery)
        except TimeoutError:
            raise PublishError(f"Kafka did not confirm within {timeout_s:g}s") from None
        except Exception as exc:  # whatever the client raised, nothing was stored
            raise PublishError(f"Kafka refused the record: {type(exc).__name__}") from exc

    async def enqueue(self, records: Sequence[OutRecord]) -> Awaitable[None]:
        """See `Publisher.enqueue`: queued in order now, confirmed by awaiting the result.

        Records go into one batch per partition through aiokafka's batch API (the
        partition chosen as `send` would): no future, metadata look-up or accumulator
        round per record, a third of the producer's CPU per record. Each batch is closed
        and queued at once, so it does not linger.
        """
        producer = self._running()
        try:
            deliveries = await _send_in_batches(producer, records)
        except Exception as exc:  # see publish()
            raise PublishError(f"Kafka refused a record: {type(exc).__name__}") from exc
        return asyncio.ensure_future(_confirmed(deliveries))

    async def publish_many(self, records: Sequence[OutRecord]) -> None:
        """Return once Kafka stored every record; PublishError if any was not."""
        await (await self.enqueue(records))


async def _send_in_batches(
    producer: AIOKafkaProducer, records: Sequence[OutRecord]
) -> list[asyncio.Future[Any]]:
    """Queue `records`, in order per partition; the futures of their deliveries."""
    deliveries: list[asyncio.Future[Any]] = []
    partitions: dict[str, list[int]] = {}
    batches: dict[tuple[str, int], Any] = {}
    for record in records:
        headers = list(record.headers)
        all_partitions = partitions.get(record.topic)
        if all_partitions is None:
            all_partitions = sorted(await producer.partitions_for(record.topic))
            partitions[record.topic] = all_partitions
        tp = (record.topic, partition_for(record.key, all_partitions, all_partitions))
        batch = batches.get(tp)
        if batch is None:
            batch = batches[tp] = producer.create_batch()
        if batch.append(key=record.key, value=record.value, timestamp=None, headers=headers):
            continue  # appended (its metadata); None: the batch is full
        deliveries.append(await _queue(producer, tp, batches.pop(tp)))  # full
        batch = batches[tp] = producer.create_batch()
        if not batch.append(key=record.key, value=record.value, timestamp=None, headers=headers):
            # Larger than a batch may be: `send` refuses it with the right error.
            del batches[tp]
            deliveries.append(
                await producer.send(
                    record.topic, record.value, key=record.key, partition=tp[1], headers=headers
                )
            )
    for tp, batch in batches.items():
        deliveries.append(await _queue(producer, tp, batch))
    return deliveries


async def _queue(producer: AIOKafkaProducer, tp: tuple[str, int], batch: Any) -> Any:
    batch.close()  # complete: sent at once rather than after the linger
    return await producer.send_batch(batch, tp[0], partition=tp[1])


async def _confirmed(deliveries: list[asyncio.Future[Any]]) -> None:
    try:
        await asyncio.gather(*deliveries)
    except Exception as exc:
        raise PublishError(f"Kafka refused a record: {type(exc).__name__}") from exc
