"""The bench's bulk seed: every seeded tenant connected once, a connected one left alone."""

from __future__ import annotations

from pydantic import SecretStr

from auth_service.config import DemoTenant
from auth_service.handlers.demo import bootstrap_bulk
from tests.unit.auth.conftest import World


async def test_every_tenant_without_a_connection_is_connected(world: World) -> None:
    await world.connected("t-0")
    tenants = [
        DemoTenant(tenant_id=f"t-{n}", refresh_token=SecretStr(f"seed-{n}"), sandbox=False)
        for n in range(5)
    ]
    connected = await bootstrap_bulk(
        tenants, store=world.store, salesforce=world.sf, connect=world.connect, concurrency=2
    )
    assert connected == 4
    assert world.sf.refreshes == 4
    assert all(world.store.get(f"t-{n}") is not None for n in range(5))
    assert world.events.kinds().count("connected") == 4
