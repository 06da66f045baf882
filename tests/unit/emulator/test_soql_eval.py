"""Binding and evaluation against an in-memory store: semantics and error messages."""

# ruff: noqa: S608 - these strings are SOQL built from test constants, not SQL
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from sf_emulator.config import EmulatorConfig
from sf_emulator.dml.writer import Writer
from sf_emulator.emulator import Emulator, build
from sf_emulator.errors import SalesforceError
from sf_emulator.provisioning import create_org
from sf_emulator.store.orgs import Org


@pytest.fixture
def world() -> Iterator[tuple[Emulator, Org, Writer]]:
    emu = build(EmulatorConfig())
    made = create_org(
        emu,
        {
            "name": "Unit",
            "custom_fields": [
                {"object": "Lead", "name": "Score__c", "type": "double"},
                {"object": "Lead", "name": "Seen__c", "type": "date"},
                {
                    "object": "Lead",
                    "name": "Topics__c",
                    "type": "multipicklist",
                    "picklist": ["a", "b"],
                },
            ],
        },
        "https://unit",
    )
    org = emu.store.orgs.get(made["org_id"])
    assert org is not None
    writer = Writer(emu.store, org, made["user_id"], "59.0")
    lead = org.catalog.objects["lead"]
    rows: list[dict[str, Any]] = [
        {
            "LastName": "Ames",
            "Email": "Ames@X.com",
            "Score__c": 1.0,
            "Seen__c": "2024-01-05",
            "Topics__c": "a;b",
        },
        {"LastName": "Bo", "Email": "bo@x.com", "Score__c": 3.0, "Topics__c": "b"},
        {"LastName": "cy", "Score__c": None, "Seen__c": "2024-03-01"},
        {"LastName": "50% off_sale", "Email": "sale@x.com", "Score__c": 2.0},
    ]
    with emu.store.db.transaction():
        for row in rows:
            writer.create(lead, {"Company": "Acme", **row})
    yield emu, org, writer
    emu.store.close()


def names(world: tuple[Emulator, Org, Writer], where: str, order: str = "LastName") -> list[Any]:
    emu, org, _ = world
    out = emu.engine.run(org, f"SELECT LastName FROM Lead WHERE {where} ORDER BY {order}", "59.0")
    return [r["LastName"] for r in out["records"]]


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("Email = 'ames@x.COM'", ["Ames"]),
        ("Email != 'ames@x.com'", ["50% off_sale", "Bo", "cy"]),  # nulls included, as in SOQL
        ("Email = null", ["cy"]),
        ("Email != null", ["50% off_sale", "Ames", "Bo"]),
        ("Score__c > 1", ["50% off_sale", "Bo"]),
        ("Score__c <= 2", ["50% off_sale", "Ames"]),
        ("Score__c < 100", ["50% off_sale", "Ames", "Bo"]),  # null compares false
        ("Email IN ('BO@x.com', 'nobody@x.com')", ["Bo"]),
        ("Email NOT IN ('bo@x.com')", ["50% off_sale", "Ames", "cy"]),
        ("LastName LIKE 'a%'", ["Ames"]),
        ("LastName LIKE '_o'", ["Bo"]),
        (r"LastName LIKE '50\% off\_%'", ["50% off_sale"]),
        (r"LastName LIKE '50\%_off%'", ["50% off_sale"]),  # `_` still matches the space
        (r"LastName LIKE '50\%off%'", []),
        ("NOT LastName LIKE 'a%'", ["50% off_sale", "Bo", "cy"]),
        ("(Score__c = 1 OR Score__c = 3) AND Email != null", ["Ames", "Bo"]),
        ("Score__c = 1 OR Score__c = 3 AND Email = null", ["Ames"]),  # AND binds tighter
        ("Topics__c INCLUDES ('b')", ["Ames", "Bo"]),
        ("Topics__c INCLUDES ('a;b')", ["Ames"]),
        ("Topics__c EXCLUDES ('a')", ["50% off_sale", "Bo", "cy"]),
        ("Seen__c > 2024-02-01", ["cy"]),
        ("Seen__c = null", ["50% off_sale", "Bo"]),
        ("CreatedDate = TODAY", ["50% off_sale", "Ames", "Bo", "cy"]),
        ("CreatedDate < LAST_N_DAYS:3", []),
        ("CreatedDate > 2000-01-01T00:00:00+02:00", ["50% off_sale", "Ames", "Bo", "cy"]),
        ("IsConverted = false AND Owner.Name != null", ["50% off_sale", "Ames", "Bo", "cy"]),
    ],
)
def test_where(world: tuple[Emulator, Org, Writer], where: str, expected: list[str]) -> None:
    assert names(world, where) == expected


def test_order_by_nulls_and_case(world: tuple[Emulator, Org, Writer]) -> None:
    assert names(world, "Id != null", "Score__c") == ["cy", "Ames", "50% off_sale", "Bo"]
    assert names(world, "Id != null", "Score__c NULLS LAST") == ["Ames", "50% off_sale", "Bo", "cy"]
    assert names(world, "Id != null", "Score__c DESC") == ["Bo", "50% off_sale", "Ames", "cy"]
    assert names(world, "Id != null", "Email DESC NULLS FIRST") == [
        "cy",
        "50% off_sale",
        "Bo",
        "Ames",
    ]
    assert names(world, "Id != null", "LastName DESC") == ["cy", "Bo", "Ames", "50% off_sale"]


def test_count_limit_and_projection(world: tuple[Emulator, Org, Writer]) -> None:
    emu, org, _ = world
    assert emu.engine.run(org, "SELECT COUNT() FROM Lead LIMIT 3", "59.0")["totalSize"] == 3
    out = emu.engine.run(org, "SELECT lastname, Owner.Alias FROM Lead LIMIT 1", "59.0")
    row = out["records"][0]
    assert list(row) == ["attributes", "LastName", "Owner"]
    assert row["Owner"]["attributes"]["type"] == "Name"


def test_paging_through_a_cursor(world: tuple[Emulator, Org, Writer]) -> None:
    emu, org, writer = world
    lead = org.catalog.objects["lead"]
    with emu.store.db.transaction():
        for i in range(500):
            writer.create(lead, {"LastName": f"p{i:03d}", "Company": "Acme"})
    first = emu.engine.run(
        org,
        "SELECT LastName FROM Lead WHERE LastName LIKE 'p%' ORDER BY LastName",
        "59.0",
        batch=200,
    )
    locator = first["nextRecordsUrl"].rsplit("/", 1)[1]
    second = emu.engine.more(org, locator, "59.0")
    third = emu.engine.more(org, second["nextRecordsUrl"].rsplit("/", 1)[1], "59.0")
    assert [len(p["records"]) for p in (first, second, third)] == [200, 200, 100]
    assert third["done"] is True
    assert "nextRecordsUrl" not in third
    assert third["records"][-1]["LastName"] == "p499"


@pytest.mark.parametrize(
    ("soql", "code", "message"),
    [
        ("SELECT Nope FROM Lead", "INVALID_FIELD", "No such column 'Nope' on entity 'Lead'."),
        ("SELECT Id FROM Nope", "INVALID_TYPE", "sObject type 'Nope' is not supported."),
        ("SELECT Id, id FROM Lead", "MALFORMED_QUERY", "duplicate field selected: id"),
        ("SELECT Id FROM Lead WHERE Score__c = '1'", "INVALID_FIELD", "must be of type double"),
        ("SELECT Id FROM Lead WHERE Seen__c = 'x'", "INVALID_FIELD", "must be of type date"),
        ("SELECT Id FROM Lead WHERE CreatedDate = 2024-01-01", "INVALID_FIELD", "type dateTime"),
        ("SELECT Id FROM Lead WHERE Score__c LIKE 'x'", "INVALID_FIELD", "invalid operator"),
        ("SELECT Id FROM Lead WHERE Email INCLUDES ('a')", "INVALID_FIELD", "multipicklist"),
        ("SELECT Id FROM Lead ORDER BY Description", "INVALID_FIELD", "can not be sorted"),
        (
            "SELECT Owner.Bogus FROM Lead",
            "INVALID_FIELD",
            "No such column 'Bogus' on entity 'Name'",
        ),
        (
            "SELECT Id FROM Lead WHERE OwnerId = '005'",
            "INVALID_QUERY_FILTER_OPERATOR",
            "invalid ID field: 005",
        ),
    ],
)
def test_bind_errors(
    world: tuple[Emulator, Org, Writer], soql: str, code: str, message: str
) -> None:
    emu, org, _ = world
    with pytest.raises(SalesforceError) as exc:
        emu.engine.run(org, soql, "59.0")
    assert exc.value.error_code == code
    assert exc.value.status == 400
    assert message in exc.value.message
