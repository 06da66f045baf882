"""auth's HTTP routes: the connect page, its actions, the OAuth callback, admin JSON.

    GET  /connect?tenant=&expires=&sig=     the page (or with the admin bearer token)
    POST /connect                           page actions (form: tenant, expires, sig, action)
    GET  /oauth/callback?code=&state=       where Salesforce sends the admin back
    GET  /admin/status?tenant=              the status as JSON
    POST /admin/connect-link?tenant=        a signed page link (admin token only)
    POST /admin/permission-check?tenant=    run the permission check now
    POST /admin/disconnect?tenant=          revoke at Salesforce and forget the token
    GET  /admin/settings?tenant=            the tenant's settings (or the defaults) as JSON
    PUT  /admin/settings?tenant=            check settings against describe, then save

One Starlette app serves them; FastStream's ASGI app routes these exact paths to it.
Connecting, disconnecting and saving settings are told who asked (`Caller`: the admin
token or the tenant's link, and the client's address) for the audit trail.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from auth_service.domain.audit import Caller
from auth_service.domain.settings import SettingsProblem
from auth_service.entrypoints.access import Access, Denied, Gate
from auth_service.entrypoints.pages import connect_page, error_page
from auth_service.handlers.connect import ConnectFailed, ConnectFlow, StateError
from auth_service.handlers.permissions import PermissionChecks
from auth_service.handlers.settings import (
    SettingsInvalid,
    SettingsUnchecked,
    TenantSettingsEditor,
)
from auth_service.handlers.status import StatusQuery
from chat_runtime.logging import get_logger

log = get_logger(__name__)

PATHS = (
    "/connect",
    "/oauth/callback",
    "/admin/status",
    "/admin/connect-link",
    "/admin/permission-check",
    "/admin/disconnect",
    "/admin/settings",
)
MAX_BODY_BYTES = 64 * 1024
MAX_MAPPING_ROWS = 100
_MAP_ROW = re.compile(r"^map_(?:object|source|value|translate|default|target)_(\d{1,3})$")
FLOW_COOKIE = "auth_oauth_flow"
CALLBACK_PATH = "/oauth/callback"

Handler = Callable[[Request], Awaitable[Response]]


class Web:
    def __init__(
        self,
        *,
        gate: Gate,
        connect: ConnectFlow,
        status: StatusQuery,
        permissions: PermissionChecks,
        settings: TenantSettingsEditor,
        login_urls: tuple[str, ...],
        state_ttl_s: int,
        secure_cookies: bool,
    ) -> None:
        self._gate = gate
        self._connect = connect
        self._status = status
        self._permissions = permissions
        self._settings = settings
        self._state_ttl_s = state_ttl_s
        self._secure = secure_cookies
        origins = " ".join(sorted({_origin(u) for u in login_urls}))
        self._csp = (
            "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; "
            f"frame-ancestors 'none'; form-action 'self' {origins}"
        )

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/connect", self._guarded(self.page), methods=["GET"]),
                Route("/connect", self._guarded(self.act, form=True), methods=["POST"]),
                Route(CALLBACK_PATH, self.callback, methods=["GET"]),
                Route("/admin/status", self._guarded(self.status_json), methods=["GET"]),
                Route(
                    "/admin/connect-link",
                    self._guarded(self.connect_link, admin_only=True),
                    methods=["POST"],
                ),
                Route("/admin/permission-check", self._guarded(self.check_json), methods=["POST"]),
                Route("/admin/disconnect", self._guarded(self.disconnect_json), methods=["POST"]),
                Route("/admin/settings", self._guarded(self.settings_json), methods=["GET"]),
                Route("/admin/settings", self._guarded(self.save_settings_json), methods=["PUT"]),
            ]
        )

    def _guarded(
        self,
        handler: Callable[[Request, Access], Awaitable[Response]],
        *,
        form: bool = False,
        admin_only: bool = False,
    ) -> Handler:
        async def endpoint(request: Request) -> Response:
            params = dict(request.query_params)
            if form:
                # Read before the gate can check the link it carries: bounded, so a stranger
                # cannot make auth buffer any amount of memory.
                raw = await bounded_body(request, MAX_BODY_BYTES)
                if raw is None:
                    return _too_large()
                text = raw.decode("utf-8", "replace")
                params.update(parse_qsl(text, keep_blank_values=True))
            try:
                access = self._gate.check(
                    request.headers.get("authorization"), params, admin_only=admin_only
                )
            except Denied as exc:
                log.info("request refused", path=request.url.path, status=exc.status)
                return self._refusal(request, exc)
            request.state.params = params
            return await handler(request, access)

        return endpoint

    async def page(self, request: Request, access: Access) -> Response:
        notice = request.query_params.get("notice")
        return await self._page(access.tenant_id, notice)

    async def _page(
        self,
        tenant: str,
        notice: str | None = None,
        *,
        values: Mapping[str, Any] | None = None,
        problems: tuple[SettingsProblem, ...] = (),
        error: str | None = None,
        status_code: int = 200,
    ) -> Response:
        status = await self._status.status(tenant)
        if values is None and status.connected:
            values = self._settings.current(tenant).model_dump(mode="json")
        html = connect_page(
            status,
            self._gate.link_params(tenant),
            notice,
            settings=values,
            problems=problems,
            settings_error=error,
        )
        return self._html(html, status_code)

    async def act(self, request: Request, access: Access) -> Response:
        tenant = access.tenant_id
        action = request.state.params.get("action", "")
        if action in ("connect_production", "connect_sandbox"):
            started = self._connect.start(
                tenant, sandbox=action == "connect_sandbox", caller=_caller(request, access)
            )
            response = RedirectResponse(started.authorize_url, status_code=303)
            response.set_cookie(
                FLOW_COOKIE,
                started.state.nonce,
                max_age=self._state_ttl_s,
                path=CALLBACK_PATH,
                secure=self._secure,
                httponly=True,
                samesite="lax",
            )
            return response
        if action == "disconnect":
            await self._connect.disconnect(
                tenant, initiated_by=access.via, caller=_caller(request, access)
            )
            return self._back(tenant, "disconnected")
        if action == "check":
            try:
                await self._permissions.check(tenant)
            except Exception:  # noqa: BLE001 - the page shows why on reload
                return self._back(tenant, "check_failed")
            return self._back(tenant, "checked")
        if action == "save_settings":
            return await self._save_from_form(request, access)
        return self._html(error_page("Unknown action", "Use the buttons of the page."), 400)

    async def callback(self, request: Request) -> Response:
        query = request.query_params
        try:
            done = await self._connect.complete(
                state_param=query.get("state", ""),
                code=query.get("code", ""),
                error=query.get("error", ""),
                browser_nonce=request.cookies.get(FLOW_COOKIE, ""),
                source_ip=_client_ip(request),
            )
        except StateError as exc:
            log.warning("OAuth callback refused", reason=exc.reason)
            return self._html(
                error_page(
                    "Sign-in not accepted",
                    f"This Salesforce sign-in cannot be used ({exc.reason}). "
                    "Start again from the connect page.",
                ),
                400,
            )
        except ConnectFailed as exc:
            log.warning("connect failed", reason=str(exc))
            return self._html(error_page("Salesforce connection failed", str(exc)), 502)
        response = self._back(done.tenant_id, done.outcome)
        response.delete_cookie(FLOW_COOKIE, path=CALLBACK_PATH)
        return response

    async def status_json(self, request: Request, access: Access) -> Response:
        status = await self._status.status(access.tenant_id)
        return JSONResponse(status.as_json(), headers={"Cache-Control": "no-store"})

    async def connect_link(self, request: Request, access: Access) -> Response:
        params = self._gate.link_params(access.tenant_id)
        body = {"url": self._gate.page_url(access.tenant_id), "expires": int(params["expires"])}
        return JSONResponse(body, headers={"Cache-Control": "no-store"})

    async def check_json(self, request: Request, access: Access) -> Response:
        try:
            event = await self._permissions.check(access.tenant_id)
        except Exception as exc:  # noqa: BLE001 - reported to the admin, not raised
            code = str(getattr(exc, "code", type(exc).__name__))
            message = str(getattr(exc, "message", "")) or "the check could not run"
            return JSONResponse({"error": code, "message": message}, status_code=409)
        return JSONResponse({"ok": event.ok, "missing": [m.model_dump() for m in event.missing]})

    async def disconnect_json(self, request: Request, access: Access) -> Response:
        event = await self._connect.disconnect(
            access.tenant_id, initiated_by=access.via, caller=_caller(request, access)
        )
        return JSONResponse(
            {
                "disconnected": event is not None,
                "revoked_at_salesforce": bool(event and event.revoked_at_salesforce),
            }
        )

    async def _save_from_form(self, request: Request, access: Access) -> Response:
        tenant = access.tenant_id
        form: Mapping[str, str] = request.state.params
        body = settings_body_from_form(form, self._settings.current(tenant).model_dump(mode="json"))
        try:
            await self._settings.save(
                tenant, body, updated_by=f"auth:{access.via}", caller=_caller(request, access)
            )
        except SettingsInvalid as exc:
            return await self._page(tenant, values=body, problems=exc.problems, status_code=422)
        except SettingsUnchecked as exc:
            status = 409 if not exc.connected else 424
            return await self._page(tenant, values=body, error=exc.message, status_code=status)
        return self._back(tenant, "settings_saved")

    async def settings_json(self, request: Request, access: Access) -> Response:
        tenant = access.tenant_id
        body = {
            "settings": self._settings.current(tenant).model_dump(mode="json"),
            "stored": self._settings.stored(tenant),
        }
        return JSONResponse(body, headers={"Cache-Control": "no-store"})

    async def save_settings_json(self, request: Request, access: Access) -> Response:
        raw = await bounded_body(request, MAX_BODY_BYTES)
        if raw is None:
            return _too_large()
        try:
            body = json.loads(raw)
        except ValueError:
            return _json_error(400, "bad_json", "the body is not JSON")
        try:
            saved = await self._settings.save(
                access.tenant_id,
                body,
                updated_by=f"auth:{access.via}",
                caller=_caller(request, access),
            )
        except SettingsInvalid as exc:
            return JSONResponse(
                {
                    "error": "invalid_settings",
                    "message": "the settings were not saved",
                    "problems": [p.as_json() for p in exc.problems],
                },
                status_code=422,
                headers={"Cache-Control": "no-store"},
            )
        except SettingsUnchecked as exc:
            return _json_error(424 if exc.connected else 409, exc.code, exc.message)
        return JSONResponse(
            {"settings": saved.model_dump(mode="json"), "stored": True},
            headers={"Cache-Control": "no-store"},
        )

    def _back(self, tenant_id: str, notice: str) -> Response:
        return RedirectResponse(self._gate.page_url(tenant_id, notice=notice), status_code=303)

    def _refusal(self, request: Request, exc: Denied) -> Response:
        headers = {"WWW-Authenticate": 'Bearer realm="auth"'} if exc.status == 401 else {}
        if request.url.path.startswith("/admin/"):
            return JSONResponse({"error": exc.reason}, status_code=exc.status, headers=headers)
        response = self._html(error_page("Not allowed", exc.reason), exc.status)
        response.headers.update(headers)
        return response

    def _html(self, html: str, status: int = 200) -> HTMLResponse:
        return HTMLResponse(
            html,
            status_code=status,
            headers={
                "Cache-Control": "no-store",
                # The page URL carries a signed link: never send it on as a referrer.
                "Referrer-Policy": "no-referrer",
                "X-Content-Type-Options": "nosniff",
                "X-Frame-Options": "DENY",
                "Content-Security-Policy": self._csp,
            },
        )


def settings_body_from_form(form: Mapping[str, str], current: Mapping[str, Any]) -> dict[str, Any]:
    """The settings body the page's form asks for: the current settings, with the fields
    the form shows replaced (an unticked checkbox is absent, so False; empty mapping rows
    are dropped)."""
    body = {k: v for k, v in current.items() if k not in ("message_id", "occurred_at")}
    for name in ("mode", "update_policy", "company_placeholder", "default_phone_region"):
        if name in form:
            body[name] = form[name].strip()
    body["match_by_phone"] = form.get("match_by_phone") == "on"
    indexes = sorted({int(m[1]) for key in form if (m := _MAP_ROW.fullmatch(key))})[
        :MAX_MAPPING_ROWS
    ]
    rules = []
    for index in indexes:
        row = {p: form.get(f"map_{p}_{index}", "").strip() for p in _MAP_PARTS}
        if any(row.values()):
            rule: dict[str, Any] = {k: v for k, v in row.items() if v and k != "translate"}
            rule.setdefault("object", "")
            rule.setdefault("target", "")
            if row["translate"]:
                rule["translate"] = translations_from_text(row["translate"])
            rules.append(rule)
    body["field_mapping"] = rules
    return body


_MAP_PARTS = ("object", "source", "value", "translate", "default", "target")


def translations_from_text(text: str) -> dict[str, str]:
    """The form's translation box, `from = to` per line, as a table; a line without `=`
    keeps an empty value, which the contract then refuses naming the line."""
    table: dict[str, str] = {}
    for line in text.splitlines():
        if line.strip():
            key, _, value = line.partition("=")
            table[key.strip()] = value.strip()
    return table


async def bounded_body(request: Request, limit: int) -> bytes | None:
    """The request's body, or None as soon as it is known to be over `limit` bytes: from
    its Content-Length before reading, else while it streams in."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isascii() or not declared.isdigit()):
        return None
    if declared is not None and int(declared[:20]) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large() -> JSONResponse:
    return _json_error(413, "too_large", f"the body is over {MAX_BODY_BYTES} bytes")


def _json_error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse(
        {"error": code, "message": message},
        status_code=status,
        headers={"Cache-Control": "no-store"},
    )


def _client_ip(request: Request) -> str | None:
    # The peer's address as the server saw it (behind a proxy, the proxy's, unless the
    # server is told to trust its forwarded headers).
    return request.client.host if request.client is not None else None


def _caller(request: Request, access: Access) -> Caller:
    return Caller.of(access.via, _client_ip(request))


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
