"""auth's HTTP routes: the connect page, its actions, the OAuth callback, admin JSON.

    GET  /connect?tenant=&expires=&sig=     the page (or with the admin bearer token)
    POST /connect                           page actions (form: tenant, expires, sig, action)
    GET  /oauth/callback?code=&state=       where Salesforce sends the admin back
    GET  /admin/status?tenant=              the status as JSON
    POST /admin/connect-link?tenant=        a signed page link (admin token only)
    POST /admin/permission-check?tenant=    run the permission check now
    POST /admin/disconnect?tenant=          revoke at Salesforce and forget the token

One Starlette app serves them; FastStream's ASGI app routes these exact paths to it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import parse_qsl, urlsplit

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from auth_service.entrypoints.access import Access, Denied, Gate
from auth_service.entrypoints.pages import connect_page, error_page
from auth_service.handlers.connect import ConnectFailed, ConnectFlow, StateError
from auth_service.handlers.permissions import PermissionChecks
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
)
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
        login_urls: tuple[str, ...],
        state_ttl_s: int,
        secure_cookies: bool,
    ) -> None:
        self._gate = gate
        self._connect = connect
        self._status = status
        self._permissions = permissions
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
                params.update(parse_qsl((await request.body()).decode(), keep_blank_values=True))
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
        status = await self._status.status(access.tenant_id)
        notice = request.query_params.get("notice")
        html = connect_page(status, self._gate.link_params(access.tenant_id), notice)
        return self._html(html)

    async def act(self, request: Request, access: Access) -> Response:
        tenant = access.tenant_id
        action = request.state.params.get("action", "")
        if action in ("connect_production", "connect_sandbox"):
            started = self._connect.start(tenant, sandbox=action == "connect_sandbox")
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
            await self._connect.disconnect(tenant, initiated_by=access.via)
            return self._back(tenant, "disconnected")
        if action == "check":
            try:
                await self._permissions.check(tenant)
            except Exception:  # noqa: BLE001 - the page shows why on reload
                return self._back(tenant, "check_failed")
            return self._back(tenant, "checked")
        return self._html(error_page("Unknown action", "Use the buttons of the page."), 400)

    async def callback(self, request: Request) -> Response:
        query = request.query_params
        try:
            done = await self._connect.complete(
                state_param=query.get("state", ""),
                code=query.get("code", ""),
                error=query.get("error", ""),
                browser_nonce=request.cookies.get(FLOW_COOKIE, ""),
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
        event = await self._connect.disconnect(access.tenant_id, initiated_by=access.via)
        return JSONResponse(
            {
                "disconnected": event is not None,
                "revoked_at_salesforce": bool(event and event.revoked_at_salesforce),
            }
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


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
