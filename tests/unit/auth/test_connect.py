"""ConnectFlow with fakes: state checks, storing the connection, disconnecting."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from auth_service.domain.state import StateError
from auth_service.domain.token_records import open_token
from tests.unit.auth.conftest import REFRESH_TOKEN, TENANT, World


def state_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["state"][0]


async def test_connect_stores_the_token_sealed_announces_and_checks(world: World) -> None:
    started = world.connect.start(TENANT, sandbox=True)
    assert started.authorize_url.startswith("https://test.salesforce.com/")
    done = await world.connect.complete(
        state_param=state_of(started.authorize_url),
        code="abc",
        error="",
        browser_nonce=started.state.nonce,
    )
    assert (done.tenant_id, done.outcome) == (TENANT, "connected")
    record = world.store.get(TENANT)
    assert record is not None
    assert record.sandbox
    assert record.username == "admin@acme.test"
    assert open_token(record, world.ring) == "refresh-for-abc"
    assert world.events.kinds() == ["connected", "permission_check"]
    # The access token of the code exchange is cached: no refresh right after connecting.
    grant = await world.tokens.access(TENANT)
    assert grant.access_token.get_secret_value().endswith("access-0")
    assert world.sf.refreshes == 0


async def test_reconnecting_revokes_the_previous_refresh_token(world: World) -> None:
    await world.connected()
    started = world.connect.start(TENANT, sandbox=False)
    await world.connect.complete(
        state_param=state_of(started.authorize_url),
        code="new",
        error="",
        browser_nonce=started.state.nonce,
    )
    assert world.sf.revoked == [REFRESH_TOKEN]


async def test_a_state_is_used_once(world: World) -> None:
    started = world.connect.start(TENANT, sandbox=False)
    args = {
        "state_param": state_of(started.authorize_url),
        "code": "abc",
        "error": "",
        "browser_nonce": started.state.nonce,
    }
    await world.connect.complete(**args)
    with pytest.raises(StateError, match="replayed"):
        await world.connect.complete(**args)


async def test_a_state_from_another_browser_is_refused(world: World) -> None:
    started = world.connect.start(TENANT, sandbox=False)
    with pytest.raises(StateError, match="not_this_browser"):
        await world.connect.complete(
            state_param=state_of(started.authorize_url), code="abc", error="", browser_nonce=""
        )
    assert world.store.get(TENANT) is None


async def test_an_expired_state_is_refused(world: World) -> None:
    started = world.connect.start(TENANT, sandbox=False)
    world.clock.advance(601)
    with pytest.raises(StateError, match="expired"):
        await world.connect.complete(
            state_param=state_of(started.authorize_url),
            code="abc",
            error="",
            browser_nonce=started.state.nonce,
        )


async def test_a_denied_sign_in_changes_nothing(world: World) -> None:
    started = world.connect.start(TENANT, sandbox=False)
    done = await world.connect.complete(
        state_param=state_of(started.authorize_url),
        code="",
        error="access_denied",
        browser_nonce=started.state.nonce,
    )
    assert done.outcome == "denied"
    assert world.store.get(TENANT) is None
    assert world.events.events == []


async def test_disconnect_revokes_writes_a_tombstone_and_announces(world: World) -> None:
    await world.connected()
    event = await world.connect.disconnect(TENANT, initiated_by="admin")
    assert event is not None
    assert event.revoked_at_salesforce
    assert world.sf.revoked == [REFRESH_TOKEN]
    assert world.store.get(TENANT) is None
    assert world.store.writes[-1] == TENANT
    assert world.events.kinds() == ["disconnected"]
    assert await world.connect.disconnect(TENANT, initiated_by="admin") is None


async def test_permission_check_reports_what_is_missing(world: World) -> None:
    await world.connected()
    world.sf.describe = {
        "sobjects": [
            {"name": "Account", "queryable": True, "createable": True, "updateable": True},
            {"name": "Case", "queryable": True, "createable": False, "updateable": True},
        ]
    }
    event = await world.permissions.check(TENANT)
    assert not event.ok
    assert {(m.object, m.operation) for m in event.missing} >= {
        ("Case", "create"),
        ("Lead", "query"),
    }
    assert world.permissions.last(TENANT) == event
