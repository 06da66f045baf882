"""`/services/data`: authenticate, enforce the daily limit, inject faults, count the call,
dispatch, and stamp `Sforce-Limit-Info` on the answer.

The daily allocation is soft, as documented [S28]: calls past it are served, and the header
shows the overage (`api-usage=110018/100000`) and the hours spent over it this month
(`; api-bursts=1/750`, only once there are some). The org switch `api_limit_blocks` makes
calls past it answer 403 `REQUEST_LIMIT_EXCEEDED` until the last 24 hours drop below it
(Help "System Overview: API Usage"; when Salesforce starts blocking is not documented)."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from sf_emulator.emulator import Emulator, session_of
from sf_emulator.errors import SalesforceError, invalid_session, json_parser_error, not_found
from sf_emulator.http.responses import json_response
from sf_emulator.rest import misc
from sf_emulator.rest.router import (
    Ctx,
    RestRequest,
    lock_failure,
    retired_version,
    strip_path,
    supported_version,
)
from sf_emulator.store.orgs import Org

_VERSIONED = re.compile(r"^v(\d+\.\d)(/.*)?$")


def _token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() in {"bearer", "oauth"} and token.strip() else None


async def _body(request: Request) -> Any:
    raw = await request.body()
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise json_parser_error(f"Unexpected character: {exc}") from None


class DataEndpoint:
    def __init__(self, emulator: Emulator) -> None:
        self.emu = emulator

    async def handle(self, request: Request) -> Response:
        rest = request.path_params.get("rest", "")
        if rest.strip("/") == "":
            return json_response(200, misc.versions())
        m = _VERSIONED.match(rest)
        if m is not None and retired_version(m[1]):
            # The body is inferred; the status is documented [S23].
            gone = SalesforceError(
                410, "API_VERSION_RETIRED", f"API version {m[1]} has been retired."
            )
            return json_response(410, gone.body())
        if m is None or not supported_version(m[1]):
            return json_response(404, not_found().body())
        try:
            return await self._handle(request, m[1], strip_path(m[2] or ""))
        except SalesforceError as exc:
            return json_response(exc.status, exc.body())

    def _org(self, request: Request) -> tuple[Org, str]:
        found = session_of(self.emu, _token(request))
        if found is None:
            raise invalid_session()
        return found

    async def _handle(self, request: Request, version: str, path: str) -> Response:
        org, user_id = self._org(request)
        try:
            return await self._dispatch(request, version, path, org, user_id)
        except SalesforceError as exc:
            used = self.emu.store.usage.used(org.id)
            return json_response(exc.status, exc.body(), self._limit_info(org, used))

    def _limit_info(self, org: Org, used: int) -> dict[str, str]:
        info = f"api-usage={used}/{org.settings.api_limit}"
        bursts = self.emu.store.usage.bursts(org.id)
        if bursts:
            info += f"; api-bursts={bursts}/{org.settings.api_burst_entitlement}"
        return {"Sforce-Limit-Info": info}

    async def _dispatch(
        self, request: Request, version: str, path: str, org: Org, user_id: str
    ) -> Response:
        emu = self.emu
        limit = org.settings.api_limit
        if org.settings.api_limit_blocks and emu.store.usage.used(org.id) >= limit:
            raise SalesforceError(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
        route = emu.api.match(request.method, path)
        fault = emu.faults.decide(org.id, org.settings.faults, route.dml)
        if fault.latency:
            await asyncio.sleep(fault.latency)
        if fault.unavailable:
            return json_response(
                503,
                [
                    {
                        "errorCode": "SERVER_UNAVAILABLE",
                        "message": "Server temporarily unavailable (injected fault)",
                    }
                ],
            )
        used = emu.store.usage.count(org.id, route.resource)
        if used > limit:
            emu.store.usage.mark_burst(org.id)
        params = dict(request.query_params)
        body = await _body(request)
        if fault.lock and route.resource != "composite":
            resp = lock_failure(route.resource, body, params)
        else:
            req = RestRequest(
                request.method,
                path,
                params,
                body,
                {k.lower(): v for k, v in request.headers.items()},
            )
            # Composite answers 200 and puts the lock error on each write inside [S15].
            ctx = Ctx(emu.store, emu.engine, org, user_id, version, lock=fault.lock)
            resp = emu.api.dispatch(ctx, req)
        if fault.hang:
            await asyncio.sleep(fault.hang)
        headers = {**resp.headers, **self._limit_info(org, used)}
        if resp.raw is not None:
            return Response(resp.raw, resp.status, headers, resp.media_type)
        return json_response(resp.status, resp.body, headers)
