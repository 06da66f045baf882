"""Keep-alive: idle tenants (and records of older keys) are refreshed by their owner only."""

from __future__ import annotations

from datetime import timedelta

from auth_service.domain.tokens import keepalive_due
from auth_service.handlers.keepalive import KeepAlive
from tests.unit.auth.conftest import World


class Owns:
    def __init__(self, *tenants: str) -> None:
        self.tenants = set(tenants)

    def owns(self, tenant_id: str) -> bool:
        return tenant_id in self.tenants

    def on_release(self, hook: object) -> None:
        return None


def keepalive(world: World, ownership: Owns) -> KeepAlive:
    return KeepAlive(
        store=world.store,
        tokens=world.tokens,
        ownership=ownership,
        ring=world.ring,
        clock=world.clock,
        idle_after=timedelta(days=25),
    )


async def test_only_idle_owned_tenants_are_due(world: World) -> None:
    mine = await world.connected("t-mine")
    await world.connected("t-other")
    sweeper = keepalive(world, Owns("t-mine"))
    assert sweeper.due() == []
    world.clock.advance(timedelta(days=25).total_seconds())
    assert sweeper.due() == ["t-mine"]
    assert not keepalive_due(
        mine.model_copy(update={"revoked_at": world.clock.now()}),
        now=world.clock.now(),
        idle_after=timedelta(days=25),
        key_current=True,
    )


async def test_a_sweep_refreshes_and_stores_the_rotated_token(world: World) -> None:
    await world.connected("t-mine")
    sweeper = keepalive(world, Owns("t-mine"))
    world.clock.advance(timedelta(days=26).total_seconds())
    assert await sweeper.sweep() == 1
    assert world.sf.refreshes == 1
    stored = world.store.get("t-mine")
    assert stored is not None
    assert stored.last_refreshed_at == world.clock.now()
    assert sweeper.due() == []
