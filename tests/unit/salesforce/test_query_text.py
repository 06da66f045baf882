"""Query shape: SELECT items, FROM object, and the first-row rewrite."""

from __future__ import annotations

import pytest

from chat_salesforce.query_text import (
    QueryShapeError,
    first_row_query,
    item_field,
    mask_literals,
    selected_fields,
    shape,
)


def test_literals_cannot_pose_as_clauses() -> None:
    soql = "SELECT Id, Name FROM Lead WHERE Name = 'a FROM b ORDER BY x LIMIT 3, it\\'s'"
    assert mask_literals(soql).count("FROM") == 1
    assert shape(soql).object == "Lead"
    assert first_row_query(soql).endswith(
        "'a FROM b ORDER BY x LIMIT 3, it\\'s' ORDER BY Id ASC LIMIT 1"
    )


def test_select_items_and_their_fields() -> None:
    soql = "select Id, toLabel(Status), Account.Name, (SELECT Id FROM Contacts) from Account"
    assert shape(soql).select_items == (
        "Id",
        "toLabel(Status)",
        "Account.Name",
        "(SELECT Id FROM Contacts)",
    )
    assert selected_fields(soql) == ("Id", "Status", "Account.Name")
    assert item_field("COUNT(Id) total") == "total"


@pytest.mark.parametrize(
    ("soql", "expected"),
    [
        ("SELECT Id FROM Lead", "SELECT Id FROM Lead ORDER BY CreatedDate ASC, Id ASC LIMIT 1"),
        (
            "SELECT Name FROM Lead ORDER BY Name DESC NULLS LAST LIMIT 5 OFFSET 2",
            "SELECT Name FROM Lead ORDER BY Name DESC NULLS LAST, Id ASC LIMIT 5 OFFSET 2",
        ),
        (
            "SELECT Name FROM Lead ORDER BY Id DESC",
            "SELECT Name FROM Lead ORDER BY Id DESC LIMIT 1",
        ),
        (
            "SELECT Name FROM Lead OFFSET 4 FOR VIEW",
            "SELECT Name FROM Lead ORDER BY CreatedDate ASC, Id ASC LIMIT 1 OFFSET 4 FOR VIEW",
        ),
        ("SELECT COUNT() FROM Lead", "SELECT COUNT() FROM Lead"),
        ("SELECT Company FROM Lead GROUP BY Company", "SELECT Company FROM Lead GROUP BY Company"),
    ],
)
def test_first_row_query(soql: str, expected: str) -> None:
    assert first_row_query(soql, "CreatedDate ASC, Id ASC") == expected


@pytest.mark.parametrize("soql", ["DELETE FROM Lead", "SELECT Id", "x SELECT Id FROM Lead"])
def test_not_a_query(soql: str) -> None:
    with pytest.raises(QueryShapeError):
        shape(soql)
