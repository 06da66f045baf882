"""The connect flow against the emulator: production and sandbox, the state's checks,
who may use the page and the admin endpoints, disconnecting."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from simple_salesforce.api import Salesforce

from auth_service.config import Settings
from auth_service.domain.keyring import KeyRing
from auth_service.domain.token_records import open_token
from chat_contracts.auth import RefreshTokenRecord
from chat_contracts.auth_events import ConnectedEvent, DisconnectedEvent
from chat_runtime.request_reply import RequestReplyClient
from tests.emulator_fixtures import EmulatorOrg, SalesforceEmulator
from tests.integration.auth.support import (
    ADMIN_TOKEN,
    AuthTopics,
    RunningAuth,
    ask,
    connect_tenant,
    emulator_client,
    eventually,
    granted,
    read_all,
    refused,
)


def ring_of(settings: Settings) -> KeyRing:
    return settings.key_ring()


async def latest_record(
    bootstrap: str, topics: AuthTopics, tenant: str
) -> RefreshTokenRecord | None:
    records = [
        r for r in await read_all(bootstrap, topics.refresh_tokens) if r.key == tenant.encode()
    ]
    if not records or records[-1].value is None:
        return None
    return RefreshTokenRecord.model_validate_json(records[-1].value)


async def events_of(bootstrap: str, topics: AuthTopics, tenant: str) -> list[dict[str, object]]:
    records = await read_all(bootstrap, topics.connections)
    return [json.loads(r.value) for r in records if r.key == tenant.encode() and r.value]


@pytest.mark.parametrize("sandbox", [False, True], ids=["production", "sandbox"])
async def test_connect_then_serve_tokens_that_work(
    auth: RunningAuth,
    sf_emulator: SalesforceEmulator,
    new_org: Callable[..., EmulatorOrg],
    tenant: str,
    rr: RequestReplyClient,
    topics: AuthTopics,
    kafka_bootstrap: str,
    sandbox: bool,
) -> None:
    org = new_org(sandbox=sandbox)
    connected = await connect_tenant(auth, sf_emulator, org, tenant)
    assert connected.page.status_code == 200
    html = connected.page.text
    assert "Connected to Salesforce." in html
    assert org.org_id in html
    assert ("Sandbox" if sandbox else "Production") in html
    assert "can be queried, created and updated" in html  # the permission check ran

    reply = granted(await ask(rr, topics.requests, tenant))
    assert (reply.org_id, reply.user_id) == (org.org_id, org.user_id)
    # The token works against the org, exactly as crm-sync will use it.
    sf = Salesforce(
        instance_url=reply.instance_url,
        session_id=reply.access_token.get_secret_value(),
        session=sf_emulator.http_session(),
    )
    assert sf.query("SELECT Id FROM Organization")["records"][0]["Id"][:15] == org.org_id[:15]

    record = await latest_record(kafka_bootstrap, topics, tenant)
    assert record is not None
    assert record.sandbox is sandbox
    assert record.org_id == org.org_id
    refresh_token = open_token(record, ring_of(auth.settings))
    assert refresh_token.encode() not in (record.ciphertext + record.model_dump_json().encode())
    kinds = [e["kind"] for e in await events_of(kafka_bootstrap, topics, tenant)]
    assert kinds[:2] == ["connected", "permission_check"]
    ConnectedEvent.model_validate((await events_of(kafka_bootstrap, topics, tenant))[0])


async def test_status_json_for_admins(
    auth: RunningAuth,
    sf_emulator: SalesforceEmulator,
    new_org: Callable[..., EmulatorOrg],
    tenant: str,
) -> None:
    org = new_org()
    await connect_tenant(auth, sf_emulator, org, tenant)
    async with auth.http() as web:
        status = await web.get(
            "/admin/status",
            params={"tenant": tenant},
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        )
        check = await web.post(
            "/admin/permission-check",
            params={"tenant": tenant},
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        )
    body = status.json()
    assert body["state"] == "connected"
    assert body["org_id"] == org.org_id
    assert body["username"] == org.username
    assert body["sandbox"] is False
    assert body["permission_check"]["ok"] is True
    assert body["last_refreshed_at"]
    assert check.json() == {"ok": True, "missing": []}


async def test_disconnect_revokes_at_salesforce_and_forgets(
    auth: RunningAuth,
    sf_emulator: SalesforceEmulator,
    new_org: Callable[..., EmulatorOrg],
    tenant: str,
    rr: RequestReplyClient,
    topics: AuthTopics,
    kafka_bootstrap: str,
) -> None:
    org = new_org()
    await connect_tenant(auth, sf_emulator, org, tenant)
    refresh_token = open_token(
        await latest_record(kafka_bootstrap, topics, tenant) or pytest.fail("no record"),
        ring_of(auth.settings),
    )
    async with auth.http() as web:
        link = await web.post(
            "/admin/connect-link",
            params={"tenant": tenant},
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        )
        form = {k: v[0] for k, v in parse_qs(urlsplit(link.json()["url"]).query).items()}
        done = await web.post("/connect", data={**form, "action": "disconnect"})
        assert done.status_code == 303
        page = await web.get(done.headers["location"])
    assert "Disconnected" in page.text
    assert "Not connected" in page.text
    refused(await ask(rr, topics.requests, tenant), "not_connected")
    # Tombstone on the compacted topic; the token is dead at Salesforce.
    records = [
        r
        for r in await read_all(kafka_bootstrap, topics.refresh_tokens)
        if r.key == tenant.encode()
    ]
    assert records[-1].value is None
    async with emulator_client(sf_emulator) as sf:
        answer = await sf.post(
            f"{sf_emulator.url}/services/oauth2/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": refresh_token,
                "client_id": org.client_id,
                "client_secret": org.client_secret,
            },
        )
    assert answer.json()["error"] == "invalid_grant"
    events = await events_of(kafka_bootstrap, topics, tenant)
    disconnected = DisconnectedEvent.model_validate(events[-1])
    assert disconnected.revoked_at_salesforce
    assert disconnected.initiated_by == "link"


async def test_callback_refuses_tampered_replayed_foreign_and_expired_state(
    auth: RunningAuth,
    sf_emulator: SalesforceEmulator,
    new_org: Callable[..., EmulatorOrg],
    tenant: str,
    kafka_bootstrap: str,
    topics: AuthTopics,
) -> None:
    org = new_org()
    connected = await connect_tenant(auth, sf_emulator, org, tenant)
    callback = urlsplit(connected.callback_url)
    query = {k: v[0] for k, v in parse_qs(callback.query).items()}
    cookie = {"Cookie": f"auth_oauth_flow={connected.flow_cookie}"}
    records_before = len(await read_all(kafka_bootstrap, topics.refresh_tokens))

    async with auth.http() as web:
        replayed = await web.get(f"{callback.path}?{callback.query}", headers=cookie)
        assert replayed.status_code == 400
        assert "replayed" in replayed.text

        state = query["state"]
        tampered_state = state[:-3] + ("AAA" if not state.endswith("AAA") else "BBB")
        tampered = await web.get(
            callback.path, params={**query, "state": tampered_state}, headers=cookie
        )
        assert tampered.status_code == 400
        assert "tampered" in tampered.text

        # A fresh flow, but the callback arrives in a browser that did not start it.
        link = await web.post(
            "/admin/connect-link",
            params={"tenant": tenant},
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        )
        form = {k: v[0] for k, v in parse_qs(urlsplit(link.json()["url"]).query).items()}
        start = await web.post("/connect", data={**form, "action": "connect_production"})
        fresh_state = parse_qs(urlsplit(start.headers["location"]).query)["state"][0]
        foreign = await web.get(
            callback.path,
            params={"code": "aPrxWhatever", "state": fresh_state},
            headers={"Cookie": "auth_oauth_flow=someone-else"},
        )
        assert foreign.status_code == 400
        assert "not_this_browser" in foreign.text

        no_state = await web.get(callback.path, params={"code": "aPrx"})
        assert no_state.status_code == 400

    # An expired state: sealed with this deployment's key, its lifetime over.
    from auth_service.domain.state import new_state, seal_state

    old = new_state(tenant, sandbox=False, now=0, ttl_s=600)
    async with auth.http() as web:
        expired = await web.get(
            callback.path,
            params={"code": "aPrx", "state": seal_state(old, ring_of(auth.settings))},
            headers={"Cookie": f"auth_oauth_flow={old.nonce}"},
        )
    assert expired.status_code == 400
    assert "expired" in expired.text
    # None of them changed the tenant's connection.
    assert len(await read_all(kafka_bootstrap, topics.refresh_tokens)) == records_before


async def test_denied_at_salesforce_changes_nothing(
    auth: RunningAuth,
    sf_emulator: SalesforceEmulator,
    new_org: Callable[..., EmulatorOrg],
    tenant: str,
) -> None:
    async with auth.http() as web, emulator_client(sf_emulator) as sf:
        link = await web.post(
            "/admin/connect-link",
            params={"tenant": tenant},
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        )
        form = {k: v[0] for k, v in parse_qs(urlsplit(link.json()["url"]).query).items()}
        start = await web.post("/connect", data={**form, "action": "connect_production"})
        deny = await sf.post(start.headers["location"], data={"action": "deny"})
        callback = urlsplit(deny.headers["location"])
        back = await web.get(
            f"{callback.path}?{callback.query}",
            headers={"Cookie": f"auth_oauth_flow={start.cookies['auth_oauth_flow']}"},
        )
        page = await web.get(back.headers["location"])
    assert "cancelled" in page.text
    assert "Not connected" in page.text


ADMIN_CALLS = [
    ("GET", "/connect"),
    ("GET", "/admin/status"),
    ("POST", "/admin/connect-link"),
    ("POST", "/admin/permission-check"),
    ("POST", "/admin/disconnect"),
]


@pytest.mark.parametrize(("method", "path"), ADMIN_CALLS)
async def test_admin_endpoints_refuse_missing_and_wrong_credentials(
    auth: RunningAuth,
    sf_emulator: SalesforceEmulator,
    new_org: Callable[..., EmulatorOrg],
    tenant: str,
    method: str,
    path: str,
) -> None:
    await connect_tenant(auth, sf_emulator, new_org(), tenant)
    async with auth.http() as web:
        other = await web.post(
            "/admin/connect-link",
            params={"tenant": "someone-else"},
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        )
        other_link = {k: v[0] for k, v in parse_qs(urlsplit(other.json()["url"]).query).items()}
        attempts = {
            "none": ({"tenant": tenant}, {}),
            "wrong token": ({"tenant": tenant}, {"Authorization": "Bearer not-the-token"}),
            "not bearer": ({"tenant": tenant}, {"Authorization": f"Basic {ADMIN_TOKEN}"}),
            "other tenant's link": ({**other_link, "tenant": tenant}, {}),
            "forged link": ({"tenant": tenant, "expires": "9999999999", "sig": "x" * 43}, {}),
            "expired link": ({**other_link, "tenant": "someone-else", "expires": "1"}, {}),
            # Absurd expiries: digits int() refuses, or more of them than it will read.
            "superscript expiry": ({"tenant": tenant, "expires": "²", "sig": "x" * 43}, {}),
            "huge expiry": ({"tenant": tenant, "expires": "9" * 5000, "sig": "x" * 43}, {}),
        }
        for label, (params, headers) in attempts.items():
            response = await web.request(method, f"{path}?{urlencode(params)}", headers=headers)
            assert response.status_code in (401, 403), (label, response.status_code)
            assert org_free(response.text), label
        # Still connected: no refused call disconnected or changed anything.
        status = await web.get(
            "/admin/status",
            params={"tenant": tenant},
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        )
    assert status.json()["state"] == "connected"


def org_free(text: str) -> bool:
    """A refusal says nothing about the tenant's connection."""
    return "00D" not in text


async def test_probes_and_metrics(auth: RunningAuth) -> None:
    async with auth.http() as web:
        ready = await web.get("/readyz")
        assert ready.json()["checks"] == {
            "kafka": True,
            "token_store": True,
            "settings_store": True,
            "requests": True,
            "owner_client": True,
        }
        assert (await web.get("/healthz")).status_code == 200
    await eventually(lambda: _has_connects(auth))


async def _has_connects(auth: RunningAuth) -> bool:
    return await auth.metric("auth_connects_total", outcome="connected") > 0


async def test_a_form_body_is_bounded_before_anything_is_read_or_checked(
    auth: RunningAuth, tenant: str
) -> None:
    async with auth.http() as web:
        huge = await web.post(
            "/connect",
            content=b"tenant=" + b"a" * (2 * 1024 * 1024),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert huge.status_code == 413

        async def trickle() -> AsyncIterator[bytes]:  # no Content-Length: chunked
            for _ in range(64):
                yield b"x" * 65536

        chunked = await web.post(
            "/connect",
            content=trickle(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert chunked.status_code == 413
        not_utf8 = await web.post(
            "/connect",
            content=b"tenant=\xff\xfe&expires=1&sig=x",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert not_utf8.status_code in (400, 401, 403)  # a refusal, not a 500


HOSTILE_VALUES = [
    "",
    "²",
    "9" * 5000,
    "-1",
    "' OR 1=1 --",
    "<script>alert(1)</script>",
    "\u0000\u202e",
    "a|b",
    "../../etc/passwd",
    "%ff%fe",
    "x" * 10_000,
]
HOSTILE_TEXT = st.one_of(st.sampled_from(HOSTILE_VALUES), st.text(max_size=30))


Call = tuple[str, str, dict[str, str], dict[str, str]]
"""A request to auth: method, path, parameters (the form, for POST /connect), headers."""
ROUTES = [
    ("GET", "/connect"),
    ("POST", "/connect"),
    ("GET", "/oauth/callback"),
    ("GET", "/admin/status"),
    ("POST", "/admin/connect-link"),
    ("POST", "/admin/permission-check"),
    ("POST", "/admin/disconnect"),
    ("GET", "/admin/settings"),
    ("PUT", "/admin/settings"),
]
PARAMETERS = ["tenant", "expires", "sig", "state", "code", "action", "error"]


def hostile_calls(
    routes: list[tuple[str, str]], authorizations: list[str], examples: int, max_params: int
) -> list[Call]:
    """Generated requests (hypothesis): any of `routes`, hostile values in any of the
    parameters, any of the `Authorization` headers ("" for none)."""
    calls: list[Call] = []

    @settings(max_examples=examples, derandomize=True, database=None, deadline=None)
    @given(
        st.sampled_from(routes),
        st.dictionaries(st.sampled_from(PARAMETERS), HOSTILE_TEXT, max_size=max_params),
        st.sampled_from(authorizations),
    )
    def collect(route: tuple[str, str], params: dict[str, str], header: str) -> None:
        calls.append((route[0], route[1], params, {"Authorization": header} if header else {}))

    collect()
    return calls


async def send(web: httpx.AsyncClient, call: Call) -> httpx.Response:
    """Make the request; the connect form's parameters go in the body."""
    method, path, params, headers = call
    form = method in {"POST", "PUT"} and path == "/connect"
    return await web.request(
        method,
        path,
        params=None if form else params,
        data=params if form else None,
        headers=headers,
    )


async def test_hostile_requests_to_every_route_are_refused_never_a_500(
    auth: RunningAuth, tenant: str
) -> None:
    requests = hostile_calls(
        ROUTES, ["", "Bearer wrong", "Bearer", "Basic x", "Bearer a b"], 150, 5
    )
    # And every hostile value in each part of a signed link, which generated sets of
    # parameters only sometimes complete.
    for value in HOSTILE_VALUES:
        for link in (
            {"tenant": tenant, "expires": value, "sig": "x" * 43},
            {"tenant": value, "expires": "9999999999", "sig": "x" * 43},
            {"tenant": tenant, "expires": "9999999999", "sig": value},
        ):
            requests += [("GET", "/connect", link, {}), ("POST", "/connect", link, {})]
    async with auth.http() as web:
        for call in requests:
            response = await send(web, call)
            assert response.status_code < 500, (call, response.status_code)
            assert response.status_code in {302, 303, 400, 401, 403, 404, 413}, (
                call,
                response.status_code,
            )
        # Nothing of the tenant changed: a stranger's requests connect or disconnect nothing.
        status = await web.get(
            "/admin/status",
            params={"tenant": tenant},
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        )
    assert status.json()["state"] == "not_connected"
