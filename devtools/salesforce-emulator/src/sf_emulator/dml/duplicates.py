"""The standard duplicate rules on Lead and Contact, on by default as in a new org.

Matching follows the standard matching rules [S6]: the first and last names (fuzzy)
together with the email, the phone, the title or (Leads) the company (fuzzy). An email alone
or a name alone is not a match. "Fuzzy" is approximated: case, accents, punctuation and
spacing are ignored, a first name matches its initial, a last name one typo, and a company
its name without the legal suffix (Inc, Ltd, GmbH...). A rule runs on update only when a
matching field changes [S7].

`alert` rules block an API save unless the request says
`Sforce-Duplicate-Rule-Header: allowSave=true` [S37]; `block` rules always block. As in
Salesforce, records created in the same request are not compared with each other.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from typing import Any

from sf_emulator.errors import SalesforceError
from sf_emulator.schema.fields import ObjectDef
from sf_emulator.store import Store
from sf_emulator.store.match_keys import MATCH_KEY, match_key
from sf_emulator.store.match_keys import plain as _plain
from sf_emulator.store.orgs import Org

RULES = {
    "Lead": ("Standard_Rule_for_Leads_with_Duplicate_Leads", "Standard_Lead_Match_Rule_v1_0"),
    "Contact": ("Standard_Contact_Duplicate_Rule", "Standard_Contact_Match_Rule_v1_1"),
}
MATCH_FIELDS = {
    "Lead": frozenset({"FirstName", "LastName", "Email", "Phone", "Title", "Company"}),
    "Contact": frozenset({"FirstName", "LastName", "Email", "Phone", "Title"}),
}
_SUFFIXES = re.compile(
    r"\b(inc|incorporated|ltd|limited|llc|llp|plc|corp|corporation|co|company|gmbh|ag|sa|"
    r"sarl|bv|nv|srl|spa|pty|oy|ab|as)\b"
)


def _first_names_match(a: Any, b: Any) -> bool:
    x, y = _plain(a), _plain(b)
    if not x or not y:
        return False
    return x == y or (len(x) == 1 and y.startswith(x)) or (len(y) == 1 and x.startswith(y))


def _last_names_match(a: Any, b: Any) -> bool:
    x, y = _plain(a), _plain(b)
    return bool(x) and x == y


def _company(value: Any) -> str:
    return re.sub(r"\s+", " ", _SUFFIXES.sub(" ", _plain(value))).strip()


def _digits(value: Any) -> str:
    digits = re.sub(r"\D", "", str(value or ""))
    return digits[-10:] if len(digits) >= 7 else ""


def matches(sobject: str, record: dict[str, Any], other: dict[str, Any]) -> bool:
    """Whether the standard matching rule of `sobject` matches the two records."""
    if not _first_names_match(record.get("FirstName"), other.get("FirstName")):
        return False
    if not _last_names_match(record.get("LastName"), other.get("LastName")):
        return False
    email = str(record.get("Email") or "").casefold()
    if email and email == str(other.get("Email") or "").casefold():
        return True
    phone = _digits(record.get("Phone"))
    if phone and phone == _digits(other.get("Phone")):
        return True
    title = _plain(record.get("Title"))
    if title and title == _plain(other.get("Title")):
        return True
    company = _company(record.get("Company")) if sobject == "Lead" else ""
    return bool(company) and company == _company(other.get("Company"))


def changed_match_fields(sobject: str, fields: Iterable[str]) -> bool:
    """Whether an update writes a field of the matching rule (only then does it run)."""
    keys = MATCH_FIELDS.get(sobject, frozenset())
    return any(f in keys for f in fields)


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
    if mode == "off" or obj.name not in RULES:
        return
    if mode == "alert" and allow_save:
        return
    key = match_key(record)
    if key is None:
        return  # blank names never match
    candidates = store.records.lookup(org.id, obj.name, MATCH_KEY, [key])
    matched = [
        str(other["Id"])
        for other in (r.data for r in store.records.get_many(org.id, candidates).values())
        if other["Id"] != record.get("Id")
        and other["Id"] not in ignore_ids
        and not other.get("IsConverted")
        and matches(obj.name, record, other)
    ]
    if not matched:
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
                "matchEngine": "FuzzyMatchEngine",
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
                    for rid in matched
                ],
                "rule": match_rule,
                "size": len(matched),
                "success": True,
            }
        ],
    }
    # Real single-record answers spell the key `duplicateResut` and carry no `fields`
    # [S2, S8]; sObject Collections results leave the match out entirely [S1].
    raise SalesforceError(
        400, "DUPLICATES_DETECTED", "Use one of these records?", None, {"duplicateResut": result}
    )
