"""The history database on both engines: migrations, idempotent writes, the queries."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from console_service.adapters import schema
from console_service.adapters.store import Batch, ChatQuery, Store, make_engine
from console_service.domain.history import Position, attempt_row, chat_row, letter_row

from chat_contracts.dlq import DeadLetter, DeadLetterReason
from chat_contracts.sync import SyncResult
from tests.integration.console import support

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'console.sqlite'}"
    else:
        url = request.getfixturevalue("fresh_postgres_database")
    engine = make_engine(url)
    assert schema.migrate(engine) == [m.version for m in schema.MIGRATIONS]
    try:
        yield Store(engine)
    finally:
        engine.dispose()


def result(chat: str, status: str = "ok", **extra: Any) -> SyncResult:
    """Tenant t1's result (another tenant's with `tenant_id=`)."""
    return support.result(extra.pop("tenant_id", "t1"), chat, status, **extra)


def batch_of(*items: tuple[SyncResult, int]) -> Batch:
    batch = Batch()
    for res, offset in items:
        at = Position("crm.sync.results.v1", 0, offset, int(T0.timestamp() * 1000) + offset)
        batch.seen(res.tenant_id, at.at)
        batch.attempts.append(attempt_row(res, at))
        batch.chat(chat_row(res, at))
        batch.offsets[("crm.sync.results.v1", 0)] = offset + 1
    return batch


def test_migrations_are_versioned_and_run_once(store: Store) -> None:
    assert schema.current_version(store.engine) == len(schema.MIGRATIONS)
    assert schema.migrate(store.engine) == []
    with store.engine.connect() as conn:
        assert conn.execute(
            sa.select(sa.func.count()).select_from(schema.schema_version)
        ).scalar() == len(schema.MIGRATIONS)


def test_the_newest_result_wins_and_a_replayed_one_changes_nothing(store: Store) -> None:
    store.save(batch_of((result("c1", "failed"), 3)))
    store.save(batch_of((result("c1"), 5)))
    # Rebuilding from the topics: both records again, in order, then the failure alone.
    store.save(batch_of((result("c1", "failed"), 3), (result("c1"), 5)))
    store.save(batch_of((result("c1", "failed"), 3)))
    (chat,) = store.chats(ChatQuery("t1"))
    assert chat["status"] == "ok"
    assert chat["activity_id"] == support.TASK
    assert chat["source_offset"] == 3
    assert [a["status"] for a in store.attempts("t1", "c1")] == ["ok", "failed"]
    assert store.offsets(["crm.sync.results.v1"]) == {("crm.sync.results.v1", 0): 6}


def test_history_search_is_per_tenant_by_status_email_and_chat_id(store: Store) -> None:
    other = result("c9", tenant_id="t2")
    store.save(batch_of((result("c1"), 1), (result("c2", "failed"), 2), (other, 3)))
    assert {c["chat_id"] for c in store.chats(ChatQuery("t1"))} == {"c1", "c2"}
    assert [c["chat_id"] for c in store.chats(ChatQuery("t1", status="failed"))] == ["c2"]
    assert [c["chat_id"] for c in store.chats(ChatQuery("t1", email="C1@example.com"))] == ["c1"]
    assert store.chats(ChatQuery("t1", chat_id="c9")) == []
    assert store.tenant_exists("t2")
    assert not store.tenant_exists("t3")
    failed = store.chats(ChatQuery("t1", status="failed"))[0]
    assert failed["salesforce_error_code"] == "REQUIRED_FIELD_MISSING"
    assert "Reason__c" in failed["error_message"]
    page1 = store.chats(ChatQuery("t1", limit=1))
    page2 = store.chats(
        ChatQuery("t1", limit=1, before=(page1[0]["updated_at"], page1[0]["chat_id"]))
    )
    assert {page1[0]["chat_id"], page2[0]["chat_id"]} == {"c1", "c2"}


def test_dead_letters_are_stored_once_with_the_chat_they_carry(store: Store) -> None:
    conv = (
        b'{"schema_version":1,"tenant_id":"t1","kind":"chat","chat_id":"c5",'
        b'"visitor":{"email":"x@example.com"}}'
    )
    letter = DeadLetter(
        tenant_id="t1",
        reason=DeadLetterReason.REQUIRED_FIELD_MISSING,
        message="Required fields are missing",
        service="crm-sync",
        original_value=conv,
    )
    batch = Batch()
    at = Position("crm.dlq.v1", 0, 4, int(T0.timestamp() * 1000))
    batch.letters.append(letter_row(letter, at))
    store.save(batch)
    store.save(batch)
    (row,) = store.dead_letters("t1")
    assert row["id"] == "crm.dlq.v1:0:4"
    assert row["reason"] == "required_field_missing"
    assert store.dead_letters("t2") == []
    assert store.letter_reasons("t1") == {"required_field_missing": 1}


def test_counts_series_and_purge(store: Store) -> None:
    store.save(batch_of((result("c1"), 1), (result("c2", "failed"), 2)))
    since = (T0 - timedelta(days=1)).replace(tzinfo=None)
    assert store.counts("t1", since) == {"ok": 1, "deduped": 0, "parked": 0, "failed": 1}
    (slot,) = store.series("t1", since, "day").values()
    assert slot["ok"] == 1
    assert slot["failed"] == 1
    assert slot["api_calls"] == 1.0
    assert store.api_calls("t1", since) == 1.0
    deleted = store.purge((T0 + timedelta(days=1)).replace(tzinfo=None))
    assert deleted["chats"] == 2
    assert deleted["attempts"] == 2
    assert store.chats(ChatQuery("t1")) == []


def test_commands_left_waiting_by_a_stopped_console_are_marked_unknown(store: Store) -> None:
    row = {
        "tenant_id": "t1",
        "kind": "backfill",
        "requested_by": "admin",
        "summary": "backfill",
        "sent_at": T0.replace(tzinfo=None),
        "status": "sent",
    }
    store.add_command({**row, "id": "a"})
    store.add_command({**row, "id": "b", "status": "accepted"})
    assert store.abandon_sent(T0.replace(tzinfo=None)) == 1
    assert {c["id"]: c["status"] for c in store.commands("t1")} == {"a": "unknown", "b": "accepted"}
