"""OAuth 2.0 web server flow with PKCE, refresh, revoke; production vs sandbox login."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.emulator_fixtures import EmulatorOrg, SalesforceEmulator, sobject

CALLBACK = "https://app.example/oauth/callback"


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.decode().rstrip("=")


def _authorize(
    emu: SalesforceEmulator,
    org: EmulatorOrg,
    challenge: str,
    password: str | None = None,
    action: str = "allow",
    login_url: str | None = None,
) -> httpx.Response:
    params = {
        "response_type": "code",
        "client_id": org.client_id,
        "redirect_uri": CALLBACK,
        "state": "st-1",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "scope": "api refresh_token",
    }
    base = login_url or org.login_url
    page = emu.admin.get(f"{base}/services/oauth2/authorize", params=params)
    assert page.status_code == 200
    assert "<form" in page.text
    form = {
        **params,
        "username": org.username,
        "password": password or org.password,
        "action": action,
    }
    return emu.admin.post(f"{base}/services/oauth2/authorize", data=form)


def _code(resp: httpx.Response) -> str:
    assert resp.status_code == 302, resp.text
    query = parse_qs(urlsplit(resp.headers["location"]).query)
    assert query["state"] == ["st-1"]
    return query["code"][0]


def _token(
    emu: SalesforceEmulator, org: EmulatorOrg, base: str | None = None, **form: str
) -> httpx.Response:
    return emu.admin.post(
        f"{base or org.login_url}/services/oauth2/token",
        data={"client_id": org.client_id, "client_secret": org.client_secret, **form},
    )


def _exchange(
    emu: SalesforceEmulator, org: EmulatorOrg, code: str, verifier: str
) -> httpx.Response:
    return _token(
        emu,
        org,
        grant_type="authorization_code",
        code=code,
        redirect_uri=CALLBACK,
        code_verifier=verifier,
    )


def test_web_server_flow_with_pkce(sf_emulator: SalesforceEmulator, sf_org: EmulatorOrg) -> None:
    verifier, challenge = _pkce()
    resp = _exchange(
        sf_emulator, sf_org, _code(_authorize(sf_emulator, sf_org, challenge)), verifier
    )
    assert resp.status_code == 200
    body = resp.json()
    assert list(body) == [
        "access_token",
        "refresh_token",
        "signature",
        "scope",
        "instance_url",
        "id",
        "token_type",
        "issued_at",
    ]
    assert body["id"] == f"{sf_org.login_url}/id/{sf_org.org_id}/{sf_org.user_id}"
    assert body["token_type"] == "Bearer"
    assert body["instance_url"] == sf_org.instance_url
    mac = hmac.new(
        sf_org.client_secret.encode(), (body["id"] + body["issued_at"]).encode(), hashlib.sha256
    )
    assert body["signature"] == base64.b64encode(mac.digest()).decode()
    sf = sf_emulator.client(sf_org, token=body["access_token"])
    assert sobject(sf, "Lead").create({"LastName": "Doe", "Company": "Acme"})["success"]
    me = sf_emulator.admin.get(
        body["id"], headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert me.json()["username"] == sf_org.username
    refreshed = _token(
        sf_emulator, sf_org, grant_type="refresh_token", refresh_token=body["refresh_token"]
    )
    assert refreshed.status_code == 200
    assert refreshed.json()["refresh_token"] != body["refresh_token"]  # rotated
    assert sf_emulator.client(sf_org, token=refreshed.json()["access_token"]).limits()


def test_token_endpoint_errors(sf_emulator: SalesforceEmulator, sf_org: EmulatorOrg) -> None:
    verifier, challenge = _pkce()
    code = _code(_authorize(sf_emulator, sf_org, challenge))
    wrong = _exchange(sf_emulator, sf_org, code, "not-the-verifier")
    assert wrong.status_code == 400
    assert wrong.json() == {"error": "invalid_grant", "error_description": "invalid code verifier"}
    mismatch = _token(
        sf_emulator,
        sf_org,
        grant_type="authorization_code",
        code=code,
        redirect_uri="https://evil.example/cb",
        code_verifier=verifier,
    )
    assert mismatch.json()["error"] == "redirect_uri_mismatch"
    assert _exchange(sf_emulator, sf_org, code, verifier).status_code == 200
    reused = _exchange(sf_emulator, sf_org, code, verifier)
    assert reused.json()["error"] == "invalid_grant"
    bad_secret = sf_emulator.admin.post(
        f"{sf_org.login_url}/services/oauth2/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": sf_org.refresh_token,
            "client_id": sf_org.client_id,
            "client_secret": "wrong",
        },
    )
    assert bad_secret.json()["error"] == "invalid_client"
    unknown = _token(sf_emulator, sf_org, grant_type="password")
    assert unknown.json()["error"] == "unsupported_grant_type"


def test_login_failures_and_deny(sf_emulator: SalesforceEmulator, sf_org: EmulatorOrg) -> None:
    _, challenge = _pkce()
    bad = _authorize(sf_emulator, sf_org, challenge, password="wrong")
    assert bad.status_code == 200
    assert "Please check your username and password" in bad.text
    denied = _authorize(sf_emulator, sf_org, challenge, action="deny")
    query = parse_qs(urlsplit(denied.headers["location"]).query)
    assert query["error"] == ["access_denied"]
    assert query["state"] == ["st-1"]


def test_sandbox_logs_in_at_its_own_host(
    sf_emulator: SalesforceEmulator, sf_emulator_url: str
) -> None:
    sandbox = sf_emulator.create_org(sandbox=True)
    assert sandbox.login_url != sf_emulator_url
    assert sandbox.instance_url == sf_emulator_url
    verifier, challenge = _pkce()
    at_production = _authorize(sf_emulator, sandbox, challenge, login_url=sf_emulator_url)
    assert at_production.status_code == 200
    assert "Please check" in at_production.text
    code = _code(_authorize(sf_emulator, sandbox, challenge))
    elsewhere = _token(
        sf_emulator,
        sandbox,
        base=sf_emulator_url,
        grant_type="authorization_code",
        code=code,
        redirect_uri=CALLBACK,
        code_verifier=verifier,
    )
    assert elsewhere.json()["error"] == "invalid_grant"
    refresh = _token(
        sf_emulator,
        sandbox,
        base=sf_emulator_url,
        grant_type="refresh_token",
        refresh_token=sandbox.refresh_token,
    )
    assert refresh.json()["error"] == "invalid_grant"
    ok = _token(
        sf_emulator, sandbox, grant_type="refresh_token", refresh_token=sandbox.refresh_token
    )
    assert ok.status_code == 200
    assert ok.json()["id"].startswith(sandbox.login_url + "/id/")


def test_revoked_refresh_tokens_are_invalid_grant(
    sf_emulator: SalesforceEmulator, sf_org: EmulatorOrg
) -> None:
    revoke = sf_emulator.admin.post(
        f"{sf_org.login_url}/services/oauth2/revoke", data={"token": sf_org.refresh_token}
    )
    assert revoke.status_code == 200
    after = _token(
        sf_emulator, sf_org, grant_type="refresh_token", refresh_token=sf_org.refresh_token
    )
    assert after.json() == {
        "error": "invalid_grant",
        "error_description": "expired access/refresh token",
    }
    other = sf_emulator.create_org()
    sf_emulator.call("POST", f"/__admin/orgs/{other.org_id}/revoke-refresh-tokens")
    assert (
        _token(
            sf_emulator, other, grant_type="refresh_token", refresh_token=other.refresh_token
        ).json()["error"]
        == "invalid_grant"
    )


def test_sixth_approval_revokes_the_oldest(
    sf_emulator: SalesforceEmulator, sf_org: EmulatorOrg
) -> None:
    tokens = [sf_org.refresh_token]
    for _ in range(5):
        verifier, challenge = _pkce()
        code = _code(_authorize(sf_emulator, sf_org, challenge))
        tokens.append(_exchange(sf_emulator, sf_org, code, verifier).json()["refresh_token"])
    statuses = [
        _token(sf_emulator, sf_org, grant_type="refresh_token", refresh_token=t).status_code
        for t in tokens
    ]
    assert statuses == [400, 200, 200, 200, 200, 200]


@pytest.mark.parametrize("client_id", ["unknown-client"])
def test_unknown_client_gets_an_error_page(
    sf_emulator: SalesforceEmulator, sf_emulator_url: str, client_id: str
) -> None:
    page = sf_emulator.admin.get(
        f"{sf_emulator_url}/services/oauth2/authorize",
        params={"response_type": "code", "client_id": client_id, "redirect_uri": CALLBACK},
    )
    assert page.status_code == 400
    assert "invalid_client_id" in page.text
