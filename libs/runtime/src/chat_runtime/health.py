"""Kubernetes probes as FastStream ASGI handlers.

- `/healthz` (liveness): the process serves HTTP. Never checks Kafka: a broker outage must
  not make Kubernetes restart every replica, which would only add rebalances to the outage.
- `/readyz` (readiness): the broker answers (`KafkaBroker.ping`, what FastStream's
  `make_ping_asgi` calls) and every extra check passes. 200 with a JSON body naming each
  check, else 503. `make_ping_asgi` itself answers 204/500; probes accept both, but 503 is
  the status that says "not ready" to a human reading the body too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Protocol

from faststream.asgi import AsgiResponse, get
from faststream.asgi.handlers import GetHandler
from faststream.asgi.response import JSONResponse
from faststream.asgi.types import Scope

ReadinessCheck = Callable[[], Awaitable[bool]]
"""An async check: True when ready. Raising counts as not ready."""

# A readiness probe that hangs is worse than one that fails: Kubernetes' own timeout is 1 s
# by default, so each check gets less than that.
DEFAULT_CHECK_TIMEOUT_S = 0.8


class Pingable(Protocol):
    """What readiness needs of a broker (`KafkaBroker` is one)."""

    async def ping(self, timeout: float | None) -> bool: ...  # noqa: ASYNC109 - FastStream's


def liveness_handler() -> GetHandler:
    """`GET /healthz`: 200 as long as the event loop serves requests."""

    @get(include_in_schema=False)
    async def healthz(scope: Scope) -> AsgiResponse:
        return JSONResponse({"status": "ok"})

    return healthz


def readiness_handler(
    broker: Pingable,
    checks: Mapping[str, ReadinessCheck] | None = None,
    *,
    timeout: float = DEFAULT_CHECK_TIMEOUT_S,
) -> GetHandler:
    """`GET /readyz`: 200 when the broker answers and every extra check returns True."""
    all_checks: dict[str, ReadinessCheck] = {"kafka": lambda: broker.ping(timeout)}
    all_checks.update(checks or {})

    @get(include_in_schema=False)
    async def readyz(scope: Scope) -> AsgiResponse:
        names = list(all_checks)
        results = await asyncio.gather(*(_run(all_checks[n], timeout) for n in names))
        report = dict(zip(names, results, strict=True))
        ready = all(report.values())
        return JSONResponse(
            {"status": "ready" if ready else "not ready", "checks": report},
            status_code=200 if ready else 503,
        )

    return readyz


async def _run(check: ReadinessCheck, limit_s: float) -> bool:
    try:
        async with asyncio.timeout(limit_s):
            return bool(await check())
    except Exception:  # noqa: BLE001 - a failing check means "not ready", not a 500
        return False
