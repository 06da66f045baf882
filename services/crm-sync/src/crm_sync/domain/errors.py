"""Per-record errors of a Collections call, sorted into what to do about them."""

from __future__ import annotations

from enum import StrEnum

from chat_contracts.dlq import DeadLetterReason
from chat_contracts.sync import RetryReason
from crm_sync.domain.salesforce import RecordError
from crm_sync.domain.text import sf_length


class Action(StrEnum):
    """What a record's error asks for."""

    LINK_DUPLICATE = "link_duplicate"
    """DUPLICATES_DETECTED: use the record it names instead of creating one."""
    FIND_DUPLICATE = "find_duplicate"
    """DUPLICATES_DETECTED naming no record (sObject Collections never do): look for the
    person the rule found, else save despite the rule."""
    TRUNCATE = "truncate"
    """STRING_TOO_LONG: cut the named fields and try again."""
    DROP_OWNER = "drop_owner"
    """The agent's user cannot own records: fall back to the default owner."""
    RETRY = "retry"
    """Transient (lock contention, unavailable, rolled back with others): try again."""
    DEAD_LETTER = "dead_letter"
    """Permanent (validation rule, a required field we cannot fill): give up."""


TRANSIENT_CODES = frozenset(
    {
        "UNABLE_TO_LOCK_ROW",
        "SERVER_UNAVAILABLE",
        "REQUEST_RUNNING_TOO_LONG",
        "ALL_OR_NONE_OPERATION_ROLLED_BACK",
        "PROCESSING_HALTED",
        "TRANSIENT",
        # The matched record changed under us (converted, deleted): the next read sees it.
        "CANNOT_UPDATE_CONVERTED_LEAD",
        "ENTITY_IS_DELETED",
    }
)
OWNER_CODES = frozenset({"INACTIVE_OWNER_OR_USER", "INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY"})


def classify(error: RecordError, *, owner_set: bool = True) -> Action:
    """The action for one record error."""
    if error.code == "DUPLICATES_DETECTED":
        return Action.LINK_DUPLICATE if error.duplicate_ids else Action.FIND_DUPLICATE
    if error.code == "STRING_TOO_LONG":
        return Action.TRUNCATE
    if error.code in OWNER_CODES and owner_set:
        return Action.DROP_OWNER
    if error.code in TRANSIENT_CODES:
        return Action.RETRY
    return Action.DEAD_LETTER


def retry_reason(error: RecordError) -> RetryReason:
    """Why a chat that kept failing transiently is parked."""
    if error.code == "UNABLE_TO_LOCK_ROW":
        return RetryReason.LOCK_CONTENTION
    return RetryReason.SALESFORCE_UNAVAILABLE


def dead_letter_reason(error: RecordError) -> DeadLetterReason:
    """The DLQ reason for a permanent error."""
    if error.code == "REQUIRED_FIELD_MISSING":
        return DeadLetterReason.REQUIRED_FIELD_MISSING
    return DeadLetterReason.SALESFORCE_REJECTED


def too_long_limits(error: RecordError, current: dict[str, str]) -> dict[str, int]:
    """New limits for the fields a STRING_TOO_LONG names: the message's `max length=N`
    when Salesforce gives it, else half of what was sent (repeats converge)."""
    limit = _stated_max(error.message)
    out: dict[str, int] = {}
    for name in error.fields:
        sent = current.get(name)
        if sent is None:
            continue
        out[name] = limit if limit is not None else max(1, sf_length(sent) // 2)
    return out


def _stated_max(message: str) -> int | None:
    marker = "max length="
    at = message.find(marker)
    if at < 0:
        return None
    digits = ""
    for ch in message[at + len(marker) :]:
        if not ch.isdigit():
            break
        digits += ch
    return int(digits) if digits else None
