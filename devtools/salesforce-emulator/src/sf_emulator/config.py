"""Settings of one emulator process."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EmulatorConfig:
    data: str = ":memory:"  # SQLite file; a file survives restarts
    session_timeout: int = 7200  # default for new orgs, seconds
    sandbox_prefix: str = "/sandbox"  # path of the sandbox login host (test.salesforce.com)
