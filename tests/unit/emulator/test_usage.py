"""API usage counting: each call once, and the hours served over the allocation."""

from __future__ import annotations

from sf_emulator.store.db import Database
from sf_emulator.store.usage import UsageMeter


def test_the_first_call_of_an_org_counts_once() -> None:
    meter = UsageMeter(Database())
    assert meter.count("00D", "query") == 1  # no `used()` before it to warm the cache
    assert meter.used("00D") == 1
    assert meter.by_resource("00D") == {"query": 1}


def test_bursts_are_hours_and_reset_with_the_usage() -> None:
    meter = UsageMeter(Database())
    assert meter.bursts("00D") == 0
    meter.mark_burst("00D")
    meter.mark_burst("00D")  # the same hour
    assert meter.bursts("00D") == 1
    meter.reset("00D")
    assert meter.bursts("00D") == 0
