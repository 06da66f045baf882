"""The envelope every message carries, and the small value types the models share.

Pure: validators normalise values (UTC, lower-cased email) but nothing here does I/O.
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from typing import Annotated, Any, TypeAlias
from uuid import UUID, uuid4

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
    WithJsonSchema,
)

# Tenant ids end up inside Kafka keys ("{tenant_id}|email:...") and URLs, so they are
# restricted to characters that can never be confused with the key separators.
TENANT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
# Reserved: the tenant of a message about input too broken to say which tenant it was for.
UNKNOWN_TENANT = "unknown"

SALESFORCE_ID_PATTERN = r"^[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?$"
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
E164_PATTERN = r"^\+[1-9][0-9]{1,14}$"
INSTANCE_URL_PATTERN = r"^https?://[^\s/]+/?$"
SOBJECT_NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9_]{0,79}$"
FIELD_PATH_PATTERN = r"^[A-Za-z][A-Za-z0-9_]{0,79}(?:\.[A-Za-z][A-Za-z0-9_]{0,79}){0,4}$"


def utc_now() -> datetime:
    """The current time, tz-aware, in UTC."""
    return datetime.now(UTC)


def to_utc(value: datetime) -> datetime:
    """Convert an aware datetime to UTC; a naive one is refused, never guessed."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("datetime must carry a timezone offset")
    return value.astimezone(UTC)


def normalise_email(value: str) -> str:
    """Trim and lower-case an email address (the form used for matching and keys)."""
    return value.strip().lower()


def _email_before(value: Any) -> Any:
    return normalise_email(value) if isinstance(value, str) else value


def _b64_decode(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return base64.b64decode(value.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError) as exc:
            raise ValueError("not valid base64") from exc
    return value


def b64encode(value: bytes) -> str:
    """Standard base64 (with padding, no line breaks), the wire form of byte fields."""
    return base64.b64encode(value).decode("ascii")


UtcDatetime: TypeAlias = Annotated[AwareDatetime, AfterValidator(to_utc)]
"""A tz-aware datetime, converted to UTC on the way in; naive values are refused."""

TenantId: TypeAlias = Annotated[str, StringConstraints(pattern=TENANT_ID_PATTERN)]
NonEmptyStr: TypeAlias = Annotated[str, StringConstraints(min_length=1)]
SalesforceId: TypeAlias = Annotated[str, StringConstraints(pattern=SALESFORCE_ID_PATTERN)]
InstanceUrl: TypeAlias = Annotated[str, StringConstraints(pattern=INSTANCE_URL_PATTERN)]
LowerEmail: TypeAlias = Annotated[
    str,
    StringConstraints(pattern=EMAIL_PATTERN, max_length=80),
    BeforeValidator(_email_before),
]
"""Trimmed, lower-cased email; 80 characters is Salesforce's Email field length."""

SObjectName: TypeAlias = Annotated[str, StringConstraints(pattern=SOBJECT_NAME_PATTERN)]
"""An sObject API name (`Lead`, `Invoice__c`, `ns__Thing__c`); checked against describe later."""
FieldName: TypeAlias = Annotated[str, StringConstraints(pattern=SOBJECT_NAME_PATTERN)]
"""A Salesforce field API name (`Email`, `Order_Number__c`)."""
FieldPath: TypeAlias = Annotated[str, StringConstraints(pattern=FIELD_PATH_PATTERN)]
"""A field, or a relationship path as SOQL returns it (`Contact.Email`)."""
E164Phone: TypeAlias = Annotated[str, StringConstraints(pattern=E164_PATTERN)]
Base64Bytes: TypeAlias = Annotated[
    bytes,
    BeforeValidator(_b64_decode),
    PlainSerializer(b64encode, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "contentEncoding": "base64"}),
]
"""Bytes in Python, standard base64 text in JSON."""

JsonScalar: TypeAlias = str | int | float | bool | None
"""A JSON value that is not a container: what a Salesforce field or a bot variable holds."""


class ContractModel(BaseModel):
    """A part of a message we produce: immutable, unknown keys refused."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class InboundModel(BaseModel):
    """A part of a payload a third party produces: immutable, unknown keys ignored.

    Numbers are accepted where we keep strings (chat platforms send ids as either).
    """

    model_config = ConfigDict(
        frozen=True,
        extra="ignore",
        coerce_numbers_to_str=True,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
    )


class Envelope(ContractModel):
    """The fields every message on every topic carries.

    Subclasses pin `schema_version` to a `Literal` with a default, so callers never send
    it and a consumer refuses a version it does not know.
    """

    schema_version: int = Field(
        description="Version of this message's schema; bumped only for a breaking change.",
        examples=[1],
    )
    message_id: UUID = Field(
        default_factory=uuid4,
        description="Unique id of this message; generated when not given.",
        examples=["6f1c2d1e-8a47-4c4e-9d8e-2b1f0c3a5e77"],
    )
    tenant_id: TenantId = Field(
        description="The tenant (the chat platform's site id) the message belongs to.",
        examples=["10000"],
    )
    occurred_at: UtcDatetime = Field(
        default_factory=utc_now,
        description="When the fact this message reports happened, in UTC; defaults to now.",
        examples=["2024-05-01T12:00:00Z"],
    )

    @classmethod
    def version(cls) -> int:
        """The schema version this model class writes (its `schema_version` default)."""
        default = cls.model_fields["schema_version"].default
        if not isinstance(default, int):
            raise TypeError(f"{cls.__name__} does not pin schema_version")
        return default
