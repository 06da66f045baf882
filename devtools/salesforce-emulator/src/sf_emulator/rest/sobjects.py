"""sObject resources: describeGlobal, describe, create, read, update, delete, upsert."""

from __future__ import annotations

import base64
import re
from typing import Any
from urllib.parse import unquote

from sf_emulator.dml.writer import external_id_field
from sf_emulator.errors import SalesforceError, json_parser_error, not_found
from sf_emulator.rest.router import Ctx, RestRequest, RestResponse
from sf_emulator.schema.describe import describe_global, describe_object, object_summary
from sf_emulator.schema.fields import ObjectDef

# Upsert answers 200 + body on update from v46.0; before that, 204 without a body.
UPSERT_BODY_SINCE = 46


def _body(req: RestRequest) -> dict[str, Any]:
    if not isinstance(req.body, dict):
        raise json_parser_error("The request body must be a JSON object")
    return req.body


def render(ctx: Ctx, obj: ObjectDef, record: dict[str, Any], only: str | None) -> dict[str, Any]:
    """A record as GET returns it: `attributes`, then every field (or those asked for)."""
    names = [f.name for f in obj.fields.values()]
    if only:
        names = []
        for name in only.split(","):
            f = obj.field(name.strip())
            if f is None:
                raise SalesforceError(
                    400,
                    "INVALID_FIELD",
                    f"No such column '{name.strip()}' "
                    f"on entity '{obj.name}'. If you are attempting to use a "
                    "custom field, be sure to append the '__c' after the "
                    "custom field name. Please reference your WSDL or the "
                    "describe call for the appropriate names.",
                )
            names.append(f.name)
    url = f"{ctx.base}/sobjects/{obj.name}/{record['Id']}"
    out: dict[str, Any] = {"attributes": {"type": obj.name, "url": url}}
    for name in names:
        value = record.get(name)
        if obj.fields[name.lower()].type == "base64" and value is not None:
            value = f"{url}/{name}"
        out[name] = value
    return out


def global_describe(ctx: Ctx, req: RestRequest, m: re.Match[str]) -> RestResponse:
    return RestResponse(200, describe_global(ctx.org.catalog, ctx.version))


def metadata(ctx: Ctx, req: RestRequest, m: re.Match[str]) -> RestResponse:
    obj = ctx.org.catalog.require(m["obj"])
    return RestResponse(
        200, {"objectDescribe": object_summary(obj, ctx.version), "recentItems": []}
    )


def describe(ctx: Ctx, req: RestRequest, m: re.Match[str]) -> RestResponse:
    obj = ctx.org.catalog.require(m["obj"])
    return RestResponse(200, describe_object(obj, ctx.version))


def create(ctx: Ctx, req: RestRequest, m: re.Match[str]) -> RestResponse:
    obj = ctx.org.catalog.require(m["obj"])
    new_id = ctx.writer(req).create(obj, _body(req))
    return RestResponse(
        201,
        {"id": new_id, "success": True, "errors": []},
        {"Location": f"{ctx.base}/sobjects/{obj.name}/{new_id}"},
    )


def get(ctx: Ctx, req: RestRequest, m: re.Match[str]) -> RestResponse:
    obj = ctx.org.catalog.require(m["obj"])
    record = ctx.writer(req).load(obj, m["id"])
    return RestResponse(200, render(ctx, obj, record, req.params.get("fields")))


def update(ctx: Ctx, req: RestRequest, m: re.Match[str]) -> RestResponse:
    obj = ctx.org.catalog.require(m["obj"])
    ctx.writer(req).update(obj, m["id"], _body(req))
    return RestResponse(204)


def delete(ctx: Ctx, req: RestRequest, m: re.Match[str]) -> RestResponse:
    obj = ctx.org.catalog.require(m["obj"])
    ctx.writer(req).delete(obj, m["id"])
    return RestResponse(204)


def get_by_key(ctx: Ctx, req: RestRequest, m: re.Match[str]) -> RestResponse:
    """GET by external id, or a blob field of a record (ContentVersion/{id}/VersionData)."""
    obj = ctx.org.catalog.require(m["obj"])
    first, second = m["a"], unquote(m["b"])
    blob = obj.field(second)
    if blob is not None and blob.type == "base64":
        record = ctx.writer(req).load(obj, first)
        raw = base64.b64decode(record.get(blob.name) or "")
        return RestResponse(200, raw=raw, media_type="application/octet-stream")
    f = external_id_field(obj, first)
    found = ctx.store.records.lookup(ctx.org.id, obj.name, f.name, [second])
    if not found:
        raise not_found()
    if len(found) > 1:
        return RestResponse(300, [f"{ctx.base}/sobjects/{obj.name}/{i}" for i in found])
    record = ctx.writer(req).load(obj, found[0])
    return RestResponse(200, render(ctx, obj, record, req.params.get("fields")))


def upsert(ctx: Ctx, req: RestRequest, m: re.Match[str]) -> RestResponse:
    obj = ctx.org.catalog.require(m["obj"])
    update_only = req.params.get("updateOnly", "false").lower() == "true"
    record_id, created = ctx.writer(req).upsert(
        obj, m["a"], unquote(m["b"]), _body(req), update_only
    )
    body = {"id": record_id, "success": True, "errors": [], "created": created}
    if created:
        return RestResponse(201, body)
    if int(ctx.version.split(".")[0]) < UPSERT_BODY_SINCE:
        return RestResponse(204)
    return RestResponse(200, body)
