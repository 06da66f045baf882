"""One run per key; waiters share it; a waiter giving up does not cancel it."""

from __future__ import annotations

import asyncio

import pytest

from chat_runtime.single_flight import SingleFlight


async def test_concurrent_callers_share_one_run() -> None:
    flights: SingleFlight[str, int] = SingleFlight()
    runs = 0
    gate = asyncio.Event()

    async def job() -> int:
        nonlocal runs
        runs += 1
        await gate.wait()
        return 42

    waiters = [asyncio.create_task(flights.wait("t1", job, 5)) for _ in range(100)]
    await asyncio.sleep(0)
    assert flights.running("t1")
    gate.set()
    assert await asyncio.gather(*waiters) == [42] * 100
    assert runs == 1
    assert not flights.running("t1")


async def test_keys_do_not_share() -> None:
    flights: SingleFlight[str, str] = SingleFlight()

    async def job(value: str) -> str:
        await asyncio.sleep(0.01)
        return value

    a, b = await asyncio.gather(
        flights.wait("a", lambda: job("a"), 5), flights.wait("b", lambda: job("b"), 5)
    )
    assert (a, b) == ("a", "b")
    assert flights.started == 2


async def test_a_waiter_timing_out_leaves_the_run_going() -> None:
    flights: SingleFlight[str, int] = SingleFlight()

    async def slow() -> int:
        await asyncio.sleep(0.1)
        return 7

    with pytest.raises(TimeoutError):
        await flights.wait("t1", slow, 0.01)
    assert await flights.wait("t1", slow, 5) == 7
    assert flights.started == 1


async def test_a_failure_reaches_every_waiter_and_the_next_call_runs_again() -> None:
    flights: SingleFlight[str, int] = SingleFlight()
    calls = 0

    async def failing() -> int:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.01)
        raise RuntimeError("down")

    results = await asyncio.gather(
        *(flights.wait("t1", failing, 5) for _ in range(3)), return_exceptions=True
    )
    assert all(isinstance(r, RuntimeError) for r in results)
    assert calls == 1
    with pytest.raises(RuntimeError):
        await flights.wait("t1", failing, 5)
    assert calls == 2
