"""sObject Collections: up to 200 records per call, one result per record, in order.

Each record runs in its own savepoint, so a record that fails leaves nothing behind;
with `allOrNone` any failure rolls the whole call back and the other records report
ALL_OR_NONE_OPERATION_ROLLED_BACK.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from sf_emulator.errors import SalesforceError, json_parser_error
from sf_emulator.rest.router import Ctx, RestRequest, RestResponse
from sf_emulator.rest.sobjects import render
from sf_emulator.store.db import Rollback

MAX_RECORDS = 200
MAX_CHUNKS = 10
CHUNKS_MESSAGE = (
    "Cannot have more than 10 chunks in a single operation. Please rearrange the data to "
    "reduce chunking."
)
ROLLED_BACK = {
    "success": False,
    "errors": [
        {
            "statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
            "message": "Record rolled back because not all records were valid and the request "
            "was using AllOrNone header",
            "fields": [],
        }
    ],
}
Op = Callable[[], dict[str, Any]]


def _records(req: RestRequest) -> tuple[list[Any], bool]:
    body = req.body
    if not isinstance(body, dict) or not isinstance(body.get("records"), list):
        raise json_parser_error('The request body must be {"allOrNone": ..., "records": [...]}')
    return body["records"], bool(body.get("allOrNone", False))


def _check_chunks(records: list[Any]) -> None:
    """At most 10 chunks (runs of consecutive records of one type) per request [S3]. The
    message is Salesforce's (Apex); the error code of the REST answer is inferred."""
    kinds = [
        (r.get("attributes") or {}).get("type") if isinstance(r, dict) else None for r in records
    ]
    chunks = sum(1 for i, kind in enumerate(kinds) if i == 0 or kind != kinds[i - 1])
    if chunks > MAX_CHUNKS:
        raise SalesforceError(400, "INVALID_BATCH_REQUEST", CHUNKS_MESSAGE)


def _check_size(n: int) -> None:
    if n > MAX_RECORDS:
        raise SalesforceError(
            400,
            "EXCEEDED_ID_LIMIT",
            f"record limit reached. cannot submit more than {MAX_RECORDS} records into this call",
        )


def _run(ctx: Ctx, ops: list[Op], all_or_none: bool) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    try:
        with ctx.store.db.transaction():
            for op in ops:
                try:
                    with ctx.store.db.transaction():
                        results.append(op())
                except SalesforceError as exc:
                    results.append({"success": False, "errors": [exc.collection_item()]})
            if all_or_none and not all(r["success"] for r in results):
                raise Rollback
    except Rollback:
        results = [dict(ROLLED_BACK) if r["success"] else r for r in results]
    return results


def _type_of(ctx: Ctx, record: Any) -> Any:
    if not isinstance(record, dict):
        raise json_parser_error("Each record must be a JSON object")
    kind = (record.get("attributes") or {}).get("type")
    if not kind:
        raise SalesforceError(400, "INVALID_TYPE", "Must send a concrete entity type.", [])
    obj = ctx.org.catalog.get(kind)
    if obj is None:
        raise SalesforceError(400, "INVALID_TYPE", f"sObject type '{kind}' is not supported.", [])
    return obj


def create(ctx: Ctx, req: RestRequest, m: re.Match[str]) -> RestResponse:
    records, all_or_none = _records(req)
    _check_size(len(records))
    _check_chunks(records)
    writer = ctx.writer(req)
    created: set[str] = set()

    def op(record: Any) -> Op:
        def run() -> dict[str, Any]:
            new_id = writer.create(_type_of(ctx, record), record, batch_ids=created)
            created.add(new_id)
            return {"id": new_id, "success": True, "errors": []}

        return run

    return RestResponse(200, _run(ctx, [op(r) for r in records], all_or_none))


def update(ctx: Ctx, req: RestRequest, m: re.Match[str]) -> RestResponse:
    records, all_or_none = _records(req)
    _check_size(len(records))
    _check_chunks(records)
    writer = ctx.writer(req)
    touched: set[str] = set()

    def op(record: Any) -> Op:
        def run() -> dict[str, Any]:
            obj = _type_of(ctx, record)
            record_id = record.get("Id") or record.get("id")
            if not record_id:
                raise SalesforceError(
                    400, "MISSING_ARGUMENT", "Id not specified in an update call", ["Id"]
                )
            writer.update(obj, str(record_id), record, batch_ids=touched)
            touched.add(str(record_id))
            return {"id": str(record_id), "success": True, "errors": []}

        return run

    return RestResponse(200, _run(ctx, [op(r) for r in records], all_or_none))


def upsert(ctx: Ctx, req: RestRequest, m: re.Match[str]) -> RestResponse:
    records, all_or_none = _records(req)
    _check_size(len(records))
    writer = ctx.writer(req)
    obj = ctx.org.catalog.require(m["obj"])
    seen: set[str] = set()

    def op(record: Any) -> Op:
        def run() -> dict[str, Any]:
            if _type_of(ctx, record).name != obj.name:
                raise SalesforceError(
                    400, "INVALID_TYPE", "Records must be of the type in the URL", []
                )
            key = {k.lower(): v for k, v in record.items()}.get(m["field"].lower())
            if key is None:
                raise SalesforceError(
                    400, "MISSING_ARGUMENT", f"{m['field']} not specified", [m["field"]]
                )
            record_id, created = writer.upsert(obj, m["field"], str(key), record, batch_ids=seen)
            seen.add(record_id)
            return {"id": record_id, "success": True, "errors": [], "created": created}

        return run

    return RestResponse(200, _run(ctx, [op(r) for r in records], all_or_none))


def delete(ctx: Ctx, req: RestRequest, m: re.Match[str]) -> RestResponse:
    ids = [i for i in req.params.get("ids", "").split(",") if i]
    _check_size(len(ids))
    all_or_none = req.params.get("allOrNone", "false").lower() == "true"
    writer = ctx.writer(req)

    def op(record_id: str) -> Op:
        def run() -> dict[str, Any]:
            kind = ctx.org.catalog.type_of_id(record_id)
            obj = ctx.org.catalog.get(kind or "")
            if obj is None:
                raise SalesforceError(400, "MALFORMED_ID", f"malformed id {record_id}", [])
            writer.delete(obj, record_id)
            return {"id": record_id, "success": True, "errors": []}

        return run

    return RestResponse(200, _run(ctx, [op(i) for i in ids], all_or_none))


def retrieve(ctx: Ctx, req: RestRequest, m: re.Match[str]) -> RestResponse:
    obj = ctx.org.catalog.require(m["obj"])
    ids = [i for i in req.params.get("ids", "").split(",") if i]
    fields = req.params.get("fields")
    if not fields:
        raise SalesforceError(400, "MISSING_ARGUMENT", "fields is required", [])
    _check_size(len(ids))
    writer = ctx.writer(req)
    out: list[Any] = []
    for record_id in ids:
        try:
            out.append(render(ctx, obj, writer.load(obj, record_id), fields))
        except SalesforceError as exc:
            if exc.status != 404:
                raise
            out.append(None)
    return RestResponse(200, out)
