"""The org's API budget, read from `Sforce-Limit-Info` on every answer.

Salesforce counts each REST call against a rolling 24-hour budget per org and reports
`Sforce-Limit-Info: api-usage=USED/MAX` (sometimes followed by
`; per-app-api-usage=U/M(appName=...)`) on every response. `ApiBudget` keeps the latest
figures per tenant and feeds the runtime's `chat_salesforce_api_remaining` and
`chat_salesforce_api_limit` gauges, so alerts fire before the org runs dry and batching
services can slow down (`remaining_share`).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

from chat_runtime.metrics import ServiceMetrics

HEADER = "Sforce-Limit-Info"
_API_USAGE = re.compile(r"(?:^|[;,\s])api-usage=(\d+)/(\d+)")


@dataclass(frozen=True, slots=True)
class ApiUsage:
    """Calls used and allowed in the org's rolling 24 hours."""

    used: int
    limit: int

    @property
    def remaining(self) -> int:
        """Calls left (never negative)."""
        return max(0, self.limit - self.used)


def parse_limit_info(header: str | None) -> ApiUsage | None:
    """`api-usage=USED/MAX` of a `Sforce-Limit-Info` value; None when absent or garbled."""
    if not header:
        return None
    match = _API_USAGE.search(header)
    if match is None:
        return None
    used, limit = int(match.group(1)), int(match.group(2))
    return ApiUsage(used, limit) if limit > 0 else None


class ApiBudget:
    """Latest `ApiUsage` per tenant; thread-safe (worker threads record, the loop reads)."""

    def __init__(self, metrics: ServiceMetrics | None = None) -> None:
        self._metrics = metrics
        self._usage: dict[str, ApiUsage] = {}
        self._lock = threading.Lock()

    def record(self, tenant_id: str, header: str | None) -> ApiUsage | None:
        """Take the figures of one response's header (ignored when it has none)."""
        usage = parse_limit_info(header)
        if usage is None:
            return None
        with self._lock:
            self._usage[tenant_id] = usage
        if self._metrics is not None:
            self._metrics.salesforce_api_remaining.labels(tenant_id).set(usage.remaining)
            self._metrics.salesforce_api_limit.labels(tenant_id).set(usage.limit)
        return usage

    def usage(self, tenant_id: str) -> ApiUsage | None:
        """The latest figures seen for the tenant, if any call reported them."""
        with self._lock:
            return self._usage.get(tenant_id)

    def remaining_share(self, tenant_id: str) -> float:
        """Share of the budget left, 1.0 while unknown: what a throttle compares against."""
        usage = self.usage(tenant_id)
        return 1.0 if usage is None else usage.remaining / usage.limit
