"""Versions, the resource list of a version, and limits."""

from __future__ import annotations

import re
from typing import Any

from sf_emulator.rest.router import (
    NEWEST_VERSION,
    OLDEST_VERSION,
    Ctx,
    RestRequest,
    RestResponse,
)

_SEASONS = ("Winter", "Spring", "Summer")


def version_label(major: int) -> str:
    # v59.0 was Winter '24; three releases a year since.
    n = major - 59
    season = n % 3
    return f"{_SEASONS[season]} '{24 + (n - season) // 3}"


def versions() -> list[dict[str, str]]:
    return [
        {"label": version_label(v), "url": f"/services/data/v{v}.0", "version": f"{v}.0"}
        for v in range(OLDEST_VERSION, NEWEST_VERSION + 1)
    ]


def resources(ctx: Ctx, req: RestRequest, m: re.Match[str]) -> RestResponse:
    names = ["sobjects", "query", "queryAll", "composite", "limits"]
    return RestResponse(200, {n: f"{ctx.base}/{n}" for n in names})


def limits(ctx: Ctx, req: RestRequest, m: re.Match[str]) -> RestResponse:
    cap = ctx.org.settings.api_limit
    used = ctx.store.usage.used(ctx.org.id)
    body: dict[str, Any] = {
        "DailyApiRequests": {"Max": cap, "Remaining": max(cap - used, 0)},
        "DailyBulkApiBatches": {"Max": 15000, "Remaining": 15000},
        "DataStorageMB": {"Max": 1024, "Remaining": 1024},
        "FileStorageMB": {"Max": 1024, "Remaining": 1024},
    }
    return RestResponse(200, body)
