"""Prometheus metrics of request/reply: the asking client and the answering responder."""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from chat_runtime.labels import LabelCache

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
        self._child = LabelCache()

    def finished(self, topic: str, outcome: str, seconds: float) -> None:
        """Count one finished request; its round trip is observed only when it succeeded."""
        self._child(self.requests, topic, outcome).inc()
        if outcome == "ok":
            self._child(self.round_trip, topic).observe(seconds)


class ResponderMetrics:
    """A responder's metrics, labelled by request topic, registered in `registry`.

    - `rr_responder_requests_total{topic,outcome}`: requests answered; outcome is the
      reply's status or error code;
    - `rr_responder_seconds{topic}`: from the start of handling to the acknowledged reply;
    - `rr_responder_skipped_total{topic,reason}`: requests neither executed nor answered:
      `expired` (the caller had given up), `no_reply_to` / `bad_reply_to` (nowhere, or
      nowhere allowed, to answer), `closing` (left for the partition's next owner);
    - `rr_responder_reply_failures_total{topic,reason}`: replies Kafka did not take in time;
    - `rr_responder_in_flight{topic}`: requests being handled now.
    """

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        registry = registry if registry is not None else CollectorRegistry()
        self.requests = Counter(
            "rr_responder_requests",
            "Requests answered, by request topic and outcome (reply status or error code).",
            ["topic", "outcome"],
            registry=registry,
        )
        self.seconds = Histogram(
            "rr_responder_seconds",
            "Time from the start of handling to the acknowledged reply.",
            ["topic"],
            buckets=_BUCKETS,
            registry=registry,
        )
        self.skipped = Counter(
            "rr_responder_skipped",
            "Requests neither executed nor answered, by reason.",
            ["topic", "reason"],
            registry=registry,
        )
        self.reply_failures = Counter(
            "rr_responder_reply_failures",
            "Replies not delivered (reply topic gone, Kafka slow), by reason.",
            ["topic", "reason"],
            registry=registry,
        )
        self.in_flight = Gauge(
            "rr_responder_in_flight",
            "Requests being handled now.",
            ["topic"],
            registry=registry,
        )
        self._child = LabelCache()

    def answered(self, topic: str, outcome: str, seconds: float) -> None:
        """Count one answered request."""
        self._child(self.requests, topic, outcome).inc()
        self._child(self.seconds, topic).observe(seconds)

    def skip(self, topic: str, reason: str) -> None:
        """Count one request neither executed nor answered."""
        self._child(self.skipped, topic, reason).inc()

    def reply_failed(self, topic: str, reason: str) -> None:
        """Count one reply Kafka did not take."""
        self._child(self.reply_failures, topic, reason).inc()

    def in_flight_now(self, topic: str) -> Any:
        """The in-flight gauge of `topic` (its `set` is the window's callback)."""
        return self._child(self.in_flight, topic)
