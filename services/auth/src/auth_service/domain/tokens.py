"""Access tokens: what is cached per tenant, when a request is served from the cache,
and how long a tenant whose refresh keeps failing is left alone.

Salesforce does not say when an access token expires (sessions time out after the org's
inactivity timeout), so a cached token is served until it is `max_age_s` old or a caller
reports that Salesforce refused it. A caller names the refused token by fingerprint:
if it is the cached one, auth refreshes; if the cache already holds a newer token, that
one is served. So a burst of callers all holding the same dead token cause one refresh.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property

from pydantic import SecretStr

from chat_contracts.auth import RefreshTokenRecord, token_fingerprint


@dataclass(frozen=True)
class AccessGrant:
    """An access token as auth holds it, with what callers need to use it."""

    access_token: SecretStr
    instance_url: str
    org_id: str
    user_id: str
    issued_at: datetime
    obtained_at: float  # monotonic seconds, for the age check

    @cached_property
    def fingerprint(self) -> str:
        return token_fingerprint(self.access_token.get_secret_value())

    def age(self, now: float) -> float:
        return now - self.obtained_at


class Decision(enum.Enum):
    SERVE = "serve"
    REFRESH = "refresh"


@dataclass(frozen=True, slots=True)
class CachePolicy:
    max_age_s: float = 3600.0
    """Refresh a token this old even if nobody reported it refused."""
    force_min_interval_s: float = 1.0
    """`force_refresh` within this long of a refresh is served the fresh token (storm guard)."""

    def decide(
        self,
        cached: AccessGrant | None,
        *,
        now: float,
        force: bool = False,
        rejected_fingerprint: str | None = None,
    ) -> Decision:
        if cached is None or cached.age(now) >= self.max_age_s:
            return Decision.REFRESH
        if rejected_fingerprint is not None:
            # Refused token still cached: refresh. Else a newer one is cached already.
            return (
                Decision.REFRESH if rejected_fingerprint == cached.fingerprint else Decision.SERVE
            )
        if force and cached.age(now) >= self.force_min_interval_s:
            return Decision.REFRESH
        return Decision.SERVE


@dataclass(slots=True)
class Cooldown:
    """After a failed refresh (Salesforce down), answer at once for a while instead of
    holding a partition's requests behind another slow refresh. Doubles per failure."""

    base_s: float = 2.0
    max_s: float = 60.0
    failures: int = 0
    until: float = field(default=0.0)

    def failed(self, now: float) -> None:
        self.failures += 1
        self.until = now + min(self.max_s, self.base_s * 2 ** (self.failures - 1))

    def succeeded(self) -> None:
        self.failures = 0
        self.until = 0.0

    def blocks(self, now: float) -> bool:
        return now < self.until

    def remaining(self, now: float) -> float:
        return max(0.0, self.until - now)


def keepalive_due(
    record: RefreshTokenRecord, *, now: datetime, idle_after: timedelta, key_current: bool
) -> bool:
    """Whether a tenant's refresh token must be used now: unused for `idle_after` (Salesforce
    expires a refresh token left unused for 30 days), or still sealed with a key that is no
    longer the active one (a refresh stores it re-sealed)."""
    if record.revoked_at is not None:
        return False
    if not key_current:
        return True
    last_used = record.last_refreshed_at or record.connected_at
    return now - last_used >= idle_after
