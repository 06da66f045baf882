"""The console's own metrics, beside the runtime's."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter

from chat_runtime.metrics import NAMESPACE


@dataclass(frozen=True)
class ConsoleMetrics:
    stored: Counter
    refused: Counter


def build_console_metrics(registry: CollectorRegistry) -> ConsoleMetrics:
    return ConsoleMetrics(
        stored=Counter(
            "console_history_records",
            "Records of the console's topics stored in its history.",
            namespace=NAMESPACE,
            registry=registry,
        ),
        refused=Counter(
            "console_history_refused",
            "Records that did not decode as their topic's contract (passed over).",
            ["kind"],
            namespace=NAMESPACE,
            registry=registry,
        ),
    )
