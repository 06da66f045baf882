"""TokenService with in-memory fakes: cache, single flight, revocation, retries."""

from __future__ import annotations

import asyncio

from auth_service.domain.errors import InvalidGrant, Rejected, TransientError
from auth_service.domain.token_records import open_token
from chat_contracts.auth import (
    TokenErrorCode,
    TokenErrorReply,
    TokenGrantedReply,
    TokenRequest,
    token_fingerprint,
)
from tests.unit.auth.conftest import REFRESH_TOKEN, TENANT, World, make_world

REFRESHES = "auth_token_refreshes_total"


async def issue(world: World, **fields: object) -> TokenGrantedReply | TokenErrorReply:
    request = TokenRequest.model_validate({"tenant_id": TENANT, **fields})
    return await world.tokens.issue(request, deadline=world.clock.epoch() + 10)


def token_of(reply: TokenGrantedReply | TokenErrorReply) -> str:
    assert isinstance(reply, TokenGrantedReply), reply
    return reply.access_token.get_secret_value()


async def test_not_connected(world: World) -> None:
    reply = await issue(world)
    assert isinstance(reply, TokenErrorReply)
    assert reply.code is TokenErrorCode.NOT_CONNECTED
    assert world.sf.refreshes == 0


async def test_first_request_refreshes_then_the_cache_serves(world: World) -> None:
    await world.connected()
    first = await issue(world)
    assert token_of(first) == "00D5g000004XyZa!access-1"
    assert isinstance(first, TokenGrantedReply)
    assert (first.org_id, first.instance_url) == (
        "00D5g000004XyZaEAK",
        world.sf.describe and first.instance_url,
    )
    assert token_of(await issue(world)) == "00D5g000004XyZa!access-1"
    assert world.sf.refreshes == 1
    # The successful refresh is recorded (for the page), still sealed.
    record = world.store.get(TENANT)
    assert record is not None
    assert record.last_refreshed_at == world.clock.now()
    assert open_token(record, world.ring) == REFRESH_TOKEN


async def test_a_hundred_concurrent_requests_cause_one_refresh(world: World) -> None:
    await world.connected()
    world.sf.delay = 0.05
    replies = await asyncio.gather(*(issue(world) for _ in range(100)))
    assert {token_of(r) for r in replies} == {"00D5g000004XyZa!access-1"}
    assert world.sf.refreshes == 1
    assert world.tokens.flights.started == 1


async def test_a_rejected_token_forces_one_refresh_not_a_storm(world: World) -> None:
    await world.connected()
    old = token_of(await issue(world))
    world.sf.delay = 0.02
    replies = await asyncio.gather(
        *(issue(world, rejected_token_fingerprint=token_fingerprint(old)) for _ in range(50))
    )
    assert {token_of(r) for r in replies} == {"00D5g000004XyZa!access-2"}
    # A late caller still holding the old token gets the new one without a refresh.
    assert token_of(await issue(world, rejected_token_fingerprint=token_fingerprint(old))) == (
        "00D5g000004XyZa!access-2"
    )
    assert world.sf.refreshes == 2


async def test_max_age_expiry_refreshes(world: World) -> None:
    world = make_world(max_age_s=60)
    await world.connected()
    await issue(world)
    world.clock.advance(61)
    assert token_of(await issue(world)) == "00D5g000004XyZa!access-2"


async def test_invalid_grant_revokes_once_and_tells_everyone(world: World) -> None:
    await world.connected()
    world.sf.failures = [InvalidGrant("invalid_grant", "expired access/refresh token")]
    reply = await issue(world)
    assert isinstance(reply, TokenErrorReply)
    assert reply.code is TokenErrorCode.REVOKED
    assert world.events.kinds() == ["revoked"]
    record = world.store.get(TENANT)
    assert record is not None
    assert record.revoked_at is not None
    # Later requests answer "revoked" without asking Salesforce again.
    again = await issue(world)
    assert isinstance(again, TokenErrorReply)
    assert again.code is TokenErrorCode.REVOKED
    assert world.sf.refreshes == 1
    assert world.count(REFRESHES, "invalid_grant") == 1


async def test_a_refusal_of_a_replaced_connection_revokes_nothing(world: World) -> None:
    await world.connected(token="old-refresh-token")
    world.sf.failures = [InvalidGrant("invalid_grant", "token revoked")]
    reconnected: list[str] = []

    def reconnect_meanwhile(refresh_token: str) -> None:
        if not reconnected:  # the admin connects again while the first refresh runs
            reconnected.append(refresh_token)
            asyncio.get_running_loop().create_task(world.connected(token="new-refresh-token"))

    world.sf.on_refresh = reconnect_meanwhile
    world.sf.delay = 0.01
    reply = await issue(world)
    # The caller gets a token of the new connection, which stays connected.
    assert token_of(reply) == "00D5g000004XyZa!access-2"
    assert reconnected == ["old-refresh-token"]
    record = world.store.get(TENANT)
    assert record is not None
    assert record.revoked_at is None
    assert open_token(record, world.ring) == "new-refresh-token"
    assert "revoked" not in world.events.kinds()


async def test_transient_failures_are_retried_and_do_not_revoke(world: World) -> None:
    await world.connected()
    world.sf.failures = [TransientError("http_503"), TransientError("timeout")]
    assert token_of(await issue(world)) == "00D5g000004XyZa!access-3"
    assert world.sf.refreshes == 3
    assert world.events.kinds() == []
    assert world.count(REFRESHES, "transient") == 2


async def test_transient_failures_exhausted_answer_refresh_failed_not_revoked(world: World) -> None:
    await world.connected()
    world.sf.failures = [TransientError("http_503", "Server unavailable")] * 3
    reply = await issue(world)
    assert isinstance(reply, TokenErrorReply)
    assert reply.code is TokenErrorCode.REFRESH_FAILED
    assert "3 attempt(s)" in reply.message
    record = world.store.get(TENANT)
    assert record is not None
    assert record.revoked_at is None
    assert world.events.kinds() == ["refresh_failed"]
    event = world.events.events[0]
    assert event.kind == "refresh_failed"
    assert event.attempts == 3
    assert event.will_retry


async def test_a_failing_tenant_is_left_alone_for_the_cooldown(world: World) -> None:
    await world.connected()
    world.sf.failures = [TransientError("timeout")] * 3
    await issue(world)
    calls = world.sf.refreshes
    reply = await issue(world)
    assert isinstance(reply, TokenErrorReply)
    assert "next attempt in" in reply.message
    assert world.sf.refreshes == calls
    world.clock.advance(2.5)
    assert token_of(await issue(world)).startswith("00D5g000004XyZa!access-")


async def test_other_refusals_are_not_retried_and_do_not_revoke(world: World) -> None:
    await world.connected()
    world.sf.failures = [Rejected("invalid_client", "invalid client credentials")]
    reply = await issue(world)
    assert isinstance(reply, TokenErrorReply)
    assert reply.code is TokenErrorCode.REFRESH_FAILED
    assert world.sf.refreshes == 1
    event = world.events.events[0]
    assert event.kind == "refresh_failed"
    assert not event.will_retry


async def test_a_waiter_past_its_deadline_gets_refresh_failed_and_the_refresh_goes_on(
    world: World,
) -> None:
    await world.connected()
    world.sf.delay = 0.2
    request = TokenRequest(tenant_id=TENANT)
    reply = await world.tokens.issue(request, deadline=world.clock.epoch() + 0.01)
    assert isinstance(reply, TokenErrorReply)
    assert reply.code is TokenErrorCode.REFRESH_FAILED
    assert token_of(await issue(world)) == "00D5g000004XyZa!access-1"
    assert world.sf.refreshes == 1


async def test_disconnect_by_another_replica_drops_the_cached_token(world: World) -> None:
    await world.connected()
    await issue(world)
    await world.store.delete(TENANT)
    reply = await issue(world)
    assert isinstance(reply, TokenErrorReply)
    assert reply.code is TokenErrorCode.NOT_CONNECTED
    await world.connected()  # reconnected: the old connection's token is not served
    assert token_of(await issue(world)) == "00D5g000004XyZa!access-2"


async def test_rotated_refresh_tokens_and_old_keys_are_resealed(world: World) -> None:
    from auth_service.domain.keyring import KeyRing

    old_key = world.ring._keys["k1"]
    record = await world.connected()
    rotated = KeyRing({"k1": old_key, "k2": b"\x01" * 32}, "k2")
    world.refresher.ring = rotated
    await issue(world)
    stored = world.store.get(TENANT)
    assert stored is not None
    assert stored.key_id == "k2"
    assert record.key_id == "k1"
    assert open_token(stored, rotated) == REFRESH_TOKEN


async def test_secrets_never_in_replies_reprs_or_events(world: World) -> None:
    await world.connected()
    world.sf.failures = [InvalidGrant("invalid_grant", "expired access/refresh token")]
    error = await issue(world)
    world2 = make_world()
    await world2.connected()
    granted = await issue(world2)
    for text in (repr(error), repr(granted), *(e.model_dump_json() for e in world.events.events)):
        assert REFRESH_TOKEN not in text
        assert "access-1" not in text
    assert "access-1" in granted.model_dump_json()  # the wire form hands it over
