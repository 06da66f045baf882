"""What the consumers share: aiokafka records as plain values."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aiokafka import ConsumerRecord

from crm_sync.domain.inbound import InRecord


def in_records(records: Sequence[ConsumerRecord[Any, Any]]) -> list[InRecord]:
    """aiokafka's records as plain values."""
    return [
        InRecord(
            topic=r.topic,
            partition=r.partition,
            offset=r.offset,
            key=r.key,
            value=r.value,
            headers=tuple((k, v or b"") for k, v in r.headers or ()),
            timestamp_ms=r.timestamp,
        )
        for r in records
    ]
