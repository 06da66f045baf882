"""The OAuth adapter over a mocked transport: what it sends, how it classifies failures."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs

import httpx
import pytest
from prometheus_client import CollectorRegistry

from auth_service.adapters.salesforce import HttpSalesforce
from auth_service.config import Settings
from auth_service.domain.errors import InvalidGrant, Rejected, TransientError
from auth_service.metrics import build_auth_metrics
from tests.unit.auth.fakes import b64key

SECRET = "client-secret"
LOGIN = "https://login.example"
IDENTITY = f"{LOGIN}/id/00D5g000004XyZaEAK/0055g00000AbCdEAAV"


def settings() -> Settings:
    return Settings(
        client_id="3MVG9.app",
        client_secret=SECRET,
        admin_token="a",
        link_secret="l",
        encryption_keys={"k1": b64key()},
        sf_login_url=LOGIN,
        sf_sandbox_login_url=f"{LOGIN}/sandbox",
    )


def token_body(**overrides: str) -> dict[str, str]:
    issued = "1767225600000"
    signature = base64.b64encode(
        hmac.new(SECRET.encode(), (IDENTITY + issued).encode(), hashlib.sha256).digest()
    ).decode()
    body = {
        "access_token": "00D5g000004XyZa!secret-access",
        "instance_url": "https://acme.my.salesforce.com",
        "id": IDENTITY,
        "issued_at": issued,
        "signature": signature,
        "token_type": "Bearer",
    }
    body.update(overrides)
    return body


def adapter(
    handler: Callable[[httpx.Request], httpx.Response],
) -> tuple[HttpSalesforce, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    metrics = build_auth_metrics(CollectorRegistry())
    client = httpx.AsyncClient(transport=httpx.MockTransport(record))
    sf = HttpSalesforce(
        settings(),
        client,
        calls=metrics.suite.salesforce_calls,
        api_remaining=metrics.suite.salesforce_api_remaining,
        api_limit=metrics.suite.salesforce_api_limit,
    )
    return sf, seen


async def test_refresh_posts_the_grant_to_the_right_host_and_parses_the_answer() -> None:
    sf, seen = adapter(lambda r: httpx.Response(200, json=token_body()))
    response = await sf.refresh(tenant_id="t1", sandbox=True, refresh_token="5Aep.r")
    assert str(seen[0].url) == f"{LOGIN}/sandbox/services/oauth2/token"
    form = parse_qs(seen[0].content.decode())
    assert form["grant_type"] == ["refresh_token"]
    assert form["refresh_token"] == ["5Aep.r"]
    assert form["client_secret"] == [SECRET]
    assert response.org_id == "00D5g000004XyZaEAK"
    assert response.user_id == "0055g00000AbCdEAAV"
    assert response.access_token.get_secret_value() == "00D5g000004XyZa!secret-access"
    assert response.refresh_token is None
    assert response.issued_at.year == 2026


async def test_code_exchange_sends_the_verifier_and_redirect_uri() -> None:
    sf, seen = adapter(lambda r: httpx.Response(200, json=token_body(refresh_token="5Aep.new")))
    response = await sf.exchange_code(
        tenant_id="t1", sandbox=False, code="aPrx1", code_verifier="v" * 50
    )
    form = parse_qs(seen[0].content.decode())
    assert form["code_verifier"] == ["v" * 50]
    assert form["redirect_uri"] == ["http://127.0.0.1:8004/oauth/callback"]
    assert response.refresh_token is not None


def test_authorize_url_asks_for_pkce_s256_at_the_chosen_host() -> None:
    sf, _ = adapter(lambda r: httpx.Response(500))
    url = sf.authorize_url(sandbox=True, state="st", code_challenge="cc")
    assert url.startswith(f"{LOGIN}/sandbox/services/oauth2/authorize?")
    assert "code_challenge_method=S256" in url
    assert "state=st" in url
    assert "refresh_token" in url


async def test_a_forged_signature_is_refused() -> None:
    sf, _ = adapter(lambda r: httpx.Response(200, json=token_body(signature="Zm9yZ2Vk")))
    with pytest.raises(Rejected, match="invalid_signature"):
        await sf.refresh(tenant_id="t1", sandbox=False, refresh_token="r")


async def test_invalid_grant() -> None:
    body = {"error": "invalid_grant", "error_description": "expired access/refresh token"}
    sf, _ = adapter(lambda r: httpx.Response(400, json=body))
    with pytest.raises(InvalidGrant) as caught:
        await sf.refresh(tenant_id="t1", sandbox=False, refresh_token="5Aep.secret")
    assert caught.value.message == "expired access/refresh token"


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_server_errors_are_transient(status: int) -> None:
    sf, _ = adapter(lambda r: httpx.Response(status, text="<html>down</html>"))
    with pytest.raises(TransientError, match=f"http_{status}"):
        await sf.refresh(tenant_id="t1", sandbox=False, refresh_token="r")


async def test_timeouts_and_connection_failures_are_transient() -> None:
    def timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    for handler, code in ((timeout, "timeout"), (refused, "unreachable")):
        sf, _ = adapter(handler)
        with pytest.raises(TransientError, match=code):
            await sf.refresh(tenant_id="t1", sandbox=False, refresh_token="r")


async def test_other_refusals_and_no_secret_in_their_message() -> None:
    body = {"error": "invalid_client", "error_description": "bad token=5Aep.secret here"}
    sf, _ = adapter(lambda r: httpx.Response(400, json=body))
    with pytest.raises(Rejected) as caught:
        await sf.refresh(tenant_id="t1", sandbox=False, refresh_token="5Aep.secret")
    assert caught.value.code == "invalid_client"
    assert "5Aep.secret" not in str(caught.value)


async def test_describe_and_limits() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        assert request.headers["authorization"] == "Bearer tok"
        return httpx.Response(
            200, json={"sobjects": []}, headers={"Sforce-Limit-Info": "api-usage=25/15000"}
        )

    sf, seen = adapter(answer)
    body = await sf.describe_global(
        tenant_id="t1", instance_url="https://i.example", access_token="tok"
    )
    assert body == {"sobjects": []}
    assert str(seen[0].url) == "https://i.example/services/data/v59.0/sobjects/"
    assert sf._remaining.labels("t1")._value.get() == 14975


async def test_expired_session_on_describe_is_a_refusal_with_salesforce_code() -> None:
    body = [{"errorCode": "INVALID_SESSION_ID", "message": "Session expired or invalid"}]
    sf, _ = adapter(lambda r: httpx.Response(401, json=body))
    with pytest.raises(Rejected, match="INVALID_SESSION_ID"):
        await sf.describe_global(tenant_id="t1", instance_url="https://i", access_token="t")


async def test_revoke() -> None:
    sf, seen = adapter(lambda r: httpx.Response(200))
    assert await sf.revoke(tenant_id="t1", sandbox=False, token="5Aep.r")
    assert parse_qs(seen[0].content.decode()) == {"token": ["5Aep.r"]}
    sf, _ = adapter(lambda r: httpx.Response(400, json={"error": "invalid_token"}))
    assert not await sf.revoke(tenant_id="t1", sandbox=False, token="dead")


async def test_username_from_the_identity_url() -> None:
    sf, seen = adapter(lambda r: httpx.Response(200, json={"username": "a@b.c"}))
    token = await adapter(lambda r: httpx.Response(200, json=token_body()))[0].refresh(
        tenant_id="t1", sandbox=False, refresh_token="r"
    )
    assert await sf.username(tenant_id="t1", token=token) == "a@b.c"
    assert str(seen[0].url) == IDENTITY
    assert json.dumps(dict(seen[0].headers)).count("secret-access") == 1


async def test_a_ca_file_not_written_yet_is_transient(tmp_path: Path) -> None:
    # Under `make run` the emulator writes its CA while auth starts.
    metrics = build_auth_metrics(CollectorRegistry())
    sf = HttpSalesforce(
        settings().model_copy(update={"sf_ca_file": tmp_path / "ca.pem"}),
        calls=metrics.suite.salesforce_calls,
        api_remaining=metrics.suite.salesforce_api_remaining,
        api_limit=metrics.suite.salesforce_api_limit,
    )
    with pytest.raises(TransientError, match="ca_file_missing"):
        await sf.refresh(tenant_id="t1", sandbox=False, refresh_token="r")
