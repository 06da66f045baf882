"""Property: adversarial values cannot change which records a rendered query matches.

Against the emulator, whose SOQL reader follows Salesforce's escape rules: for any value
(quotes, backslashes, newlines, wildcards, unicode, SOQL keywords), in every quoting style
a template may use, the query matches exactly the records whose field equals (or, in a
LIKE template, contains) that value, compared case-insensitively as SOQL does.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from simple_salesforce.api import Salesforce

from chat_salesforce import render_soql
from tests.emulator_fixtures import SalesforceEmulator, sobject

ADVERSARIAL = [
    "x' OR LastName != '",
    "x\\' OR LastName != \\'",
    "' OR Id != null OR LastName = '",
    '" OR LastName != "',
    "\\",
    "%",
    "_",
    "a\nb\r\tc",
    "\u2028x\x00",
    "{!other}",
    "été 🦆",
]
VALUES = st.one_of(
    st.sampled_from(ADVERSARIAL),
    st.text(alphabet=st.sampled_from("ab'\"\\%_ \n{}!é🦆OR="), min_size=1, max_size=12),
    st.text(min_size=1, max_size=30).filter(lambda v: v.strip() != ""),
)
TEMPLATES = [
    ("SELECT Id FROM Contact WHERE LastName = {!v}", False),
    ("SELECT Id FROM Contact WHERE LastName = '{!v}'", False),
    ('SELECT Id FROM Contact WHERE LastName = "{!v}"', False),
    ("SELECT Id FROM Contact WHERE LastName = \u201c{!v}\u201d", False),
    ("SELECT Id FROM Contact WHERE LastName LIKE '%{!v}%'", True),
]


@pytest.fixture(scope="module")
def org_client(sf_emulator: SalesforceEmulator) -> tuple[Salesforce, dict[str, str]]:
    org = sf_emulator.create_org(name="Injection")
    sf = sf_emulator.client(org)
    names: dict[str, str] = {}
    for name in [*ADVERSARIAL, "innocent", "x", "a", "OR"]:
        names[sobject(sf, "Contact").create({"LastName": name})["id"]] = name
    return sf, names


def _matches(stored: str, value: str, like: bool) -> bool:
    return value.lower() in stored.lower() if like else stored.lower() == value.lower()


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(value=VALUES, template=st.sampled_from(TEMPLATES), store=st.booleans())
def test_values_cannot_change_which_records_match(
    org_client: tuple[Salesforce, dict[str, str]],
    value: str,
    template: tuple[str, bool],
    store: bool,
) -> None:
    sf, names = org_client
    if store:  # sometimes the value itself is a stored name: a real match must be found
        names[sobject(sf, "Contact").create({"LastName": value})["id"]] = value
    soql, like = render_soql(template[0], {"v": value}), template[1]
    result: dict[str, Any] = sf.query_all(soql)
    found = {r["Id"] for r in result["records"]}
    expected = {i for i, stored in names.items() if _matches(stored, value, like)}
    assert found == expected
