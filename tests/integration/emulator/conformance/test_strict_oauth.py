"""Conformance: refresh-token rotation, on by default for the connected app.

- [S4] Help KB 005316711 "Force one-time-use Refresh Tokens - Refresh Token Rotation": each
  refresh answers a new refresh token and the used one stops working; reusing a rotated
  token revokes the token family.
- [S5] (third party, on the May 2026 Connected App controls): a 30-day idle limit on
  refresh tokens (its answer is the one of any expired refresh token), and PKCE required.
- [S26] ISVforce guide: confidential clients send `client_secret` and `code_verifier`.
- [S27] real answers: a reused code is `invalid_grant` "expired authorization code".
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx

from tests.emulator_fixtures import EmulatorOrg, SalesforceEmulator
from tests.integration.emulator.test_oauth import CALLBACK, _authorize, _code, _exchange, _pkce

EXPIRED = {"error": "invalid_grant", "error_description": "expired access/refresh token"}


def refresh(emu: SalesforceEmulator, org: EmulatorOrg, token: str) -> httpx.Response:
    return emu.admin.post(
        f"{org.login_url}/services/oauth2/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": token,
            "client_id": org.client_id,
            "client_secret": org.client_secret,
        },
    )


def test_each_refresh_rotates_and_a_reuse_revokes_the_family(
    sf_emulator: SalesforceEmulator,
) -> None:
    org = sf_emulator.create_org()
    first = refresh(sf_emulator, org, org.refresh_token)
    assert first.status_code == 200
    second_token = first.json()["refresh_token"]
    assert second_token != org.refresh_token
    second = refresh(sf_emulator, org, second_token)
    assert second.status_code == 200
    third_token = second.json()["refresh_token"]
    # The used token again: refused, and the whole family with it [S4].
    assert refresh(sf_emulator, org, org.refresh_token).json() == EXPIRED
    assert refresh(sf_emulator, org, third_token).json() == EXPIRED
    session = second.json()["access_token"]
    assert sf_emulator.client(org, token=session).session_id == session
    assert (
        sf_emulator.admin.get(
            f"{org.instance_url}/services/data/v59.0/limits",
            headers={"Authorization": f"Bearer {session}"},
        ).status_code
        == 401
    )


def test_an_app_may_turn_rotation_off(sf_emulator: SalesforceEmulator) -> None:
    org = sf_emulator.create_org(refresh_token_rotation=False)
    answer = refresh(sf_emulator, org, org.refresh_token)
    assert "refresh_token" not in answer.json()
    assert refresh(sf_emulator, org, org.refresh_token).status_code == 200


def test_a_refresh_token_idle_for_30_days_expires(sf_emulator: SalesforceEmulator) -> None:
    org = sf_emulator.create_org()
    kept = refresh(sf_emulator, org, org.refresh_token).json()["refresh_token"]
    aged = sf_emulator.call(
        "POST", f"/__admin/orgs/{org.org_id}/age-refresh-tokens", json={"days": 29}
    )
    assert aged.status_code == 200
    kept = refresh(sf_emulator, org, kept).json()["refresh_token"]  # used: idle again from now
    sf_emulator.call("POST", f"/__admin/orgs/{org.org_id}/age-refresh-tokens", json={"days": 31})
    assert refresh(sf_emulator, org, kept).json() == EXPIRED  # [S5]


def test_a_reused_code_is_an_expired_authorization_code(
    sf_emulator: SalesforceEmulator, sf_org: EmulatorOrg
) -> None:
    verifier, challenge = _pkce()
    code = _code(_authorize(sf_emulator, sf_org, challenge))
    assert _exchange(sf_emulator, sf_org, code, verifier).status_code == 200
    assert _exchange(sf_emulator, sf_org, code, verifier).json() == {  # [S27]
        "error": "invalid_grant",
        "error_description": "expired authorization code",
    }


def test_a_confidential_client_sends_its_secret_with_pkce(
    sf_emulator: SalesforceEmulator, sf_org: EmulatorOrg
) -> None:
    verifier, challenge = _pkce()
    code = _code(_authorize(sf_emulator, sf_org, challenge))
    no_secret = sf_emulator.admin.post(
        f"{sf_org.login_url}/services/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "client_id": sf_org.client_id,
            "redirect_uri": CALLBACK,
            "code_verifier": verifier,
        },
    )
    assert no_secret.json()["error"] == "invalid_client"  # [S26]


def test_pkce_is_required_unless_the_org_says_otherwise(
    sf_emulator: SalesforceEmulator,
) -> None:
    # [S5, S26]: PKCE is required when enabled, and for apps used by several orgs.
    for org, required in (
        (sf_emulator.create_org(), True),
        (sf_emulator.create_org(require_pkce=False), False),
    ):
        form = {
            "response_type": "code",
            "client_id": org.client_id,
            "redirect_uri": CALLBACK,
            "state": "st-1",
            "scope": "api refresh_token",
            "username": org.username,
            "password": org.password,
            "action": "allow",
        }
        answer = sf_emulator.admin.post(f"{org.login_url}/services/oauth2/authorize", data=form)
        assert answer.status_code == 302
        query = parse_qs(urlsplit(answer.headers["location"]).query)
        if required:
            assert query["error"] == ["invalid_request"]
            assert "code_challenge" in query["error_description"][0]
        else:
            assert "code" in query
