"""The store's materialisation rules, fed records as the topic would deliver them."""

from __future__ import annotations

from datetime import UTC, datetime

from aiokafka import ConsumerRecord

from auth_service.adapters.token_store import KafkaTokenStore
from chat_contracts.auth import RefreshTokenRecord


def record(tenant: str = "t1", username: str = "a@x.test") -> RefreshTokenRecord:
    return RefreshTokenRecord(
        tenant_id=tenant,
        key_id="k1",
        nonce=b"\x01" * 12,
        ciphertext=b"\x02" * 40,
        org_id="00D5g000004XyZaEAK",
        instance_url="https://acme.my.salesforce.com",
        sandbox=False,
        user_id="0055g00000AbCdEAAV",
        username=username,
        connected_at=datetime(2026, 1, 1, tzinfo=UTC),
    )


def message(
    key: str, value: bytes | None, offset: int, partition: int = 0
) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord(
        topic="t",
        partition=partition,
        offset=offset,
        timestamp=0,
        timestamp_type=0,
        key=key.encode(),
        value=value,
        checksum=None,
        serialized_key_size=0,
        serialized_value_size=0,
        headers=(),
    )


def store() -> tuple[KafkaTokenStore, list[tuple[str, RefreshTokenRecord | None]]]:
    s = KafkaTokenStore("unused:9092", "t", writer=None)  # type: ignore[arg-type]
    changes: list[tuple[str, RefreshTokenRecord | None]] = []
    s.listen(lambda tenant, rec: changes.append((tenant, rec)))
    return s, changes


def test_latest_value_wins_and_tombstones_delete() -> None:
    s, changes = store()
    s._consume(message("t1", record().model_dump_json().encode(), 0))
    s._consume(message("t1", record(username="b@x.test").model_dump_json().encode(), 1))
    current = s.get("t1")
    assert current is not None
    assert current.username == "b@x.test"
    s._consume(message("t1", None, 2))
    assert s.get("t1") is None
    assert [c[1] is None for c in changes] == [False, False, True]


def test_an_older_offset_never_overwrites_a_newer_local_write() -> None:
    s, _ = store()
    s._apply("t1", record(username="new@x.test"), partition=0, offset=5)
    s._consume(message("t1", record(username="old@x.test").model_dump_json().encode(), 4))
    s._consume(message("t1", record(username="new@x.test").model_dump_json().encode(), 5))
    current = s.get("t1")
    assert current is not None
    assert current.username == "new@x.test"


def test_garbage_and_mismatched_keys_are_skipped_not_fatal() -> None:
    s, changes = store()
    s._consume(message("t1", b"not json", 0))
    s._consume(message("t2", record("t1").model_dump_json().encode(), 1))
    assert s.skipped == 2
    assert changes == []
    assert list(s.records()) == []
