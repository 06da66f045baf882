"""Errors in Salesforce's own shapes.

REST errors are a JSON array `[{"message", "errorCode", "fields"?}]`; DML errors carry
`fields`, session, query and routing errors do not (as Salesforce sends them). In
sObject Collections results the same error is spelled with `statusCode`. OAuth errors
are `{"error", "error_description"}`.
"""

from __future__ import annotations

from typing import Any


class SalesforceError(Exception):
    """A REST error response: HTTP status, error code, message, and optional extras."""

    def __init__(
        self,
        status: int,
        error_code: str,
        message: str,
        fields: list[str] | None = None,
        extra: dict[str, Any] | None = None,
        raw_body: Any = None,
    ) -> None:
        super().__init__(f"{error_code}: {message}")
        # Some non-2xx answers are not error arrays (upsert's 300 lists record URLs).
        self.raw_body = raw_body
        self.status = status
        self.error_code = error_code
        self.message = message
        self.fields = fields
        self.extra = extra or {}

    def item(self) -> dict[str, Any]:
        """One element of the REST error array."""
        out: dict[str, Any] = {**self.extra, "errorCode": self.error_code, "message": self.message}
        if self.fields is not None:
            out["fields"] = self.fields
        return out

    def body(self) -> Any:
        return self.raw_body if self.raw_body is not None else [self.item()]

    def collection_item(self) -> dict[str, Any]:
        """The error as sObject Collections reports it per record: code, message and
        fields only. Salesforce leaves out the extras a single-record answer has (a
        duplicate's match ids among them) [S1]."""
        return {"statusCode": self.error_code, "message": self.message, "fields": self.fields or []}


def dml_error(error_code: str, message: str, fields: list[str] | None = None) -> SalesforceError:
    """A record-level (DML) error: always 400 and always with `fields`."""
    return SalesforceError(400, error_code, message, fields or [])


def not_found() -> SalesforceError:
    return SalesforceError(404, "NOT_FOUND", "The requested resource does not exist")


def entity_deleted() -> SalesforceError:
    return SalesforceError(404, "ENTITY_IS_DELETED", "entity is deleted", [])


def invalid_session() -> SalesforceError:
    return SalesforceError(401, "INVALID_SESSION_ID", "Session expired or invalid")


def malformed_query(message: str) -> SalesforceError:
    return SalesforceError(400, "MALFORMED_QUERY", message)


def json_parser_error(message: str) -> SalesforceError:
    return SalesforceError(400, "JSON_PARSER_ERROR", message)


class OAuthError(Exception):
    """An OAuth endpoint error: `{"error": ..., "error_description": ...}`."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.status = status

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}
