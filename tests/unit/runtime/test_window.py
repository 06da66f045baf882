"""The responder's in-flight window: concurrency, back-pressure, commits below unfinished
records."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from aiokafka import TopicPartition

from chat_runtime.request_reply.window import InFlightWindow, PartitionLog

TP = TopicPartition("bot", 0)


def test_partition_log_commits_only_the_finished_prefix() -> None:
    log = PartitionLog()
    entries = [log.add(offset) for offset in (10, 11, 13)]  # 12: a compacted gap
    log.finish(entries[1])
    assert log.committable() is None
    log.finish(entries[0])
    assert log.committable() == 12
    assert log.committable() is None
    log.finish(entries[2])
    assert log.committable() == 14
    assert len(log) == 0


@dataclass
class Record:
    offset: int
    topic: str = "bot"
    partition: int = 0


class Consumer:
    def __init__(self) -> None:
        self.commits: list[dict[TopicPartition, int]] = []

    def assignment(self) -> set[TopicPartition]:
        return {TP}

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        self.commits.append(dict(offsets))


async def test_requests_run_concurrently_and_commit_in_order() -> None:
    window = InFlightWindow(10, commit_interval_s=60)
    consumer = Consumer()
    gates = [asyncio.Event() for _ in range(3)]
    running: list[int] = []

    def work(i: int) -> Any:
        async def run() -> None:
            running.append(i)
            await gates[i].wait()

        return run

    for i in range(3):
        assert await window.submit(Record(i), consumer, work(i))
    await asyncio.sleep(0.01)
    assert running == [0, 1, 2]
    assert window.in_flight == 3
    gates[2].set()
    await asyncio.sleep(0.01)
    await window.commit()
    assert consumer.commits == []  # 0 and 1 still running
    gates[0].set()
    await asyncio.sleep(0.01)
    await window.commit()
    assert consumer.commits == [{TP: 1}]
    gates[1].set()
    await window.close(timeout=1)
    assert consumer.commits[-1] == {TP: 3}
    assert not await window.submit(Record(3), consumer, work(0))


async def test_a_full_window_pauses_reading_and_a_failing_request_still_finishes() -> None:
    window = InFlightWindow(1, commit_interval_s=60)
    consumer = Consumer()
    gate = asyncio.Event()

    async def slow() -> None:
        await gate.wait()

    async def broken() -> None:
        raise RuntimeError("bug")

    await window.submit(Record(0), consumer, slow)
    second = asyncio.create_task(window.submit(Record(1), consumer, broken))
    await asyncio.sleep(0.02)
    assert not second.done()
    gate.set()
    assert await second
    await window.close(timeout=1)
    assert consumer.commits[-1] == {TP: 2}


async def test_the_request_reader_survives_a_failed_read() -> None:
    from chat_runtime.kafka import KafkaKit
    from chat_runtime.request_reply import ResponderMetrics
    from chat_runtime.request_reply.consumer import RequestConsumer
    from chat_runtime.request_reply.responder import ResponderOptions

    @dataclass
    class Request(Record):
        key: bytes = b"10000"
        value: bytes = b"{}"
        headers: tuple[tuple[str, bytes], ...] = (("correlation_id", b"\xff-binary"),)

    class FlakyConsumer(Consumer):
        def __init__(self) -> None:
            super().__init__()
            self.reads = 0

        async def getmany(self, timeout_ms: int) -> dict[TopicPartition, list[Request]]:
            self.reads += 1
            if self.reads == 1:
                raise RuntimeError("anything a read may raise")
            if self.reads == 2:
                return {TP: [Request(0)]}
            await asyncio.sleep(3600)
            return {}

    answered: list[tuple[dict[str, str], bytes | None]] = []
    first = asyncio.Event()

    class Responder:
        async def respond(self, headers: dict[str, str], key: bytes | None, body: bytes) -> None:
            answered.append((headers, key))
            first.set()

        def skip(self, reason: str) -> None:
            raise AssertionError(reason)

    options = ResponderOptions(topic="bot", group_id="g", commit_interval_s=60)

    async def unused(request: Any) -> Any:
        raise AssertionError(request)

    reader = RequestConsumer(KafkaKit("127.0.0.1:9"), options, dict, unused, ResponderMetrics())
    reader.responder = Responder()  # type: ignore[assignment]
    window = reader.window
    task = asyncio.create_task(reader._read(FlakyConsumer()))
    try:
        async with asyncio.timeout(5):
            await first.wait()
    finally:
        task.cancel()
    assert answered == [({"correlation_id": "\ufffd-binary"}, b"10000")]
    await window.close(timeout=1)
