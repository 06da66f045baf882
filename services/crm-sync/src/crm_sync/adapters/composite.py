"""The Composite API's shapes: SOQL of an `InQuery`, references between subrequests,
errors of a subrequest or of one record. Pure functions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chat_salesforce.soql import in_list, quote
from crm_sync.adapters.ports import CallRejected, SalesforceUnavailable
from crm_sync.domain.salesforce import FieldValue, InQuery, RecordError, Ref


def soql(query: InQuery) -> str:
    """`SELECT ... FROM ... WHERE field IN (...) [AND k = v]`, values escaped."""
    where = [f"{query.match_field} IN {in_list(query.values)}"]
    where += [f"{name} = {quote(value)}" for name, value in query.equals]
    # Values are escaped literals; names are API names (checked patterns or our own).
    fields = ", ".join(query.fields)
    return f"SELECT {fields} FROM {query.sobject} WHERE {' AND '.join(where)}"  # noqa: S608


def reference(value: FieldValue) -> Any:
    """A field value, a `Ref` written as `@{step[index].id}`."""
    return f"@{{{value.step}[{value.index}].id}}" if isinstance(value, Ref) else value


def record_error(item: Mapping[str, Any]) -> RecordError:
    """One record's error (`statusCode` or `errorCode`; duplicates named in either spelling
    of `duplicateResult`)."""
    result = item.get("duplicateResult") or item.get("duplicateResut") or {}
    ids = tuple(
        str(m["record"]["Id"])
        for match in result.get("matchResults", ())
        for m in match.get("matchRecords", ())
        if isinstance(m.get("record"), Mapping) and m["record"].get("Id")
    )
    return RecordError(
        code=str(item.get("statusCode") or item.get("errorCode") or "UNKNOWN"),
        message=str(item.get("message", "")),
        fields=tuple(str(f) for f in item.get("fields") or ()),
        duplicate_ids=ids,
    )


def sub_error(sub: Mapping[str, Any]) -> RecordError:
    """The error of a failed subrequest."""
    body = sub.get("body")
    first = body[0] if isinstance(body, list) and body else body
    if isinstance(first, Mapping):
        return record_error(first)
    return RecordError(f"HTTP_{sub.get('httpStatusCode')}", str(body)[:500])


def raise_for(sub: Mapping[str, Any]) -> None:
    """Raise the port's error for a failed subrequest (nothing for a success)."""
    status = int(sub.get("httpStatusCode", 500))
    if status < 300:
        return
    error = sub_error(sub)
    if status >= 500 or error.code in ("UNABLE_TO_LOCK_ROW", "SERVER_UNAVAILABLE"):
        raise SalesforceUnavailable(f"{error.code}: {error.message}")
    raise CallRejected(error.code, error.message, error.fields)
