"""Query cursors are kept 2 days from their query, idle or not [S29]."""

from __future__ import annotations

import pytest

from sf_emulator.errors import SalesforceError
from sf_emulator.schema.catalog import Catalog
from sf_emulator.soql.bind import bind
from sf_emulator.soql.engine import Cursor, Cursors
from sf_emulator.soql.parser import parse


def test_a_cursor_lives_two_days_then_expires() -> None:
    now = [1_000_000.0]
    cursors = Cursors(clock=lambda: now[0])
    bound = bind(parse("SELECT Id FROM Lead"), Catalog())
    locator = cursors.add(Cursor("00D", bound, ["a", "b"], 200))
    assert locator.startswith("0r8")
    now[0] += 15 * 60 + 1  # past the old 15 idle minutes: still there
    assert cursors.get(locator, "00D").ids == ["a", "b"]
    now[0] += 2 * 86400 - 15 * 60 - 2  # reading it does not extend it
    assert cursors.get(locator, "00D").ids == ["a", "b"]
    now[0] += 2
    with pytest.raises(SalesforceError) as exc:
        cursors.get(locator, "00D")
    assert exc.value.error_code == "INVALID_QUERY_LOCATOR"
