"""The console over HTTP: the JSON API under `/api/tenants/{tenant}/...` and the pages
under `/console/{tenant}/...`, with the same access rules (`access.Gate`) and one
structured access-log line per request (never its query string: a link's signature is
a credential).

    GET  /api/tenants/{t}/chats?status=&email=&chat_id=&from=&to=&limit=&before=
    GET  /api/tenants/{t}/chats/{chat_id}
    POST /api/tenants/{t}/chats/{chat_id}/resync                      -> 202
    GET  /api/tenants/{t}/dead-letters?reason=&limit=
    POST /api/tenants/{t}/dead-letters/replay {"ids": [...]} | {"all": true, "reason"?}
    POST /api/tenants/{t}/backfill {"from": ISO, "to": ISO}            -> 202
    GET  /api/tenants/{t}/health | /audit | /commands
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from chat_runtime.logging import get_logger
from console_service.adapters.store import ChatQuery
from console_service.domain.charts import stacked_bars
from console_service.domain.history import STATUSES, Row
from console_service.entrypoints import pages
from console_service.entrypoints.access import Access, Denied, Gate
from console_service.handlers.queries import History
from console_service.handlers.repairs import Actor, RepairRefused, Repairs, Requested

log = get_logger(__name__)
CLI_HEADER = "x-chat-admin-client"
MAX_LIMIT = 500
MAX_FORM_BYTES = 256 * 1024

Handler = Callable[[Request, Access], Awaitable[Response]]


class BadRequest(Exception):
    pass


def _iso(value: Any) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else None


def _parse_time(text: str | None, name: str) -> datetime | None:
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(f"{name}: not an ISO date or time") from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def chat_json(row: Row) -> dict[str, Any]:
    """A chat as the API gives it."""
    person = activity = None
    if row["person_id"]:
        person = {"object": row["person_object"], "id": row["person_id"]}
        person["outcome"] = row["person_outcome"]
    if row["activity_id"]:
        activity = {"object": row["activity_object"], "id": row["activity_id"]}
        activity["outcome"] = row["activity_outcome"]
    error = None
    if row["error_code"]:
        error = {
            "code": row["error_code"],
            "message": row["error_message"],
            "salesforce_error_code": row["salesforce_error_code"],
            "fields": json.loads(row["error_fields"] or "[]"),
        }
    return {
        "chat_id": row["chat_id"],
        "kind": row["kind"],
        "status": row["status"],
        "records": {"person": person, "activity": activity},
        "error": error,
        "visitor_email": row["visitor_email"],
        "updated_at": _iso(row["updated_at"]),
        "ended_at": _iso(row["ended_at"]),
        "retry_at": _iso(row["retry_at"]),
    }


def _cursor(rows: list[Row], limit: int) -> str | None:
    if len(rows) < limit:
        return None
    last = rows[-1]
    raw = json.dumps([last["updated_at"].isoformat(), last["chat_id"]]).encode()
    return base64.urlsafe_b64encode(raw).decode()


def _before(cursor: str | None) -> tuple[datetime, str] | None:
    if not cursor:
        return None
    try:
        at, chat_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        return datetime.fromisoformat(at).astimezone(UTC).replace(tzinfo=None), str(chat_id)
    except (ValueError, TypeError):
        raise BadRequest("before: not a cursor this API gave") from None


def _query(tenant: str, params: Mapping[str, str]) -> ChatQuery:
    status = params.get("status") or None
    if status is not None and status not in STATUSES:
        raise BadRequest(f"status: one of {', '.join(STATUSES)}")
    try:
        limit = int(params.get("limit") or 50)
    except ValueError:
        raise BadRequest("limit: a number") from None
    since, until = _parse_time(params.get("from"), "from"), _parse_time(params.get("to"), "to")
    return ChatQuery(
        tenant_id=tenant,
        status=status,
        email=params.get("email") or None,
        chat_id=params.get("chat_id") or None,
        since=since.replace(tzinfo=None) if since else None,
        until=until.replace(tzinfo=None) if until else None,
        before=_before(params.get("before")),
        limit=max(1, min(limit, MAX_LIMIT)),
    )


class Web:
    """The console's HTTP routes."""

    def __init__(self, gate: Gate, history: History, repairs: Repairs) -> None:
        self.gate, self.history, self.repairs = gate, history, repairs

    def app(self) -> Starlette:
        api, page = self._api, self._page
        return Starlette(
            routes=[
                Route("/api/tenants/{tenant}/chats", api(self.chats), methods=["GET"]),
                Route("/api/tenants/{tenant}/chats/{chat_id}", api(self.chat), methods=["GET"]),
                Route(
                    "/api/tenants/{tenant}/chats/{chat_id}/resync",
                    api(self.resync),
                    methods=["POST"],
                ),
                Route("/api/tenants/{tenant}/dead-letters", api(self.letters), methods=["GET"]),
                Route(
                    "/api/tenants/{tenant}/dead-letters/replay",
                    api(self.replay),
                    methods=["POST"],
                ),
                Route("/api/tenants/{tenant}/backfill", api(self.backfill), methods=["POST"]),
                Route("/api/tenants/{tenant}/health", api(self.health), methods=["GET"]),
                Route("/api/tenants/{tenant}/audit", api(self.audit), methods=["GET"]),
                Route("/api/tenants/{tenant}/commands", api(self.commands), methods=["GET"]),
                Route("/console-static/console.css", self.css, methods=["GET"]),
                Route("/console/{tenant}", page(self.overview_page), methods=["GET"]),
                Route("/console/{tenant}/chats", page(self.chats_page), methods=["GET"]),
                Route("/console/{tenant}/chats/{chat_id}", page(self.chat_page), methods=["GET"]),
                Route(
                    "/console/{tenant}/chats/{chat_id}/resync",
                    page(self.resync_form, form=True),
                    methods=["POST"],
                ),
                Route("/console/{tenant}/dead-letters", page(self.letters_page), methods=["GET"]),
                Route(
                    "/console/{tenant}/dead-letters/replay",
                    page(self.replay_form, form=True),
                    methods=["POST"],
                ),
                Route("/console/{tenant}/backfill", page(self.backfill_page), methods=["GET"]),
                Route(
                    "/console/{tenant}/backfill",
                    page(self.backfill_form, form=True),
                    methods=["POST"],
                ),
                Route("/console/{tenant}/audit", page(self.audit_page), methods=["GET"]),
            ]
        )

    # -- the guards -----------------------------------------------------------------------

    async def _access(self, request: Request, params: Mapping[str, str]) -> Access:
        tenant = request.path_params["tenant"]
        access = self.gate.check(tenant, request.headers.get("authorization"), params)
        if not await self.history.known(tenant):
            raise Denied(404, "no such tenant")
        return access

    def _actor(self, request: Request, access: Access) -> Actor:
        kind = "tenant-link" if access.via == "link" else "admin"
        if access.via == "admin" and request.headers.get(CLI_HEADER) == "cli":
            kind = "cli"
        return Actor(kind, request.client.host if request.client else None)

    def _api(self, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def guarded(request: Request) -> Response:
            started, access = time.perf_counter(), None
            try:
                access = await self._access(request, request.query_params)
                response = await handler(request, access)
            except Denied as denied:
                response = JSONResponse({"error": denied.reason}, status_code=denied.status)
            except (BadRequest, RepairRefused) as exc:
                status = exc.status if isinstance(exc, RepairRefused) else 400
                response = JSONResponse({"error": str(exc)}, status_code=status)
            self._log(request, response, access, started)
            return response

        return guarded

    def _page(
        self, handler: Handler, *, form: bool = False
    ) -> Callable[[Request], Awaitable[Response]]:
        async def guarded(request: Request) -> Response:
            started, access = time.perf_counter(), None
            try:
                params: Mapping[str, str] = request.query_params
                if form:
                    self._same_origin(request)
                    params = {k: v[0] for k, v in (await self._form(request)).items()}
                access = await self._access(request, params)
                response = await handler(request, access)
            except Denied as denied:
                response = HTMLResponse(pages.error(denied.status, denied.reason), denied.status)
            except (BadRequest, RepairRefused) as exc:
                status = exc.status if isinstance(exc, RepairRefused) else 400
                response = HTMLResponse(pages.error(status, str(exc)), status)
            response.headers.update(pages.SECURITY_HEADERS)
            self._log(request, response, access, started)
            return response

        return guarded

    def _same_origin(self, request: Request) -> None:
        """A form posted from another site is refused (its link fields alone would pass)."""
        origin = request.headers.get("origin")
        if origin and origin != "null":
            host = origin.split("://", 1)[-1]
            if host != request.headers.get("host"):
                raise Denied(403, "the form was posted from another site")

    def _log(
        self, request: Request, response: Response, access: Access | None, started: float
    ) -> None:
        log.info(
            "console request",
            method=request.method,
            path=request.url.path,
            status=response.status_code,
            tenant=request.path_params.get("tenant"),
            actor=None if access is None else access.via,
            duration_ms=round((time.perf_counter() - started) * 1000, 1),
        )

    # -- the API --------------------------------------------------------------------------

    async def chats(self, request: Request, access: Access) -> Response:
        query = _query(access.tenant_id, request.query_params)
        rows = await self.history.chats(query)
        return JSONResponse(
            {"items": [chat_json(r) for r in rows], "next": _cursor(rows, query.limit)}
        )

    async def chat(self, request: Request, access: Access) -> Response:
        chats, attempts = await self.history.chat(access.tenant_id, request.path_params["chat_id"])
        if not chats:
            return JSONResponse({"error": "no such chat"}, status_code=404)
        body = chat_json(chats[0])
        body["attempts"] = [
            {
                "status": a["status"],
                "at": _iso(a["at"]),
                "error": {"code": a["error_code"], "message": a["error_message"]}
                if a["error_code"]
                else None,
                "api_calls": a["api_calls"],
                "batch_size": a["batch_size"],
            }
            for a in attempts
        ]
        return JSONResponse(body)

    async def resync(self, request: Request, access: Access) -> Response:
        done = await self.repairs.resync(
            access.tenant_id, request.path_params["chat_id"], self._actor(request, access)
        )
        return _accepted(done)

    async def letters(self, request: Request, access: Access) -> Response:
        limit = max(1, min(int(request.query_params.get("limit") or 100), MAX_LIMIT))
        rows = await self.history.dead_letters(
            access.tenant_id, request.query_params.get("reason") or None, limit
        )
        return JSONResponse(
            {
                "items": [
                    {
                        "id": r["id"],
                        "reason": r["reason"],
                        "chat_id": r["chat_id"],
                        "at": _iso(r["failed_at"]),
                        "message": r["message"],
                        "error_code": r["error_code"],
                        "topic": r["topic"],
                        "replay_requested_at": _iso(r["replay_requested_at"]),
                    }
                    for r in rows
                ]
            }
        )

    async def _json(self, request: Request) -> dict[str, Any]:
        try:
            body = await request.json()
        except ValueError:
            raise BadRequest("the body is not JSON") from None
        if not isinstance(body, dict):
            raise BadRequest("the body is not a JSON object")
        return body

    async def replay(self, request: Request, access: Access) -> Response:
        body = await self._json(request)
        ids, reason = body.get("ids"), body.get("reason")
        if body.get("all") is True:
            ids = None
        elif not (isinstance(ids, list) and ids and all(isinstance(i, str) for i in ids)):
            raise BadRequest('give {"ids": [...]} or {"all": true}')
        if reason is not None and not isinstance(reason, str):
            raise BadRequest("reason: a string")
        done = await self.repairs.replay(
            access.tenant_id, self._actor(request, access), ids=ids, reason=reason
        )
        return _accepted(done)

    async def backfill(self, request: Request, access: Access) -> Response:
        body = await self._json(request)
        start = _parse_time(body.get("from"), "from")
        end = _parse_time(body.get("to"), "to")
        if start is None or end is None:
            raise BadRequest('give {"from": ISO, "to": ISO}')
        done = await self.repairs.backfill(
            access.tenant_id, start, end, self._actor(request, access)
        )
        return _accepted(done)

    async def health(self, request: Request, access: Access) -> Response:
        health = await self.history.health(access.tenant_id)
        health.pop("connection_row")
        return JSONResponse(health)

    async def audit(self, request: Request, access: Access) -> Response:
        rows = await self.history.audit(access.tenant_id)
        return JSONResponse({"items": [{**r, "at": _iso(r["at"])} for r in rows]})

    async def commands(self, request: Request, access: Access) -> Response:
        rows = await self.history.commands(access.tenant_id)
        return JSONResponse(
            {
                "items": [
                    {**r, "sent_at": _iso(r["sent_at"]), "replied_at": _iso(r["replied_at"])}
                    for r in rows
                ]
            }
        )

    # -- the pages ------------------------------------------------------------------------

    async def _view(self, access: Access, params: Mapping[str, str]) -> pages.Page:
        connection = await self.history.connection(access.tenant_id)
        return pages.Page(
            access.tenant_id, params, connection["instance_url"] if connection else None
        )

    async def css(self, request: Request) -> Response:
        return Response(pages.CSS, media_type="text/css", headers={"Cache-Control": "max-age=300"})

    async def overview_page(self, request: Request, access: Access) -> Response:
        view = await self._view(access, request.query_params)
        health = await self.history.health(access.tenant_id)
        charts = await self.history.charts(access.tenant_id)
        drawn = [
            (c.title, stacked_bars(c.title, c.slots, c.values, STATUSES)) for c in charts[:2]
        ] + [
            (
                charts[2].title,
                stacked_bars(
                    charts[2].title,
                    charts[2].slots,
                    charts[2].values,
                    ("api_calls",),
                    limit=float(health["api_calls"]["daily_limit"]),
                ),
            )
        ]
        return HTMLResponse(pages.overview(view, health, drawn))

    async def chats_page(self, request: Request, access: Access) -> Response:
        view = await self._view(access, request.query_params)
        params = request.query_params
        filters = {k: params.get(k, "") for k in ("status", "email", "chat_id", "from", "to")}
        query = _query(access.tenant_id, {**filters, "before": params.get("before", "")})
        rows = await self.history.chats(query)
        active = {k: v for k, v in filters.items() if v}
        return HTMLResponse(pages.chat_list(view, rows, active, _cursor(rows, query.limit)))

    async def chat_page(self, request: Request, access: Access) -> Response:
        view = await self._view(access, request.query_params)
        chats, attempts = await self.history.chat(access.tenant_id, request.path_params["chat_id"])
        if not chats:
            return HTMLResponse(pages.error(404, "no such chat in this tenant's history"), 404)
        return HTMLResponse(
            pages.chat_detail(view, chats, attempts, request.query_params.get("done"))
        )

    async def letters_page(self, request: Request, access: Access) -> Response:
        view = await self._view(access, request.query_params)
        rows = await self.history.dead_letters(access.tenant_id, None, MAX_LIMIT)
        reasons = await self.history.reasons(access.tenant_id)
        flash = request.query_params.get("done")
        return HTMLResponse(pages.dead_letters(view, rows, reasons, flash))

    async def backfill_page(self, request: Request, access: Access) -> Response:
        view = await self._view(access, request.query_params)
        return HTMLResponse(pages.backfill(view, request.query_params.get("done")))

    async def audit_page(self, request: Request, access: Access) -> Response:
        view = await self._view(access, request.query_params)
        events = await self.history.audit(access.tenant_id)
        commands = await self.history.commands(access.tenant_id)
        return HTMLResponse(pages.audit(view, events, commands))

    async def _form(self, request: Request) -> dict[str, list[str]]:
        """The posted form (application/x-www-form-urlencoded, all the pages send)."""
        if "form" not in request.state._state:
            if len(body := await request.body()) > MAX_FORM_BYTES:
                raise BadRequest("the form is too large")
            out: dict[str, list[str]] = {}
            for key, value in parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True):
                out.setdefault(key, []).append(value)
            request.state.form = out
        form: dict[str, list[str]] = request.state.form
        return form

    def _back(
        self, access: Access, form: Mapping[str, list[str]], path: str, done: str
    ) -> Response:
        link = {k: v[0] for k, v in form.items() if k in pages.LINK_PARAMS and v}
        view = pages.Page(access.tenant_id, link, None)
        return RedirectResponse(view.url(path, done=done), status_code=303)

    async def resync_form(self, request: Request, access: Access) -> Response:
        chat_id = request.path_params["chat_id"]
        await self.repairs.resync(access.tenant_id, chat_id, self._actor(request, access))
        form = await self._form(request)
        return self._back(access, form, f"/chats/{chat_id}", "Resync requested.")

    async def replay_form(self, request: Request, access: Access) -> Response:
        form = await self._form(request)
        actor = self._actor(request, access)
        if form.get("all"):
            reason = form["reason"][0] if form.get("reason") else None
            done = await self.repairs.replay(access.tenant_id, actor, reason=reason)
        else:
            ids = form.get("letter") or []
            if not ids:
                raise BadRequest("select the dead letters to replay")
            done = await self.repairs.replay(access.tenant_id, actor, ids=ids)
        message = f"Replay of {done.letters} dead letter(s) requested."
        return self._back(access, form, "/dead-letters", message)

    async def backfill_form(self, request: Request, access: Access) -> Response:
        form = await self._form(request)
        start = _parse_time((form.get("from") or [""])[0], "from")
        end = _parse_time((form.get("to") or [""])[0], "to")
        if start is None or end is None:
            raise BadRequest("give both dates")
        await self.repairs.backfill(access.tenant_id, start, end, self._actor(request, access))
        return self._back(access, form, "/backfill", "Backfill requested.")


def _accepted(done: Requested) -> Response:
    body: dict[str, Any] = {"command_ids": list(done.command_ids)}
    if len(done.command_ids) == 1:
        body["command_id"] = done.command_ids[0]
    if done.letters:
        body["letters"] = done.letters
    return JSONResponse(body, status_code=202)
