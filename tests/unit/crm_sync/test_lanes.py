"""Tenant lanes: a slow tenant holds back only its own chats; commits stop at the oldest
chat not written; a failed batch is tried again; a rebalance finishes what is running."""

from __future__ import annotations

import asyncio
import time
import tracemalloc
from typing import Any

import pytest

from chat_contracts.keys import key_for_conversation
from crm_sync.domain.inbound import InRecord
from crm_sync.domain.offsets import OffsetTracker
from crm_sync.domain.work import ChatWork
from crm_sync.entrypoints import conversations as lanes_module
from crm_sync.entrypoints.conversations import ConversationConsumer
from tests.unit.crm_sync.conftest import conversation


class FakeSync:
    def __init__(self) -> None:
        self.batches: list[tuple[str, list[str]]] = []
        self.gates: dict[str, asyncio.Event] = {}
        self.fail: dict[str, int] = {}
        self.letters: list[Any] = []
        self.ended = asyncio.Event()
        self.limit = 2
        self.linger = 0.0
        self.warmed: list[str] = []

    async def lane(self, tenant_id: str, works: list[ChatWork], letters: Any = ()) -> None:
        if self.fail.get(tenant_id):
            self.fail[tenant_id] -= 1
            raise RuntimeError("Kafka refused the results")
        gate = self.gates.get(tenant_id)
        if gate is not None:
            await gate.wait()
        self.letters += list(letters)
        self.batches.append((tenant_id, [w.conversation.chat_id for w in works]))
        self.ended.set()

    def batch_limit(self, tenant_id: str) -> int:
        return self.limit

    def linger_s(self, tenant_id: str) -> float:
        return self.linger

    def warm(self, tenant_id: str) -> None:
        self.warmed.append(tenant_id)


def consumer(sync: FakeSync) -> ConversationConsumer:
    return ConversationConsumer(
        None,  # type: ignore[arg-type]  # no Kafka: records are dispatched by hand
        "conversations",
        "g",
        sync,  # type: ignore[arg-type]
        poll_max_records=100,
        poll_timeout_ms=10,
        max_in_flight_records=100,
        max_in_flight_bytes=1 << 20,
    )


def records(*tenants: str, partition: int = 0, start: int = 0) -> list[InRecord]:
    out = []
    for n, tenant in enumerate(tenants):
        conv = conversation(tenant)
        out.append(
            InRecord(
                "conversations",
                partition,
                start + n,
                key_for_conversation(conv),
                conv.model_dump_json().encode(),
                (),
                int(time.time() * 1000),
            )
        )
    return out


async def settle(sync: FakeSync, count: int) -> None:
    async with asyncio.timeout(5):
        while len(sync.batches) < count:
            sync.ended.clear()
            await sync.ended.wait()
    await asyncio.sleep(0)  # the lane marks the batch finished after it returns


async def test_a_slow_tenant_holds_back_only_its_own_chats() -> None:
    sync = FakeSync()
    sync.gates["slow"] = asyncio.Event()
    lanes = consumer(sync)
    lanes.dispatch(records("slow", "fast", "fast", "slow", "fast"))
    await settle(sync, 2)  # fast's two batches (two chats each at most), slow still writing
    assert [t for t, _ in sync.batches] == ["fast", "fast"]
    assert lanes.tracker.commit_offsets() == {("conversations", 0): 0}  # slow's first chat
    sync.gates["slow"].set()
    await settle(sync, 3)
    assert sync.batches[2][0] == "slow"
    assert len(sync.batches[2][1]) == 2  # both of slow's chats, in read order
    assert lanes.tracker.commit_offsets() == {("conversations", 0): 5}
    await lanes.stop()


async def test_a_failed_batch_is_tried_again_and_commits_wait_for_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(lanes_module, "RETRY_PAUSE_S", 0.01)
    sync = FakeSync()
    sync.fail["t1"] = 2
    lanes = consumer(sync)
    batch = records("t1", "t1")
    lanes.dispatch(batch)
    await settle(sync, 1)
    assert sync.batches == [("t1", [b for b in _chat_ids(batch)])]
    assert lanes.tracker.commit_offsets() == {("conversations", 0): 2}
    await lanes.stop()


async def test_records_that_are_not_conversations_are_dead_lettered_in_their_own_lane() -> None:
    sync = FakeSync()
    sync.gates["t1"] = asyncio.Event()
    lanes = consumer(sync)
    bad = InRecord("conversations", 0, 1, b"t1|x", b"{not json", (), int(time.time() * 1000))
    lanes.dispatch([*records("t1"), bad])
    await settle(sync, 1)  # the dead letter does not wait for t1's chat
    assert len(sync.letters) == 1
    assert lanes.tracker.commit_offsets() == {("conversations", 0): 0}
    sync.gates["t1"].set()
    await settle(sync, 2)
    assert lanes.tracker.commit_offsets() == {("conversations", 0): 2}
    await lanes.stop()


async def test_a_rebalance_drops_what_is_queued_and_finishes_what_is_running() -> None:
    sync = FakeSync()
    sync.gates["t1"] = asyncio.Event()
    lanes = consumer(sync)
    lanes.dispatch(records("t1", "t1", "t1", partition=3))  # limit 2: one chat stays queued
    await asyncio.sleep(0.05)
    revoke = asyncio.create_task(lanes.revoked({("conversations", 3)}))
    await asyncio.sleep(0.05)
    assert not revoke.done()  # waits for the batch being written
    sync.gates["t1"].set()
    await asyncio.wait_for(revoke, 5)
    await asyncio.sleep(0.05)
    assert [len(ids) for _, ids in sync.batches] == [2]  # the queued one was dropped
    assert lanes.tracker.commit_offsets() == {}
    assert lanes.tracker.in_flight == 0
    await lanes.stop()


async def test_under_a_backlog_a_lane_waits_for_more_of_its_tenants_chats() -> None:
    sync = FakeSync()
    sync.limit = 10
    lanes = consumer(sync)
    lanes.max_records = 100
    lanes.backlog_linger_s = 30.0
    lanes._set_behind(True)
    lanes.dispatch(records("t1"))
    await asyncio.sleep(0.1)
    lanes.dispatch(records("t1", start=1))
    await asyncio.sleep(0.1)
    assert sync.batches == []  # the reader is behind: more of t1 may come
    lanes._set_behind(False)  # caught up: the lane writes what it has
    await settle(sync, 1)
    assert [len(ids) for _, ids in sync.batches] == [2]
    await lanes.stop()


async def test_a_full_reader_never_leaves_lanes_waiting() -> None:
    sync = FakeSync()
    sync.gates["t1"] = asyncio.Event()  # t1's batch stays in flight
    lanes = consumer(sync)
    lanes.max_records = 2
    lanes.backlog_linger_s = 30.0
    lanes.behind = True
    lanes.dispatch(records("t1", "t2"))  # in flight at the cap: reading pauses
    await settle(sync, 1)  # so t2 does not wait for chats the reader cannot read
    assert sync.batches[0][0] == "t2"
    sync.gates["t1"].set()
    await lanes.stop()


async def test_a_lane_lingers_for_its_tenants_window_then_writes_one_batch() -> None:
    sync = FakeSync()
    sync.limit, sync.linger = 10, 0.3
    lanes = consumer(sync)
    lanes.dispatch(records("t1"))
    await asyncio.sleep(0.1)
    lanes.dispatch(records("t1", start=1))
    await asyncio.sleep(0.05)
    assert sync.batches == []  # within the window: more of t1 may come
    assert sync.warmed == ["t1"]  # meanwhile its token is fetched
    await settle(sync, 1)
    assert [len(ids) for _, ids in sync.batches] == [2]
    await lanes.stop()


async def test_a_full_batch_is_written_without_waiting_out_the_window() -> None:
    sync = FakeSync()
    sync.limit, sync.linger = 2, 30.0
    lanes = consumer(sync)
    lanes.dispatch(records("t1", "t1", "t1"))
    await settle(sync, 1)
    assert [len(ids) for _, ids in sync.batches] == [2]
    await lanes.stop()


async def test_a_full_reader_flushes_lingering_lanes_rather_than_stall() -> None:
    sync = FakeSync()
    sync.limit, sync.linger = 10, 30.0
    lanes = consumer(sync)
    lanes.max_records = 3
    lanes.dispatch(records("t1", "t2", "t3"))  # in flight at the cap: reading pauses
    async with asyncio.timeout(2):  # so lanes write rather than wait out 30 s for chats
        await settle(sync, 1)  # that cannot be read, until the reader has room again
    assert not lanes.full
    await lanes.stop()


def test_commits_stop_at_the_oldest_record_not_finished() -> None:
    tracker = OffsetTracker()
    p = ("t", 0)
    for offset in (10, 11, 12):
        tracker.read(p, offset, 100)
    tracker.finished(p, 11)
    assert tracker.commit_offsets() == {p: 10}
    tracker.finished(p, 10)
    assert tracker.commit_offsets() == {p: 12}
    tracker.finished(p, 12)
    assert tracker.commit_offsets() == {p: 13}
    assert (tracker.in_flight, tracker.in_flight_bytes) == (0, 0)
    tracker.finished(p, 12)  # twice: no effect
    assert tracker.in_flight == 0


def _chat_ids(batch: list[InRecord]) -> list[str]:
    from chat_contracts.chat import Conversation

    return [Conversation.model_validate_json(r.value or b"").chat_id for r in batch]


async def test_a_lingering_chat_is_held_as_the_record_it_was_read_as() -> None:
    # At full speed a lane holds its tenant's chats for the latency target: thousands
    # in flight. Decoded (a Conversation and its messages) a chat takes several times its
    # record's bytes; held as read, it is decoded when its batch is taken.
    sync = FakeSync()
    sync.limit, sync.linger = 5000, 30.0
    lanes = consumer(sync)
    lanes.max_records = 10_000
    batch = records(*(f"t{n % 50}" for n in range(2000)))
    read_bytes = sum(len(r.value or b"") + len(r.key or b"") for r in batch)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        lanes.dispatch(batch)
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert held < 1.5 * read_bytes, f"{held / len(batch):.0f} bytes a chat held"
    await lanes.stop()


async def test_a_record_of_a_tenant_that_is_not_a_conversation_is_dead_lettered_by_its_lane() -> (
    None
):
    sync = FakeSync()
    lanes = consumer(sync)
    [good] = records("t1")
    bad = InRecord(
        "conversations",
        0,
        1,
        b"t1|x",
        b'{"tenant_id": "t1", "kind": "chat", "chat_id": 7}',
        (),
        int(time.time() * 1000),
    )
    lanes.dispatch([good, bad])
    async with asyncio.timeout(5):
        while not sync.letters or not any(ids for _, ids in sync.batches):
            sync.ended.clear()
            await sync.ended.wait()
    await asyncio.sleep(0)
    assert [b for b in sync.batches if b[1]] == [("t1", _chat_ids([good]))]
    assert [letter.reason for letter in sync.letters] == ["schema_validation"]
    assert lanes.tracker.commit_offsets() == {("conversations", 0): 2}
    await lanes.stop()
