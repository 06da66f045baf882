"""A consumed Kafka record as the domain sees it (aiokafka's `ConsumerRecord` is one)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


class RawRecord(Protocol):
    """The parts of a consumed record ingest reads."""

    @property
    def topic(self) -> str: ...
    @property
    def partition(self) -> int: ...
    @property
    def offset(self) -> int: ...
    @property
    def timestamp(self) -> int: ...
    @property
    def key(self) -> bytes | None: ...
    @property
    def value(self) -> bytes | None: ...
    @property
    def headers(self) -> Sequence[tuple[str, bytes]]: ...
