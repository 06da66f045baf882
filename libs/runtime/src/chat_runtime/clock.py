"""Time, one way for the whole suite; tests pass a clock they move by hand.

Four forms, each for one purpose: `now()` for timestamps written to topics and
Salesforce, `epoch()` for request deadlines and expiries agreed with other processes,
`monotonic()` for ages and durations inside one process, `sleep()` for waiting.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime


class Clock:
    """The system's clock."""

    def now(self) -> datetime:
        """Now, tz-aware UTC."""
        return datetime.now(UTC)

    def epoch(self) -> float:
        """Now in epoch seconds."""
        return time.time()

    def monotonic(self) -> float:
        """Monotonic seconds (ages of cached values, cool-downs, durations)."""
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        """Wait `seconds`."""
        await asyncio.sleep(seconds)
