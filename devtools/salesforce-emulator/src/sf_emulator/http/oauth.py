"""OAuth 2.0 web server flow: the authorize page, and the identity URL.

Production orgs log in at the root (login.salesforce.com); sandboxes at the sandbox
prefix (test.salesforce.com). A user of one kind of org cannot log in at the other's.
"""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit, urlunsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from sf_emulator import credentials
from sf_emulator.emulator import session_of
from sf_emulator.http.oauth_base import LoginHost
from sf_emulator.http.oauth_page import login_page
from sf_emulator.http.oauth_token import TokenEndpoints
from sf_emulator.http.responses import base_url, form, json_response
from sf_emulator.store.tokens import AuthCode

BAD_LOGIN = (
    "Please check your username and password. If you still can't log in, contact "
    "your Salesforce administrator."
)


def _redirect(uri: str, **params: str) -> RedirectResponse:
    parts = urlsplit(uri)
    query = "&".join(p for p in (parts.query, urlencode(params)) if p)
    return RedirectResponse(urlunsplit(parts._replace(query=query)), status_code=302)


class OAuthEndpoints(LoginHost):
    def routes(self) -> list[Route]:
        tokens = TokenEndpoints(self.emu)
        out = []
        for prefix in ("", self.emu.config.sandbox_prefix):
            out += [
                Route(
                    f"{prefix}/services/oauth2/authorize", self.authorize, methods=["GET", "POST"]
                ),
                Route(f"{prefix}/services/oauth2/token", tokens.token, methods=["POST"]),
                Route(f"{prefix}/services/oauth2/revoke", tokens.revoke, methods=["GET", "POST"]),
                Route(f"{prefix}/id/{{org_id}}/{{user_id}}", self.identity, methods=["GET"]),
            ]
        # OpenID Connect UserInfo, at the instance (as Salesforce serves it at My Domain too).
        out.append(Route("/services/oauth2/userinfo", self.userinfo, methods=["GET", "POST"]))
        return out

    async def authorize(self, request: Request) -> Response:
        params = dict(request.query_params)
        posted = await form(request) if request.method == "POST" else {}
        params.update(posted)
        sandbox = self._sandbox(request)
        app = self.emu.store.orgs.app(params.get("client_id", ""))
        if app is None:
            return HTMLResponse(
                "<h1>error=invalid_client_id</h1><p>client identifier invalid</p>", 400
            )
        uri = params.get("redirect_uri", "")
        if not uri or (app.redirect_uris and uri not in app.redirect_uris):
            return HTMLResponse(
                "<h1>error=redirect_uri_mismatch</h1><p>redirect_uri must match configuration</p>",
                400,
            )
        state = {"state": params["state"]} if "state" in params else {}
        if params.get("response_type") != "code":
            return _redirect(
                uri,
                error="unsupported_response_type",
                error_description="response type not supported",
                **state,
            )
        if params.get("code_challenge") and params.get("code_challenge_method", "S256") != "S256":
            return _redirect(
                uri,
                error="invalid_request",
                error_description="invalid code_challenge_method",
                **state,
            )
        if request.method == "GET":
            return HTMLResponse(login_page(params, sandbox))
        if posted.get("action") == "deny":
            return _redirect(
                uri,
                error="access_denied",
                error_description="end-user denied authorization",
                **state,
            )
        store = self.emu.store
        who = store.orgs.check_password(posted.get("username", ""), posted.get("password", ""))
        org = store.orgs.get(who[0]) if who else None
        if who is None or org is None or org.is_sandbox != sandbox:
            return HTMLResponse(login_page(params, sandbox, BAD_LOGIN))
        if org.settings.require_pkce and not params.get("code_challenge"):
            # Salesforce refuses before the login page (the requirement is the app's); here
            # it is the org's, so it is known once the user has logged in [S5, S26].
            return _redirect(
                uri,
                error="invalid_request",
                error_description="missing required code challenge (code_challenge)",
                **state,
            )
        code = credentials.new_code()
        grant = AuthCode(
            org.id,
            who[1],
            app.client_id,
            uri,
            params.get("code_challenge"),
            params.get("scope") or "api refresh_token",
            self._login_base(request),
        )
        with store.db.transaction():
            store.tokens.add_code(code, grant)
        return _redirect(uri, code=code, **state)

    async def userinfo(self, request: Request) -> Response:
        """Who the bearer token is: the OpenID Connect UserInfo claims Salesforce answers."""
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        session = session_of(self.emu, token.strip()) if scheme.lower() == "bearer" else None
        if session is None:
            return Response("Bad_OAuth_Token", 403)
        org, user_id = session
        stored = self.emu.store.records.get(org.id, user_id)
        user = stored.data if stored is not None else {}
        return json_response(
            200,
            {
                "sub": f"{self._login_base(request)}/id/{org.id}/{user_id}",
                "user_id": user_id,
                "organization_id": org.id,
                "preferred_username": user.get("Username"),
                "name": user.get("Name"),
                "email": user.get("Email"),
                "email_verified": True,
                "active": user.get("IsActive", True),
                "user_type": "STANDARD",
                "locale": "en_US",
                "language": "en_US",
            },
        )

    async def identity(self, request: Request) -> Response:
        store = self.emu.store
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        session = session_of(self.emu, token.strip()) if scheme.lower() == "bearer" else None
        org_id, user_id = request.path_params["org_id"], request.path_params["user_id"]
        if session is None:
            return Response("Bad_OAuth_Token", 403)
        if session[0].id != org_id:
            return Response("Bad_Id", 403)
        stored = store.records.get(org_id, user_id)
        if stored is None or stored.sobject != "User":
            return Response("Bad_Id", 404)
        user = stored.data
        rest = f"{base_url(request)}/services/data/v{{version}}/"
        return json_response(
            200,
            {
                "id": f"{self._login_base(request)}/id/{org_id}/{user_id}",
                "asserted_user": True,
                "user_id": user_id,
                "organization_id": org_id,
                "username": user.get("Username"),
                "nick_name": user.get("Alias"),
                "display_name": user.get("Name"),
                "email": user.get("Email"),
                "active": user.get("IsActive", True),
                "user_type": "STANDARD",
                "language": "en_US",
                "locale": "en_US",
                "utcOffset": 0,
                "urls": {"rest": rest, "sobjects": rest + "sobjects/", "query": rest + "query/"},
            },
        )
