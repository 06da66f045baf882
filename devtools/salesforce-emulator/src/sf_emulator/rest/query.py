"""`/query` and `/queryAll`, and their next pages at `/query/{locator}-{position}`."""

from __future__ import annotations

import re

from sf_emulator.errors import malformed_query
from sf_emulator.rest.router import Ctx, RestRequest, RestResponse
from sf_emulator.soql.engine import DEFAULT_BATCH, MIN_BATCH

_BATCH = re.compile(r"batchSize\s*=\s*(\d+)", re.IGNORECASE)


def _batch(req: RestRequest) -> int:
    """`Sforce-Query-Options: batchSize=N`, which Salesforce clamps to 200..2000."""
    m = _BATCH.search(req.headers.get("sforce-query-options", ""))
    if not m:
        return DEFAULT_BATCH
    return min(max(int(m.group(1)), MIN_BATCH), DEFAULT_BATCH)


def query(ctx: Ctx, req: RestRequest, m: re.Match[str]) -> RestResponse:
    text = req.params.get("q")
    if not text:
        raise malformed_query("A query string has to be specified")
    include_deleted = req.path.startswith("/queryAll")
    body = ctx.engine.run(ctx.org, text, ctx.version, _batch(req), include_deleted)
    return RestResponse(200, body)


def query_more(ctx: Ctx, req: RestRequest, m: re.Match[str]) -> RestResponse:
    return RestResponse(200, ctx.engine.more(ctx.org, m["locator"], ctx.version))
