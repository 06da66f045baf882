"""Metrics are built per registry: two services in one process never collide."""

from __future__ import annotations

from prometheus_client import generate_latest

from chat_runtime.metrics import build_metrics, new_registry, prometheus_middleware


def test_two_services_in_one_process_each_get_their_own_metrics() -> None:
    first, second = new_registry(), new_registry()
    a = build_metrics(first)
    b = build_metrics(second)  # would raise "Duplicated timeseries" on a shared registry

    a.dead_lettered.labels(topic="chat.raw.v1", reason="invalid_json").inc()
    b.salesforce_calls.labels(tenant="t-1", operation="query", outcome="ok").inc(3)

    first_text = generate_latest(first).decode()
    second_text = generate_latest(second).decode()
    assert 'chat_messages_dead_lettered_total{reason="invalid_json",topic="chat.raw.v1"} 1.0' in (
        first_text
    )
    assert 'tenant="t-1"' not in first_text
    assert (
        'chat_salesforce_calls_total{operation="query",outcome="ok",tenant="t-1"} 3.0'
        in second_text
    )


def test_every_standard_metric_is_exposed() -> None:
    registry = new_registry()
    metrics = build_metrics(registry)
    metrics.salesforce_api_remaining.labels(tenant="t-1").set(14_000)
    metrics.salesforce_api_limit.labels(tenant="t-1").set(15_000)
    rr = metrics.request_reply
    rr.in_flight.inc()
    rr.requests.labels(topic="auth.token-requests.v1", outcome="timeout").inc()
    rr.unknown_replies.inc()
    rr.round_trip.labels(topic="auth.token-requests.v1").observe(0.004)

    text = generate_latest(registry).decode()
    for name in (
        "chat_messages_dead_lettered_total",
        "chat_salesforce_calls_total",
        'chat_salesforce_api_remaining{tenant="t-1"} 14000.0',
        'chat_salesforce_api_limit{tenant="t-1"} 15000.0',
        "rr_client_in_flight 1.0",
        'rr_client_requests_total{outcome="timeout",topic="auth.token-requests.v1"} 1.0',
        "rr_client_unknown_replies_total 1.0",
        "rr_client_round_trip_seconds_bucket",
        "process_cpu_seconds_total",  # process collector of the per-service registry
        "python_info",
    ):
        assert name in text, name


def test_faststream_middleware_writes_into_the_given_registry() -> None:
    registry = new_registry()
    middleware = prometheus_middleware(registry, "crm-sync")
    # A second middleware on the same registry reuses FastStream's metrics: no duplicate error.
    assert prometheus_middleware(registry, "crm-sync") is not middleware


def test_tenant_labels_name_the_first_tenants_and_count_the_rest_as_other() -> None:
    from chat_runtime.metrics import OTHER_TENANTS, TenantLabels

    labels = TenantLabels(limit=2)
    assert [labels(t) for t in ("a", "b", "c", "a", "d", "b")] == [
        "a",
        "b",
        OTHER_TENANTS,
        "a",
        OTHER_TENANTS,
        "b",
    ]
