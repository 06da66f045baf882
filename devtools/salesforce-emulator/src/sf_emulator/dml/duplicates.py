"""The standard duplicate rules on Lead and Contact email, when the org turns them on.

`alert` rules block an API save unless the request says
`Sforce-Duplicate-Rule-Header: allowSave=true`; `block` rules always block. As in
Salesforce, records created in the same request are not compared with each other.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sf_emulator.errors import SalesforceError
from sf_emulator.schema.fields import ObjectDef
from sf_emulator.store import Store
from sf_emulator.store.orgs import Org

RULES = {
    "Lead": ("Standard_Rule_for_Leads_with_Duplicate_Leads", "Standard_Lead_Match_Rule_v1_0"),
    "Contact": ("Standard_Contact_Duplicate_Rule", "Standard_Contact_Match_Rule_v1_1"),
}


def check(
    store: Store,
    org: Org,
    obj: ObjectDef,
    record: dict[str, Any],
    version: str,
    allow_save: bool,
    ignore_ids: Collection[str] = (),
) -> None:
    """Raise DUPLICATES_DETECTED when the org's rule matches an existing record."""
    mode = org.settings.duplicate_rules
    email = record.get("Email")
    if mode == "off" or obj.name not in RULES or not email:
        return
    if mode == "alert" and allow_save:
        return
    ids = store.records.lookup(org.id, obj.name, "Email", [email])
    matches = [
        r.data["Id"]
        for r in store.records.get_many(org.id, ids).values()
        if r.data["Id"] != record.get("Id")
        and r.data["Id"] not in ignore_ids
        and not r.data.get("IsConverted")
    ]
    if not matches:
        return
    rule, match_rule = RULES[obj.name]
    base = f"/services/data/v{version}/sobjects/{obj.name}"
    result = {
        "allowSave": mode == "alert",
        "duplicateRule": rule,
        "duplicateRuleEntityType": obj.name,
        "errorMessage": "You're creating a duplicate record. We recommend you use an "
        "existing record instead.",
        "matchResults": [
            {
                "entityType": obj.name,
                "errors": [],
                "matchEngine": "ExactMatchEngine",
                "matchRecords": [
                    {
                        "additionalInformation": [],
                        "fieldDiffs": [],
                        "matchConfidence": 100.0,
                        "record": {
                            "attributes": {"type": obj.name, "url": f"{base}/{rid}"},
                            "Id": rid,
                        },
                    }
                    for rid in matches
                ],
                "rule": match_rule,
                "size": len(matches),
                "success": True,
            }
        ],
    }
    # Real single-record answers spell the key `duplicateResut` and carry no `fields`
    # [S2, S8]; sObject Collections results leave the match out entirely [S1].
    raise SalesforceError(
        400, "DUPLICATES_DETECTED", "Use one of these records?", None, {"duplicateResut": result}
    )
