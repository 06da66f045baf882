"""The error reply of the request/reply protocol, usable by any responder.

Every reply body has a `status`; a failure is `{"status": "error", "code", "message",
"fields"?}`. Each responder narrows `code` to its own codes (`BotErrorReply`,
`TokenErrorReply`, `CrmCommandErrorReply`), and every one of those accepts the generic
codes below, so a reply produced by shared code (e.g. for a request that did not parse)
is understood by every caller.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from chat_contracts.base import Envelope, NonEmptyStr

ERROR_CODE_PATTERN = r"^[a-z][a-z0-9_]*$"


class GenericErrorCode(StrEnum):
    """Codes any responder may answer with."""

    VALIDATION = "validation"
    DEADLINE_EXCEEDED = "deadline_exceeded"
    INTERNAL = "internal"


class ErrorReply(Envelope):
    """A failure answer to any request. `tenant_id` is the request's (or `UNKNOWN_TENANT`)."""

    schema_version: Literal[1] = 1
    status: Literal["error"] = "error"
    code: Annotated[str, StringConstraints(pattern=ERROR_CODE_PATTERN)] = Field(
        description="Machine-readable reason, snake_case.", examples=["validation"]
    )
    message: NonEmptyStr = Field(
        description="Human-readable explanation, free of secrets.",
        examples=["field 'object' is required"],
    )
    fields: tuple[str, ...] | None = Field(
        None, description="Fields the error is about, when it names some.", examples=[["Email"]]
    )
