"""bot-actions' own metrics, beside FastStream's and the suite's in the service registry.

- `bot_actions_requests_total{action,outcome}`: answered requests; outcome is the reply's
  status or error code (`found`, `not_found`, `validation`, `deadline_exceeded`, ...);
  action `invalid` for a request that did not parse;
- `bot_actions_seconds{action}`: from the start of handling to the reply being confirmed;
- `bot_actions_skipped_total{reason}`: requests not executed and not answered: `expired`
  (the caller had given up), `no_reply_to` (nowhere to answer), `closing` (left for the
  next owner of the partition at shutdown);
- `bot_actions_reply_failures_total`: replies Kafka did not accept;
- `bot_actions_in_flight`: requests being handled now;
- `chat_salesforce_calls_total`, `chat_salesforce_api_remaining` (the suite's): from the
  Salesforce gateway.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


@dataclass
class BotMetrics:
    """The metrics bot-actions feeds; labelled children are cached."""

    requests: Counter
    seconds: Histogram
    skipped: Counter
    reply_failures: Counter
    in_flight: Gauge
    _children: dict[tuple[Any, ...], Any] = field(default_factory=dict)

    def answered(self, action: str, outcome: str, seconds: float) -> None:
        """Count one answered request."""
        self._child(self.requests, action, outcome).inc()
        self._child(self.seconds, action).observe(seconds)

    def skip(self, reason: str) -> None:
        """Count one request neither executed nor answered."""
        self._child(self.skipped, reason).inc()

    def _child(self, metric: Any, *labels: str) -> Any:
        key = (id(metric), *labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*labels)
        return child


def build_bot_metrics(registry: CollectorRegistry) -> BotMetrics:
    """Create bot-actions' metrics in `registry` (once per registry)."""
    return BotMetrics(
        requests=Counter(
            "bot_actions_requests",
            "Bot action requests answered, by action and outcome.",
            ["action", "outcome"],
            registry=registry,
        ),
        seconds=Histogram(
            "bot_actions_seconds",
            "Time from the start of handling to the confirmed reply, by action.",
            ["action"],
            buckets=_BUCKETS,
            registry=registry,
        ),
        skipped=Counter(
            "bot_actions_skipped",
            "Requests neither executed nor answered, by reason.",
            ["reason"],
            registry=registry,
        ),
        reply_failures=Counter(
            "bot_actions_reply_failures",
            "Replies that Kafka did not accept (the caller will time out).",
            registry=registry,
        ),
        in_flight=Gauge("bot_actions_in_flight", "Requests being handled now.", registry=registry),
    )
