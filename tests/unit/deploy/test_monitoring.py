"""ServiceMonitors, the on-call alerts and the dashboard: on metrics the services export."""

from __future__ import annotations

import json
import re
from typing import Any

from deploy.k8s.access import WORKLOADS
from tests.unit.deploy.conftest import Probe
from tests.unit.deploy.manifests import ROOT, Overlay, promql_metrics, selects

DASHBOARD = ROOT / "deploy" / "k8s" / "base" / "monitoring" / "dashboards" / "chat-salesforce.json"
# Series from outside the services: Prometheus itself, and Strimzi's Kafka Exporter.
EXTERNAL = {"up", "kafka_consumergroup_lag"}
_HISTOGRAM = re.compile(r"_(bucket|sum|count)$")
GROUPS_REGEX = "|".join(sorted(g.name for a in WORKLOADS for g in a.groups))


def _rules(prod: Overlay) -> dict[str, dict[str, Any]]:
    (rule,) = prod.of_kind("PrometheusRule")
    return {r["alert"]: r for g in rule["spec"]["groups"] for r in g["rules"] if "alert" in r}


def _recorded(prod: Overlay) -> dict[str, dict[str, Any]]:
    (rule,) = prod.of_kind("PrometheusRule")
    return {r["record"]: r for g in rule["spec"]["groups"] for r in g["rules"] if "record" in r}


def _dashboard() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DASHBOARD.read_text("utf-8"))
    return data


def _dashboard_exprs() -> list[str]:
    return [t["expr"] for p in _dashboard()["panels"] for t in p.get("targets", [])]


def test_every_service_is_scraped_with_the_suite_label(prod: Overlay) -> None:
    monitors = prod.of_kind("ServiceMonitor")
    for service in prod.of_kind("Service"):
        labels = service["metadata"]["labels"]
        assert labels["app.kubernetes.io/part-of"] == "chat-salesforce"
        (monitor,) = [m for m in monitors if selects(m["spec"]["selector"]["matchLabels"], labels)]
        (endpoint,) = monitor["spec"]["endpoints"]
        assert (endpoint["port"], endpoint["path"]) == ("http", "/metrics")
        assert {
            "sourceLabels": ["__meta_kubernetes_service_label_app_kubernetes_io_part_of"],
            "targetLabel": "suite",
        } in endpoint["relabelings"]


def test_the_alerts_on_call_needs_exist(prod: Overlay) -> None:
    rules = _rules(prod)
    wanted = {
        "ChatConsumerLagGrowing": "kafka_consumergroup_lag",
        "ChatDeadLetters": "chat_messages_dead_lettered_total",
        "ChatTenantRevoked": "auth_tenants",
        "ChatTenantDisconnected": "auth_token_requests_total",
        "ChatSalesforceApiBudgetHigh": "chat_salesforce_api_remaining",
        "ChatSalesforceErrors": "chat_salesforce_calls_total",
        "ChatFreshnessBudgetBurningFast": "slo:chat_freshness:error_ratio:rate1h",
        "ChatFreshnessBudgetBurningSlowly": "slo:chat_freshness:error_ratio:rate6h",
        "ChatBotActionsBudgetBurningFast": "slo:bot_actions_latency:error_ratio:rate1h",
        "ChatBotActionsBudgetBurningSlowly": "slo:bot_actions_latency:error_ratio:rate6h",
    }
    for alert, metric in wanted.items():
        expr = rules[alert]["expr"]
        assert metric in (promql_metrics(expr) if ":" not in metric else expr), alert
        assert rules[alert]["labels"]["severity"] in {"warning", "critical"}
        assert rules[alert]["annotations"]["summary"]
    assert re.search(r"\) > 0\.8\s*$", rules["ChatSalesforceApiBudgetHigh"]["expr"])
    recorded = _recorded(prod)
    freshness = recorded["slo:chat_freshness:error_ratio:rate1h"]["expr"]
    assert 'chat_crm_sync_freshness_seconds_bucket{suite="chat-salesforce", le="60.0"}' in freshness
    latency = recorded["slo:bot_actions_latency:error_ratio:rate1h"]["expr"]
    assert 'bot_actions_seconds_bucket{suite="chat-salesforce", le="1.0"}' in latency
    assert re.search(r"\) > 0\s*$", rules["ChatDeadLetters"]["expr"])


def test_lag_is_watched_for_every_consumer_group(prod: Overlay) -> None:
    lag = _rules(prod)["ChatConsumerLagGrowing"]["expr"]
    assert f'consumergroup=~"{GROUPS_REGEX}"' in lag
    assert any(f'consumergroup=~"{GROUPS_REGEX}"' in e for e in _dashboard_exprs())


def test_the_suites_series_are_selected_by_the_suite_label(prod: Overlay) -> None:
    rules = {**_rules(prod), **_recorded(prod)}
    for expr in [r["expr"] for r in rules.values()] + _dashboard_exprs():
        for selector in re.findall(r"\b([a-z_:][a-z0-9_:]*)\{([^}]*)\}", expr):
            metric, matchers = selector
            if metric != "kafka_consumergroup_lag":
                assert 'suite="chat-salesforce"' in matchers, (metric, expr)


def test_rules_and_dashboard_use_only_metrics_the_services_export(
    prod: Overlay, probes: dict[str, Probe]
) -> None:
    recorded = _recorded(prod)
    exported = EXTERNAL | set(recorded) | {m for p in probes.values() for m in p.metrics}
    used = set()
    rules = {**_rules(prod), **recorded}
    for expr in [r["expr"] for r in rules.values()] + _dashboard_exprs():
        used |= {_HISTOGRAM.sub("", m) for m in promql_metrics(expr)}
    assert used - exported == set()


def test_the_dashboard_is_provisioned_with_a_datasource_variable(prod: Overlay) -> None:
    dashboard = _dashboard()
    names = {v["name"] for v in dashboard["templating"]["list"]}
    assert {"datasource", "namespace"} <= names
    panels = [p for p in dashboard["panels"] if p["type"] != "row"]
    assert len({p["id"] for p in dashboard["panels"]}) == len(dashboard["panels"])
    for panel in panels:
        assert panel["targets"]
        assert panel["datasource"]["uid"] == "${datasource}"
    config_map = prod.get("ConfigMap", "chat-salesforce-dashboard")
    assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert json.loads(config_map["data"]["chat-salesforce.json"]) == dashboard
