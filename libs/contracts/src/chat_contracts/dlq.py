"""`chat.dlq.v1` and `crm.dlq.v1`: input a service gave up on, with the reason and the bytes.

A dead letter keeps the original key, value and headers so the message can be inspected and
replayed. Header values whose name looks secret are redacted by the model itself, so no
producer can leak a signature or token into a DLQ by forgetting to.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Final, Literal

from pydantic import Field, field_validator

from chat_contracts.base import (
    Base64Bytes,
    ContractModel,
    Envelope,
    NonEmptyStr,
    UtcDatetime,
    utc_now,
)
from chat_contracts.topics import LARGE_MESSAGE_BYTES

SECRET_HEADER_MARKERS: Final = (
    "authorization",
    "token",
    "secret",
    "password",
    "signature",
    "cookie",
    "api-key",
    "api_key",
    "apikey",
    "session",
)
"""A header whose lower-cased name contains one of these never keeps its value in a DLQ."""
COPY_LIMIT_BYTES: Final = (LARGE_MESSAGE_BYTES - 128 * 1024) * 3 // 4
"""The largest original value a dead letter carries: base64 (4/3 larger) with the rest of
the letter, it must fit a record of the DLQ topics."""


def original_copy(value: bytes | None, message: str) -> tuple[bytes | None, str]:
    """The original value a dead letter carries, and its message. A value too large to
    carry is left out and the message says so: the letter's source topic, partition and
    offset say where it is (a record the DLQ topic refused would stop its consumer)."""
    if value is not None and len(value) > COPY_LIMIT_BYTES:
        return None, f"{message} (original value of {len(value)} bytes not copied)"
    return value, message


class DeadLetterReason(StrEnum):
    """Why a message was dead-lettered. New reasons may be added (compatible)."""

    INVALID_JSON = "invalid_json"
    SCHEMA_VALIDATION = "schema_validation"
    UNKNOWN_EVENT = "unknown_event"
    UNKNOWN_TENANT = "unknown_tenant"
    SALESFORCE_REJECTED = "salesforce_rejected"
    REQUIRED_FIELD_MISSING = "required_field_missing"
    RETRIES_EXHAUSTED = "retries_exhausted"
    INTERNAL_ERROR = "internal_error"


def is_secret_header(name: str) -> bool:
    """True when a header name looks like it carries a secret."""
    lowered = name.lower()
    return any(marker in lowered for marker in SECRET_HEADER_MARKERS)


class DeadLetterHeader(ContractModel):
    """One Kafka (or HTTP) header of the original message."""

    name: str = Field(examples=["correlation_id"])
    value: Base64Bytes | None = Field(
        None, description="Header value, base64; null when absent or redacted.", examples=["YWJj"]
    )
    redacted: bool = Field(False, description="True when the value was removed as secret.")


def redact_headers(headers: Iterable[tuple[str, bytes | None]]) -> tuple[DeadLetterHeader, ...]:
    """Turn raw (name, value) headers into `DeadLetterHeader`s, secrets redacted."""
    return tuple(
        DeadLetterHeader(name=name, value=None, redacted=True)
        if is_secret_header(name)
        else DeadLetterHeader(name=name, value=value)
        for name, value in headers
    )


class DeadLetter(Envelope):
    """`chat.dlq.v1` / `crm.dlq.v1` value. Key: `keys.tenant_key` (tenant when known).

    `tenant_id` is `base.UNKNOWN_TENANT` when the input was too broken to name its tenant.
    """

    schema_version: Literal[1] = 1
    reason: DeadLetterReason = Field(examples=["schema_validation"])
    message: NonEmptyStr = Field(
        description="Human-readable explanation, free of secrets.",
        examples=["chat.visitor.email: value is not a valid email address"],
    )
    error_code: str | None = Field(
        None,
        description="Upstream error code, e.g. Salesforce's.",
        examples=["REQUIRED_FIELD_MISSING"],
    )
    error_fields: tuple[str, ...] = Field(
        (), description="Fields the upstream error names.", examples=[["LastName"]]
    )
    service: NonEmptyStr = Field(description="Service that gave up.", examples=["ingest"])
    source_topic: str | None = Field(None, examples=["chat.raw.v1"])
    source_partition: int | None = Field(None, ge=0, examples=[3])
    source_offset: int | None = Field(None, ge=0, examples=[1842])
    original_key: Base64Bytes | None = Field(None, description="Original key bytes, base64.")
    original_value: Base64Bytes | None = Field(None, description="Original value bytes, base64.")
    original_headers: tuple[DeadLetterHeader, ...] = Field(
        (), description="Original headers; secret-looking values redacted."
    )
    attempts: int = Field(1, ge=1, description="How many times handling was tried.", examples=[1])
    failed_at: UtcDatetime = Field(default_factory=utc_now, examples=["2024-05-01T12:00:02Z"])

    @field_validator("original_headers", mode="after")
    @classmethod
    def _redact(cls, headers: tuple[DeadLetterHeader, ...]) -> tuple[DeadLetterHeader, ...]:
        return tuple(
            DeadLetterHeader(name=h.name, value=None, redacted=True)
            if is_secret_header(h.name) and h.value is not None
            else h
            for h in headers
        )
