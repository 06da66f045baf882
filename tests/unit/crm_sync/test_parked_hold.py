"""The retry consumer's hold: due order, the byte bound, offsets, rebalances."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chat_contracts.sync import RetryReason, SyncError, SyncRetry
from crm_sync.domain.inbound import InRecord
from crm_sync.domain.parked import Held, ParkedHold
from tests.unit.crm_sync.conftest import conversation

NOW = datetime(2024, 5, 1, 12, tzinfo=UTC)


def held(partition: int, offset: int, in_s: float, size: int = 100) -> Held:
    retry = SyncRetry(
        tenant_id="t1",
        conversation=conversation(),
        attempt=1,
        not_before=NOW + timedelta(seconds=in_s),
        reason=RetryReason.REVOKED,
        last_error=SyncError(code="revoked"),
        first_failed_at=NOW,
    )
    return Held(InRecord("retry", partition, offset, b"k", b"x" * size), retry=retry)


def test_records_come_out_in_due_order_and_commits_wait_for_the_oldest() -> None:
    hold = ParkedHold(max_bytes=10_000, max_wait=timedelta(hours=1))
    for h in (held(0, 0, 30), held(0, 1, 10), held(1, 5, 20)):
        hold.add(h, NOW)
    assert hold.next_due() == NOW + timedelta(seconds=10)
    taken = hold.take_due(NOW + timedelta(seconds=25))
    assert [(h.record.partition, h.record.offset) for h in taken] == [(0, 1), (1, 5)]
    assert hold.commit_offsets() == {("retry", 0): 0, ("retry", 1): 5}  # not yet published
    hold.settle(taken)
    assert hold.commit_offsets() == {("retry", 0): 0, ("retry", 1): 6}


def test_the_hold_is_full_at_its_byte_bound_and_empties_as_chats_fall_due() -> None:
    hold = ParkedHold(max_bytes=250, max_wait=timedelta(hours=1))
    hold.add(held(0, 0, 5), NOW)
    hold.add(held(0, 1, 5), NOW)
    assert hold.bytes < hold.max_bytes
    hold.add(held(0, 2, 50), NOW)
    assert hold.full
    hold.settle(hold.take_due(NOW + timedelta(seconds=5)))
    assert hold.bytes < hold.max_bytes  # no longer full
    assert len(hold) == 1


def test_a_not_before_far_away_counts_as_the_longest_wait() -> None:
    hold = ParkedHold(max_bytes=10_000, max_wait=timedelta(minutes=10))
    hold.add(held(0, 0, 10 * 365 * 86400), NOW)
    assert hold.next_due() == NOW + timedelta(minutes=10)


def test_a_revoked_partition_is_forgotten() -> None:
    hold = ParkedHold(max_bytes=10_000, max_wait=timedelta(hours=1))
    hold.add(held(0, 0, 5), NOW)
    hold.add(held(1, 0, 5), NOW)
    hold.drop({("retry", 0)})
    assert hold.commit_offsets() == {("retry", 1): 0}
    assert len(hold) == 1
    assert hold.bytes == held(1, 0, 5).size
