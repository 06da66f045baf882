"""Prometheus metrics of the request/reply client."""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

# Round trips on one broker are milliseconds; a slow responder takes seconds.
_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class RequestReplyMetrics:
    """The client's metrics, registered in `registry` (a private one when None)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        registry = registry if registry is not None else CollectorRegistry()
        self.in_flight = Gauge(
            "rr_client_in_flight",
            "Requests sent and waiting for a reply.",
            registry=registry,
        )
        self.requests = Counter(
            "rr_client_requests",
            "Requests by destination topic and outcome (ok, timeout, not_sent, error).",
            ["topic", "outcome"],
            registry=registry,
        )
        self.unknown_replies = Counter(
            "rr_client_unknown_replies",
            "Replies dropped because no request waited for them (late or duplicate).",
            registry=registry,
        )
        self.round_trip = Histogram(
            "rr_client_round_trip_seconds",
            "Time from sending a request to receiving its reply.",
            ["topic"],
            buckets=_BUCKETS,
            registry=registry,
        )
        # Labelled children cached per (topic, outcome): labels() costs a lock and a dict
        # lookup per call, which shows at tens of thousands of requests a second.
        self._children: dict[tuple[str, str], tuple[Any, Any]] = {}

    def finished(self, topic: str, outcome: str, seconds: float) -> None:
        """Count one finished request; its round trip is observed only when it succeeded."""
        children = self._children.get((topic, outcome))
        if children is None:
            children = (
                self.requests.labels(topic=topic, outcome=outcome),
                self.round_trip.labels(topic=topic),
            )
            self._children[(topic, outcome)] = children
        counter, histogram = children
        counter.inc()
        if outcome == "ok":
            histogram.observe(seconds)
