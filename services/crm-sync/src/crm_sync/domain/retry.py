"""When to try again: backoff between write rounds, not-before times of parked chats,
when a parked chat has waited long enough to be given up, and the API budget brake."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from chat_contracts.sync import RetryReason
from crm_sync.domain.salesforce import ApiUsage

Jitter = Callable[[], float]
"""A random number in [0, 1)."""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """The numbers (from the settings) behind every retry decision."""

    round_backoff_s: float = 0.2
    round_backoff_max_s: float = 3.0
    park_backoff_s: float = 10.0
    park_backoff_max_s: float = 900.0
    budget_backoff_s: float = 600.0
    max_age_s: float = 3 * 24 * 3600.0
    internal_attempts: int = 3
    """A chat that met a bug this many times is dead-lettered: it will not pass."""

    def round_pause(self, round_no: int, jitter: Jitter) -> float:
        """Pause before write round `round_no` (2, 3, ...): exponential, full jitter."""
        ceiling = min(self.round_backoff_max_s, self.round_backoff_s * 2 ** (round_no - 2))
        return float(ceiling * (0.5 + jitter() / 2))

    def park_delay(self, reason: RetryReason, attempt: int, jitter: Jitter) -> float:
        """Seconds a chat parked for the `attempt`-th time waits (±20% jitter, so parked
        chats do not come back all at once)."""
        if reason is RetryReason.API_BUDGET:
            base = self.budget_backoff_s
        else:
            base = min(self.park_backoff_max_s, self.park_backoff_s * 2 ** (attempt - 1))
        return base * (0.8 + 0.4 * jitter())

    def not_before(
        self, now: datetime, reason: RetryReason, attempt: int, jitter: Jitter
    ) -> datetime:
        """When a chat parked now may be tried again."""
        return now + timedelta(seconds=self.park_delay(reason, attempt, jitter))

    def given_up(
        self, first_failed_at: datetime, now: datetime, reason: RetryReason, attempt: int
    ) -> bool:
        """Dead-letter instead of parking again: parked for longer than the maximum age,
        or failed by a bug `internal_attempts` times."""
        if reason is RetryReason.INTERNAL and attempt >= self.internal_attempts:
            return True
        return (now - first_failed_at).total_seconds() > self.max_age_s


def budget_wait(
    usage: ApiUsage | None,
    share: float,
    last_write_at: float | None,
    now: float,
    backoff_s: float,
) -> float:
    """Seconds the tenant must wait before its next batch (0: go now).

    Above `share` of the org's daily budget the tenant is slowed, not stopped: one batch
    per `backoff_s`, so chats gather into fewer, larger batches and the rest of the
    budget stays for the org's other integrations.
    """
    if usage is None or usage.share_used < share or last_write_at is None:
        return 0.0
    return max(0.0, last_write_at + backoff_s - now)
