"""Time, in the three forms auth uses; tests pass a clock they move by hand."""

from __future__ import annotations

import time
from datetime import UTC, datetime


class Clock:
    def wall(self) -> datetime:
        """Now, tz-aware UTC (timestamps written to topics)."""
        return datetime.now(UTC)

    def epoch(self) -> float:
        """Now in epoch seconds (request deadlines, state and link expiry)."""
        return time.time()

    def mono(self) -> float:
        """Monotonic seconds (ages of cached tokens, cool-downs)."""
        return time.monotonic()
