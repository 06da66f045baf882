"""The OAuth token endpoint (authorization_code with PKCE, refresh_token) and revoke."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

from starlette.requests import Request
from starlette.responses import Response

from sf_emulator import credentials
from sf_emulator.errors import OAuthError
from sf_emulator.http.oauth_base import LoginHost
from sf_emulator.http.responses import base_url, form, json_response
from sf_emulator.store.orgs import App, Org

REFRESH_SCOPES = {"refresh_token", "offline_access", "full"}


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _client(request: Request, data: dict[str, str]) -> tuple[str, str | None]:
    """client_id and client_secret from the form or from HTTP Basic authentication."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("basic "):
        decoded = base64.b64decode(header[6:]).decode()
        client_id, _, secret = decoded.partition(":")
        return client_id, secret
    return data.get("client_id", ""), data.get("client_secret")


class _Refused(OAuthError):
    """A refresh token that is not live (unknown, revoked, expired or rotated)."""

    def __init__(self, token: str) -> None:
        super().__init__("invalid_grant", "expired access/refresh token")
        self.token = token


class TokenEndpoints(LoginHost):
    async def token(self, request: Request) -> Response:
        data = await form(request)
        client_id, secret = _client(request, data)
        try:
            app = self.emu.store.orgs.app(client_id)
            if app is None:
                raise OAuthError("invalid_client_id", "client identifier invalid")
            with self.emu.store.db.transaction():
                grant_type = data.get("grant_type")
                if grant_type == "authorization_code":
                    body = self._code_grant(request, data, app, secret)
                elif grant_type == "refresh_token":
                    body = self._refresh_grant(request, data, app, secret)
                else:
                    raise OAuthError("unsupported_grant_type", "grant type not supported")
        except _Refused as exc:
            # Outside the grant's rolled-back transaction: a rotated token used again
            # revokes its whole family [S4].
            with self.emu.store.db.transaction():
                self.emu.store.tokens.revoke_family_of_rotated(exc.token)
            return json_response(exc.status, exc.body())
        except OAuthError as exc:
            return json_response(exc.status, exc.body())
        return json_response(200, body, {"Cache-Control": "no-store"})

    def _code_grant(
        self, request: Request, data: dict[str, str], app: App, secret: str | None
    ) -> dict[str, str]:
        store = self.emu.store
        code = data.get("code", "")
        grant = store.tokens.take_code(code)
        if grant is None and store.tokens.code_used(code):
            raise OAuthError("invalid_grant", "expired authorization code")  # [S27]
        if grant is None or grant.client_id != app.client_id:
            raise OAuthError("invalid_grant", "invalid authorization code")
        verifier = data.get("code_verifier")
        granting = store.orgs.get(grant.org_id)
        needs_secret = granting is None or granting.settings.require_client_secret
        public_client = secret is None and grant.code_challenge is not None and not needs_secret
        if not public_client and not hmac.compare_digest(secret or "", app.client_secret):
            raise OAuthError("invalid_client", "invalid client credentials")
        if data.get("redirect_uri") != grant.redirect_uri:
            raise OAuthError("redirect_uri_mismatch", "redirect_uri must match configuration")
        if grant.login_base != self._login_base(request):
            raise OAuthError("invalid_grant", "authentication failure")
        if grant.code_challenge and (not verifier or _s256(verifier) != grant.code_challenge):
            raise OAuthError("invalid_grant", "invalid code verifier")
        org = store.orgs.get(grant.org_id)
        assert org is not None
        refresh = None
        if set(grant.scope.split()) & REFRESH_SCOPES:
            refresh = credentials.new_refresh_token()
            store.tokens.add_refresh(
                refresh, org.id, grant.user_id, app.client_id, org.settings.refresh_idle_s
            )
        access = credentials.start_session(store, org, grant.user_id, None, app.client_id, refresh)
        return self._body(request, org, grant.user_id, app, access, refresh, grant.scope)

    def _refresh_grant(
        self, request: Request, data: dict[str, str], app: App, secret: str | None
    ) -> dict[str, str]:
        store = self.emu.store
        refresh = data.get("refresh_token", "")
        owner = store.tokens.refresh(refresh)
        if owner is None:
            raise _Refused(refresh)
        org = store.orgs.get(owner[0])
        if org is None or org.is_sandbox != self._sandbox(request):
            raise OAuthError("invalid_grant", "expired access/refresh token")
        if owner[2] != app.client_id or not hmac.compare_digest(secret or "", app.client_secret):
            raise OAuthError("invalid_client", "invalid client credentials")
        settings = org.settings
        if settings.refresh_token_rotation:
            rotated = credentials.new_refresh_token()
            store.tokens.rotate(refresh, rotated, settings.refresh_idle_s)
            access = credentials.start_session(store, org, owner[1], None, app.client_id, rotated)
            return self._body(request, org, owner[1], app, access, rotated, "api refresh_token")
        store.tokens.touch_refresh(refresh, settings.refresh_idle_s)
        access = credentials.start_session(store, org, owner[1], None, app.client_id, refresh)
        return self._body(request, org, owner[1], app, access, None, "api refresh_token")

    def _body(
        self,
        request: Request,
        org: Org,
        user_id: str,
        app: App,
        access: str,
        refresh: str | None,
        scope: str,
    ) -> dict[str, str]:
        issued_at = str(int(time.time() * 1000))
        identity = f"{self._login_base(request)}/id/{org.id}/{user_id}"
        body = {"access_token": access}
        if refresh:
            body["refresh_token"] = refresh
        body.update(
            signature=credentials.signature(app.client_secret, identity, issued_at),
            scope=scope,
            instance_url=base_url(request),
            id=identity,
            token_type="Bearer",  # noqa: S106 - a token type, not a secret
            issued_at=issued_at,
        )
        return body

    async def revoke(self, request: Request) -> Response:
        data = await form(request) if request.method == "POST" else dict(request.query_params)
        with self.emu.store.db.transaction():
            revoked = self.emu.store.tokens.revoke(data.get("token", ""))
        if not revoked:
            return json_response(
                400, {"error": "invalid_token", "error_description": "invalid token"}
            )
        return Response(status_code=200)
