"""Fault injection per org: shares of 503s and UNABLE_TO_LOCK_ROW, latency, and hangs.

Draws come from a per-org `random.Random`, seeded when the faults are set, so a test
that sets `seed` sees the same sequence on every run.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, fields
from typing import Any


@dataclass(frozen=True)
class FaultSettings:
    error_503_rate: float = 0.0  # share of data API calls answered 503 SERVER_UNAVAILABLE
    lock_row_rate: float = 0.0  # share of writes failing with UNABLE_TO_LOCK_ROW
    latency_ms: float = 0.0  # added to every data API call
    hang_rate: float = 0.0  # share of calls whose answer is held back `hang_seconds`
    hang_seconds: float = 30.0
    seed: int | None = None

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> FaultSettings:
        known = {f.name for f in fields(cls)}
        unknown = set(raw) - known
        if unknown:
            raise ValueError(f"unknown fault settings: {sorted(unknown)}; known: {sorted(known)}")
        settings = cls(**raw)
        for name in ("error_503_rate", "lock_row_rate", "hang_rate"):
            if not 0.0 <= float(getattr(settings, name)) <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")
        return settings

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Decision:
    unavailable: bool = False
    lock: bool = False
    latency: float = 0.0  # seconds, before handling
    hang: float = 0.0  # seconds, after handling and before answering


class FaultInjector:
    def __init__(self) -> None:
        self._rngs: dict[str, random.Random] = {}

    def reset(self, org_id: str, seed: int | None) -> None:
        self._rngs[org_id] = random.Random(seed)  # noqa: S311 - test faults, not secrets

    def decide(self, org_id: str, raw: dict[str, Any], dml: bool) -> Decision:
        if not raw:
            return Decision()
        s = FaultSettings.parse(raw)
        rng = self._rngs.setdefault(org_id, random.Random(s.seed))  # noqa: S311
        if s.error_503_rate and rng.random() < s.error_503_rate:
            return Decision(unavailable=True, latency=s.latency_ms / 1000)
        lock = bool(dml and s.lock_row_rate and rng.random() < s.lock_row_rate)
        hang = s.hang_seconds if s.hang_rate and rng.random() < s.hang_rate else 0.0
        return Decision(lock=lock, latency=s.latency_ms / 1000, hang=hang)
