"""Validation errors as short, secret-free text for 400 bodies and dead letters."""

from __future__ import annotations

from typing import Final

from pydantic import ValidationError

MAX_ERRORS: Final = 5
_MAX_MESSAGE: Final = 200


def describe_errors(exc: ValidationError, *, prefix: tuple[str | int, ...] = ()) -> list[str]:
    """`"chat.messages.0.from: Input should be 'visitor', 'agent' or 'bot'"`, one line per
    error (at most MAX_ERRORS), never quoting the input value."""
    lines = []
    for error in exc.errors(include_input=False, include_url=False, include_context=False):
        loc = error["loc"][len(prefix) :] if error["loc"][: len(prefix)] == prefix else error["loc"]
        where = ".".join(str(part) for part in loc) or "body"
        lines.append(f"{where}: {error['msg']}"[:_MAX_MESSAGE])
        if len(lines) == MAX_ERRORS:
            break
    return lines


def error_types(exc: ValidationError) -> set[str]:
    """The pydantic error types of `exc` (`json_invalid`, `union_tag_invalid`, ...)."""
    return {error["type"] for error in exc.errors(include_input=False, include_url=False)}
