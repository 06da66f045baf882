"""Conformance: describe answers as a real org's would, where clients branch on it.

- [S13] Object Reference, ContentDocumentLink / ContentVersion: a file links to (and is
  first published on) records of many objects, activities among them, not only people.
- Object Reference, Task: `Subject` is a combobox (a picklist that takes any text).
"""

# ruff: noqa: S608 - these strings are SOQL built from test constants, not SQL
from __future__ import annotations

from simple_salesforce.api import Salesforce

from tests.emulator_fixtures import sobject


def _field(sf: Salesforce, obj: str, name: str) -> dict[str, object]:
    fields = {f["name"]: f for f in sobject(sf, obj).describe()["fields"]}
    return dict(fields[name])


def test_files_go_on_many_objects_activities_too(sf: Salesforce) -> None:
    """[S13]: referenceTo is a wide list; a file may be published on a Task."""
    for obj, name in (
        ("ContentVersion", "FirstPublishLocationId"),
        ("ContentDocumentLink", "LinkedEntityId"),
    ):
        targets = _field(sf, obj, name)["referenceTo"]
        assert isinstance(targets, list)
        assert {"Account", "Case", "Contact", "Lead", "User", "Task", "Event"} <= set(targets)
        assert {"Opportunity", "Campaign", "Contract", "Order"} <= set(targets)
    task = sobject(sf, "Task").create({"Subject": "Chat"})["id"]
    sobject(sf, "ContentVersion").create(
        {"PathOnClient": "t.txt", "VersionData": "aGk=", "FirstPublishLocationId": task}
    )
    links = sf.query(f"SELECT Id FROM ContentDocumentLink WHERE LinkedEntityId = '{task}'")
    assert links["totalSize"] == 1


def test_task_subject_is_a_combobox(sf: Salesforce) -> None:
    subject = _field(sf, "Task", "Subject")
    assert subject["type"] == "combobox"
    assert subject["restrictedPicklist"] is False
    values = subject["picklistValues"]
    assert isinstance(values, list)
    assert "Call" in [v["value"] for v in values]
    created = sobject(sf, "Task").create({"Subject": "Chat with a visitor"})  # any text
    assert sobject(sf, "Task").get(created["id"])["Subject"] == "Chat with a visitor"
