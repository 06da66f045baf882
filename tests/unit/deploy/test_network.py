"""NetworkPolicies: deny by default; DNS, Kafka and scraping for all; the rest by label."""

from __future__ import annotations

from typing import Any

from tests.unit.deploy.manifests import Overlay, pod_labels, selects

# Who talks to Salesforce (DESIGN.md: crm-sync, bot-actions, auth) and who takes HTTP from
# outside the cluster (the issue: ingest's webhooks, auth's connect page).
SALESFORCE = {"crm-sync", "bot-actions", "auth"}
PUBLIC_HTTP = {"ingest-webhook", "auth", "console"}
DATABASE = {"console"}
PRIVATE = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"]


def _policies_for(overlay: Overlay, labels: dict[str, str]) -> dict[str, dict[str, Any]]:
    return {
        p["metadata"]["name"]: p["spec"]
        for p in overlay.of_kind("NetworkPolicy")
        if selects(p["spec"]["podSelector"].get("matchLabels", {}), labels)
    }


def test_everything_is_denied_unless_allowed(overlay: Overlay) -> None:
    deny = overlay.get("NetworkPolicy", "default-deny")["spec"]
    assert deny == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}


def test_each_workload_gets_exactly_what_it_needs(overlay: Overlay) -> None:
    for deployment in overlay.deployments():
        name = deployment["metadata"]["name"]
        policies = _policies_for(overlay, pod_labels(deployment))
        expected = {"default-deny", "allow-dns", "allow-kafka", "allow-metrics-scrape"}
        if name in SALESFORCE:
            expected.add("allow-salesforce-https")
        if name in PUBLIC_HTTP:
            expected.add("allow-public-http")
        if name in DATABASE:
            expected.add("allow-database")
        assert set(policies) == expected, name


def test_kafka_egress_reaches_only_the_brokers_listeners(overlay: Overlay) -> None:
    (rule,) = overlay.get("NetworkPolicy", "allow-kafka")["spec"]["egress"]
    (peer,) = rule["to"]
    assert peer["podSelector"]["matchLabels"]["strimzi.io/broker-role"] == "true"
    assert {p["port"] for p in rule["ports"]} == {9092, 9093}


def test_salesforce_egress_is_https_to_public_addresses_only(overlay: Overlay) -> None:
    (rule,) = overlay.get("NetworkPolicy", "allow-salesforce-https")["spec"]["egress"]
    assert rule["ports"] == [{"protocol": "TCP", "port": 443}]
    v4 = next(p["ipBlock"] for p in rule["to"] if p["ipBlock"]["cidr"] == "0.0.0.0/0")
    assert set(PRIVATE) <= set(v4["except"])


def test_inbound_http_only_on_the_named_port(overlay: Overlay) -> None:
    for name in ("allow-public-http", "allow-metrics-scrape"):
        (rule,) = overlay.get("NetworkPolicy", name)["spec"]["ingress"]
        assert rule["ports"] == [{"protocol": "TCP", "port": "http"}]
        assert all("namespaceSelector" in peer for peer in rule["from"])
