"""bot-actions' own metrics, beside the runtime's and the suite's in the service registry.

- `bot_actions_requests_total{action,outcome}`: actions answered; outcome is the reply's
  status or error code (`found`, `not_found`, `required_fields_missing`, ...);
- `bot_actions_seconds{action}`: time an action took;
- `rr_responder_*` (the runtime's, label `topic`): every request, answered or skipped
  (`expired`, `no_reply_to`, `bad_reply_to`, `closing`), replies Kafka did not take,
  requests in flight;
- `chat_salesforce_calls_total`, `chat_salesforce_api_remaining` (the suite's): from the
  Salesforce gateway.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Histogram

from chat_runtime.labels import LabelCache

_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


@dataclass
class BotMetrics:
    """The metrics bot-actions feeds; labelled children are cached."""

    requests: Counter
    seconds: Histogram
    _child: LabelCache = field(default_factory=LabelCache)

    def answered(self, action: str, outcome: str, seconds: float) -> None:
        """Count one answered action."""
        self._child(self.requests, action, outcome).inc()
        self._child(self.seconds, action).observe(seconds)


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
            "Time an action took, by action.",
            ["action"],
            buckets=_BUCKETS,
            registry=registry,
        ),
    )
