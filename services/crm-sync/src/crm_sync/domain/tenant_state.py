"""What crm-sync remembers per tenant between batches: caches only (describe results,
agent Users, visitors' persons), and the brakes (a tenant parked until a time, a tenant
over its budget).
Losing all of it on a restart costs a few API calls, nothing else."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from chat_contracts.sync import RetryReason
from crm_sync.domain.schema import OrgSchema
from crm_sync.domain.ttl_cache import TtlCache
from crm_sync.domain.visitors import VisitorCache


@dataclass(frozen=True, slots=True)
class Parked:
    """A tenant not to be tried before `until` (monotonic seconds)."""

    until: float
    reason: RetryReason
    message: str


DUPLICATE_RULES_TTL_S = 900.0
"""How long a tenant counts as one whose duplicate rules fire after the last time."""


class TenantCaches:
    """Per-tenant memory shared by the sync and the manual commands."""

    def __init__(
        self,
        clock: Callable[[], float],
        *,
        describe_ttl_s: float,
        owner_ttl_s: float,
        visitor_ttl_s: float = 900.0,
        max_visitors: int = 100_000,
    ) -> None:
        self.clock = clock
        self.schemas: TtlCache[tuple[str, str], OrgSchema] = TtlCache(describe_ttl_s, clock)
        self.users: TtlCache[tuple[str, str], str] = TtlCache(owner_ttl_s, clock)
        """(tenant, agent email) -> User id, "" when no active User has that email."""
        self.visitors = VisitorCache(visitor_ttl_s, clock, max_visitors)
        """Persons lately matched or created per visitor identity (`domain.visitors`)."""
        self.over_budget_at: dict[str, float] = {}
        self.duplicate_rules: TtlCache[str, bool] = TtlCache(DUPLICATE_RULES_TTL_S, clock)
        """Tenants whose duplicate rules refused a new person lately."""
        self._parked: dict[str, Parked] = {}

    def parked(self, tenant_id: str) -> Parked | None:
        """The tenant's park, while it lasts."""
        park = self._parked.get(tenant_id)
        if park is not None and park.until <= self.clock():
            del self._parked[tenant_id]
            return None
        return park

    def park(self, tenant_id: str, reason: RetryReason, message: str, seconds: float) -> None:
        """Hold the tenant's next chats back for `seconds` without calling anyone."""
        self._parked[tenant_id] = Parked(self.clock() + seconds, reason, message)

    def users_of(self, tenant_id: str, emails: list[str]) -> dict[str, str]:
        """The cached User ids of agent emails ("" for a known miss)."""
        out = {}
        for email in emails:
            user = self.users.get((tenant_id, email))
            if user is not None:
                out[email] = user
        return out
