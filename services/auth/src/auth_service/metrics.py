"""auth's own metrics, beside the suite's (`chat_runtime.metrics`) in one registry.

Labels never carry a token: outcomes are fixed words and tenants are ids.
"""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge

from chat_runtime.metrics import ServiceMetrics, build_metrics


@dataclass(frozen=True, slots=True)
class AuthMetrics:
    suite: ServiceMetrics
    token_requests: Counter
    """Token requests answered, by outcome (ok, not_connected, revoked, refresh_failed, ...)."""
    refreshes: Counter
    """Refresh-token grants attempted, by outcome (ok, invalid_grant, transient, rejected)."""
    tenants: Gauge
    """Tenants in the store, by state (connected, revoked)."""
    connects: Counter
    """Connect attempts through the OAuth callback, by outcome."""


def build_auth_metrics(registry: CollectorRegistry) -> AuthMetrics:
    return AuthMetrics(
        suite=build_metrics(registry),
        token_requests=Counter(
            "auth_token_requests",
            "Token requests answered, by outcome.",
            ["outcome"],
            registry=registry,
        ),
        refreshes=Counter(
            "auth_token_refreshes",
            "Refresh-token grants sent to Salesforce, by outcome.",
            ["outcome"],
            registry=registry,
        ),
        tenants=Gauge(
            "auth_tenants",
            "Tenants in the refresh-token store, by state.",
            ["state"],
            registry=registry,
        ),
        connects=Counter(
            "auth_connects",
            "OAuth callbacks handled, by outcome.",
            ["outcome"],
            registry=registry,
        ),
    )
