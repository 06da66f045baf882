"""Salesforce's OAuth endpoints (production and sandbox login hosts) and describe, over
httpx. The emulator of local runs and tests is reached exactly as a real org would be.

Every failure is classified for the use cases (see `domain.errors`): `invalid_grant` is
a dead token, 5xx/timeouts/connection failures are transient, anything else is a
refusal. Error messages carry Salesforce's error code and description only, passed
through the log redaction too, never a token or a request body.
"""

from __future__ import annotations

import re
import ssl
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import httpx
from prometheus_client import Counter, Gauge
from pydantic import SecretStr

from auth_service.adapters.ports import TokenResponse
from auth_service.config import Settings
from auth_service.domain.connection import parse_identity_url, signature_ok
from auth_service.domain.errors import InvalidGrant, Rejected, TransientError
from chat_runtime.redact import redact_text

SCOPE = "api id refresh_token"
_LIMIT_INFO = re.compile(r"api-usage=(\d+)/(\d+)")


def http_client(settings: Settings) -> httpx.AsyncClient:
    """An httpx client trusting the system CAs plus `AUTH_SF_CA_FILE` (the emulator's).

    `trust_env=False`: the CA is explicit, and a `SSL_CERT_FILE`/proxy variable of the
    machine must not silently change whom auth trusts (`AUTH_SF_PROXY` sets a proxy).
    """
    context = ssl.create_default_context()
    if settings.sf_ca_file is not None:
        context.load_verify_locations(cafile=str(settings.sf_ca_file))
    return httpx.AsyncClient(
        verify=context,
        trust_env=False,
        proxy=settings.sf_proxy,
        timeout=settings.sf_timeout_s,
        headers={"Accept": "application/json"},
    )


class HttpSalesforce:
    def __init__(
        self,
        settings: Settings,
        client: httpx.AsyncClient | None = None,
        *,
        calls: Counter,
        api_remaining: Gauge,
        api_limit: Gauge,
    ) -> None:
        self._settings = settings
        self._client = client
        self._calls = calls
        self._remaining = api_remaining
        self._limit = api_limit
        self._client_id = settings.client_id
        self._client_secret = settings.secret("client_secret")

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()

    def _http(self) -> httpx.AsyncClient:
        # Built on first use: under `make run` the emulator writes its CA file while auth
        # starts; until it exists, calls fail as transient and are retried.
        if self._client is None:
            try:
                self._client = http_client(self._settings)
            except OSError:
                raise TransientError(
                    "ca_file_missing", "AUTH_SF_CA_FILE not readable yet"
                ) from None
        return self._client

    def authorize_url(self, *, sandbox: bool, state: str, code_challenge: str) -> str:
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self._client_id,
                "redirect_uri": self._settings.redirect_uri,
                "scope": SCOPE,
                "state": state,
                "code_challenge": code_challenge,
                "code_challenge_method": "S256",
            }
        )
        return f"{self._settings.login_url(sandbox)}/services/oauth2/authorize?{query}"

    async def exchange_code(
        self, *, tenant_id: str, sandbox: bool, code: str, code_verifier: str
    ) -> TokenResponse:
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self._settings.redirect_uri,
            "code_verifier": code_verifier,
        }
        return await self._token(tenant_id, sandbox, "oauth_code", form)

    async def refresh(self, *, tenant_id: str, sandbox: bool, refresh_token: str) -> TokenResponse:
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        return await self._token(tenant_id, sandbox, "oauth_refresh", form)

    async def revoke(self, *, tenant_id: str, sandbox: bool, token: str) -> bool:
        """True when Salesforce revoked it, False when it did not know it (already dead)."""
        url = f"{self._settings.login_url(sandbox)}/services/oauth2/revoke"
        response = await self._send(tenant_id, "oauth_revoke", "POST", url, data={"token": token})
        if response.status_code == 200:
            return True
        if response.status_code == 400:
            return False
        raise _refusal(response)

    async def username(self, *, tenant_id: str, token: TokenResponse) -> str:
        response = await self._send(
            tenant_id, "identity", "GET", token.identity_url, bearer=token.access_token
        )
        if response.status_code != 200:
            raise _refusal(response)
        return str(response.json()["username"])

    async def describe_global(
        self, *, tenant_id: str, instance_url: str, access_token: str
    ) -> Mapping[str, Any]:
        version = self._settings.sf_api_version
        url = f"{instance_url.rstrip('/')}/services/data/v{version}/sobjects/"
        response = await self._send(
            tenant_id, "describe_global", "GET", url, bearer=SecretStr(access_token)
        )
        if response.status_code != 200:
            raise _refusal(response)
        body: Mapping[str, Any] = response.json()
        return body

    async def describe_sobject(
        self, *, tenant_id: str, instance_url: str, access_token: str, sobject: str
    ) -> Mapping[str, Any] | None:
        """`GET /sobjects/{sobject}/describe`, or None when the org has no such object (or
        the connected user cannot see it: Salesforce answers 404 for both)."""
        version = self._settings.sf_api_version
        url = f"{instance_url.rstrip('/')}/services/data/v{version}/sobjects/{sobject}/describe"
        response = await self._send(
            tenant_id, "describe_sobject", "GET", url, bearer=SecretStr(access_token)
        )
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise _refusal(response)
        body: Mapping[str, Any] = response.json()
        return body

    async def _token(
        self, tenant_id: str, sandbox: bool, operation: str, form: dict[str, str]
    ) -> TokenResponse:
        url = f"{self._settings.login_url(sandbox)}/services/oauth2/token"
        form |= {"client_id": self._client_id, "client_secret": self._client_secret}
        response = await self._send(tenant_id, operation, "POST", url, data=form)
        if response.status_code != 200:
            raise _refusal(response)
        return self._token_response(response.json())

    def _token_response(self, body: Mapping[str, Any]) -> TokenResponse:
        try:
            identity, issued_at = str(body["id"]), str(body["issued_at"])
            signature = body.get("signature")
            if signature is not None and not signature_ok(
                self._client_secret, identity, issued_at, str(signature)
            ):
                raise Rejected("invalid_signature", "the token answer's signature does not match")
            org_id, user_id = parse_identity_url(identity)
            refresh = body.get("refresh_token")
            return TokenResponse(
                access_token=SecretStr(str(body["access_token"])),
                refresh_token=SecretStr(str(refresh)) if refresh else None,
                instance_url=str(body["instance_url"]).rstrip("/"),
                identity_url=identity,
                org_id=org_id,
                user_id=user_id,
                issued_at=datetime.fromtimestamp(int(issued_at) / 1000, UTC),
            )
        except (KeyError, ValueError) as exc:
            raise Rejected("bad_token_response", type(exc).__name__) from None

    async def _send(
        self,
        tenant_id: str,
        operation: str,
        method: str,
        url: str,
        *,
        data: dict[str, str] | None = None,
        bearer: SecretStr | None = None,
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {bearer.get_secret_value()}"} if bearer else None
        try:
            response = await self._http().request(method, url, data=data, headers=headers)
        except httpx.TimeoutException:
            self._calls.labels(tenant_id, operation, "timeout").inc()
            raise TransientError("timeout", f"Salesforce did not answer {operation}") from None
        except httpx.TransportError as exc:
            self._calls.labels(tenant_id, operation, "unreachable").inc()
            raise TransientError("unreachable", type(exc).__name__) from None
        outcome = "ok" if response.status_code < 400 else f"http_{response.status_code}"
        self._calls.labels(tenant_id, operation, outcome).inc()
        self._note_limits(tenant_id, response)
        return response

    def _note_limits(self, tenant_id: str, response: httpx.Response) -> None:
        match = _LIMIT_INFO.search(response.headers.get("Sforce-Limit-Info", ""))
        if match:
            used, limit = int(match[1]), int(match[2])
            self._remaining.labels(tenant_id).set(limit - used)
            self._limit.labels(tenant_id).set(limit)


def _refusal(response: httpx.Response) -> Exception:
    """The domain error for a non-success answer (OAuth `{error}` or REST `[{errorCode}]`)."""
    status = response.status_code
    code, message = f"http_{status}", ""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and "error" in body:
        code, message = str(body["error"]), str(body.get("error_description", ""))
    elif isinstance(body, list) and body and isinstance(body[0], dict):
        code, message = str(body[0].get("errorCode", code)), str(body[0].get("message", ""))
    message = redact_text(message)[:200]
    if status >= 500:
        return TransientError(code, message)
    if code == "invalid_grant":
        return InvalidGrant(code, message)
    return Rejected(code, message)
