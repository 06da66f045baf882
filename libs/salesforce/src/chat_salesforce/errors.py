"""Salesforce failures as typed exceptions, so callers branch on a class, not on a string.

SalesforceAccessError
├── TokenError               no usable token for the tenant
│   ├── NotConnected         auth refused (never connected, revoked, refresh failed)
│   └── TokenUnavailable     auth did not answer in time
└── SalesforceApiError       Salesforce answered with an error (or not at all)
    ├── InvalidSession       401 INVALID_SESSION_ID
    ├── RequestLimitExceeded 403 REQUEST_LIMIT_EXCEEDED (the org's daily API budget)
    ├── InvalidType          unknown sObject (INVALID_TYPE, NOT_FOUND on describe)
    ├── InvalidField         unknown or unusable field (INVALID_FIELD, ...)
    ├── MalformedQuery       MALFORMED_QUERY
    ├── RequiredFieldMissing REQUIRED_FIELD_MISSING (`fields` names them)
    ├── RecordNotFound       NOT_FOUND / ENTITY_IS_DELETED for a record
    ├── DuplicatesDetected   DUPLICATES_DETECTED (`duplicate_ids`)
    ├── TransientError       UNABLE_TO_LOCK_ROW, SERVER_UNAVAILABLE, 5xx: safe to retry
    └── TransportError       no answer (connect or read timeout): a write may have happened
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


class SalesforceAccessError(Exception):
    """Base of every error this library raises."""


class TokenError(SalesforceAccessError):
    """No usable access token for the tenant."""


class NotConnected(TokenError):
    """Auth answered that the tenant has no working connection; `code` is auth's reason."""

    def __init__(self, tenant_id: str, code: str, message: str) -> None:
        self.tenant_id, self.code, self.message = tenant_id, code, message
        super().__init__(f"tenant {tenant_id}: {code}: {message}")


class TokenUnavailable(TokenError):
    """Auth did not answer (timeout, Kafka down) or answered something unreadable."""


class SalesforceApiError(SalesforceAccessError):
    """Salesforce refused a call. `status` is None when no HTTP answer came at all."""

    retryable = False

    def __init__(
        self,
        error_code: str,
        message: str,
        *,
        status: int | None = None,
        fields: Sequence[str] = (),
        body: Any = None,
    ) -> None:
        self.error_code, self.message, self.status = error_code, message, status
        self.fields = tuple(fields)
        self.body = body
        super().__init__(f"{error_code}: {message}")


class InvalidSession(SalesforceApiError):
    """The access token expired or was revoked."""


class RequestLimitExceeded(SalesforceApiError):
    """The org's API request budget is spent."""


class InvalidType(SalesforceApiError):
    """The sObject does not exist (or the user cannot see it)."""


class InvalidField(SalesforceApiError):
    """A field does not exist, or cannot be used this way."""


class MalformedQuery(SalesforceApiError):
    """The SOQL does not parse."""


class RequiredFieldMissing(SalesforceApiError):
    """A create lacks required fields; `fields` names them."""


class RecordNotFound(SalesforceApiError):
    """The record does not exist or was deleted."""


class DuplicatesDetected(SalesforceApiError):
    """A duplicate rule blocked the save; `duplicate_ids` are the matching records."""

    @property
    def duplicate_ids(self) -> tuple[str, ...]:
        """Ids of the matching records (Salesforce sometimes spells the key `duplicateResut`)."""
        items = self.body if isinstance(self.body, list) else [self.body]
        ids: list[str] = []
        for item in items:
            if not isinstance(item, Mapping):
                continue
            result = item.get("duplicateResult") or item.get("duplicateResut") or {}
            for match in result.get("matchResults", []):
                ids += [m["record"]["Id"] for m in match.get("matchRecords", [])]
        return tuple(ids)


class TransientError(SalesforceApiError):
    """Worth retrying: the call was not carried out (lock contention, unavailable)."""

    retryable = True


class TransportError(SalesforceApiError):
    """No HTTP answer: the outcome of a write is unknown."""


_BY_CODE: dict[str, type[SalesforceApiError]] = {
    "INVALID_SESSION_ID": InvalidSession,
    "REQUEST_LIMIT_EXCEEDED": RequestLimitExceeded,
    "INVALID_TYPE": InvalidType,
    "INVALID_FIELD": InvalidField,
    "INVALID_FIELD_FOR_INSERT_UPDATE": InvalidField,
    "MALFORMED_QUERY": MalformedQuery,
    "REQUIRED_FIELD_MISSING": RequiredFieldMissing,
    "NOT_FOUND": RecordNotFound,
    "ENTITY_IS_DELETED": RecordNotFound,
    "DUPLICATES_DETECTED": DuplicatesDetected,
    "UNABLE_TO_LOCK_ROW": TransientError,
    "SERVER_UNAVAILABLE": TransientError,
}


def classify(
    error_code: str,
    message: str,
    *,
    status: int | None = None,
    fields: Sequence[str] = (),
    body: Any = None,
) -> SalesforceApiError:
    """The typed exception for a Salesforce error code (5xx without one is transient)."""
    cls = _BY_CODE.get(error_code)
    if cls is None:
        cls = TransientError if status is not None and status >= 500 else SalesforceApiError
    return cls(error_code, message, status=status, fields=fields, body=body)


def from_answer(status: int, content: Any) -> SalesforceApiError:
    """Map an error answer (`content`: its parsed JSON, usually an error array, or its
    text) to the typed exception."""
    first = content[0] if isinstance(content, list) and content else content
    if isinstance(first, Mapping) and ("errorCode" in first or "statusCode" in first):
        code = str(first.get("errorCode") or first.get("statusCode"))
        return classify(
            code,
            str(first.get("message", "")).strip(),
            status=status,
            fields=[str(f) for f in first.get("fields") or ()],
            body=content,
        )
    return classify(f"HTTP_{status}", str(content)[:500], status=status, body=content)


def from_transport(exc: BaseException) -> TransportError:
    """A call that got no HTTP answer (connection refused, TLS failure, timeout)."""
    return TransportError(type(exc).__name__, str(exc)[:500] or type(exc).__name__)


def collection_errors(result: Mapping[str, Any]) -> SalesforceApiError | None:
    """The error of one sObject Collections result (`statusCode` spelling), or None."""
    if result.get("success"):
        return None
    errors = result.get("errors") or [{}]
    first = errors[0]
    return classify(
        str(first.get("statusCode") or first.get("errorCode") or "UNKNOWN"),
        str(first.get("message", "")),
        fields=[str(f) for f in first.get("fields") or ()],
        body=errors,
    )
