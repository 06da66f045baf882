"""Versions, describeGlobal, describe, and per-org custom fields."""

from __future__ import annotations

import pytest
from simple_salesforce.api import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest, SalesforceResourceNotFound

from tests.emulator_fixtures import SalesforceEmulator, rest, sobject


def test_versions_and_resources(sf_emulator: SalesforceEmulator, sf: Salesforce) -> None:
    versions = sf_emulator.admin.get("/services/data/").json()
    assert {"label": "Winter '24", "url": "/services/data/v59.0", "version": "59.0"} in versions
    assert rest(sf, "")["query"] == "/services/data/v59.0/query"
    assert sf_emulator.admin.get("/services/data/v99.0/limits").status_code == 404


def test_describe_global(sf: Salesforce) -> None:
    result = sf.describe()
    assert result is not None
    assert result["encoding"] == "UTF-8"
    assert result["maxBatchSize"] == 200
    prefixes = {o["name"]: o["keyPrefix"] for o in result["sobjects"]}
    assert prefixes["Lead"] == "00Q"
    assert prefixes["Contact"] == "003"
    assert prefixes["ContentDocumentLink"] == "06A"


def test_describe_fields_and_required_rule(sf: Salesforce) -> None:
    fields = {f["name"]: f for f in sobject(sf, "Lead").describe()["fields"]}
    required = sorted(
        n
        for n, f in fields.items()
        if f["createable"] and not f["nillable"] and not f["defaultedOnCreate"]
    )
    assert required == ["Company", "LastName"]
    assert fields["Email"]["type"] == "email"
    assert fields["Email"]["idLookup"] is True
    assert fields["ConvertedContactId"]["referenceTo"] == ["Contact"]
    assert "Open - Not Contacted" in [p["value"] for p in fields["Status"]["picklistValues"]]
    task = {f["name"]: f for f in sobject(sf, "Task").describe()["fields"]}
    assert task["Description"]["length"] == 32000
    assert task["WhoId"]["referenceTo"] == ["Contact", "Lead"]
    assert task["WhoId"]["relationshipName"] == "Who"
    with pytest.raises(SalesforceResourceNotFound):
        sobject(sf, "Widget").describe()


def test_custom_fields_per_org(sf_emulator: SalesforceEmulator) -> None:
    org = sf_emulator.create_org(
        custom_fields=[
            {"object": "Lead", "name": "Chat_Id__c", "external_id": True, "length": 40},
            {"object": "Lead", "name": "Score__c", "type": "double"},
            {
                "object": "Lead",
                "name": "Topics__c",
                "type": "multipicklist",
                "picklist": ["A", "B"],
            },
        ]
    )
    sf = sf_emulator.client(org)
    leads = sobject(sf, "Lead")
    fields = {f["name"]: f for f in leads.describe()["fields"]}
    assert fields["Chat_Id__c"]["externalId"] is True
    assert fields["Chat_Id__c"]["custom"] is True
    leads.create({"LastName": "D", "Company": "C", "Score__c": 4.5, "Topics__c": "A;B"})
    with pytest.raises(SalesforceMalformedRequest):
        leads.create({"LastName": "D", "Company": "C", "Score__c": "high"})
    rows = sf.query("SELECT Score__c FROM Lead WHERE Score__c > 4 AND Topics__c INCLUDES ('B')")
    assert rows["records"][0]["Score__c"] == 4.5
    other = sf_emulator.client(sf_emulator.create_org())
    with pytest.raises(SalesforceMalformedRequest):
        other.query("SELECT Score__c FROM Lead")
    bad = sf_emulator.call(
        "POST", "/__admin/orgs", json={"custom_fields": [{"object": "Lead", "name": "NoSuffix"}]}
    )
    assert bad.status_code == 400
