"""Salesforce ids: the 15-to-18 checksum and the key prefixes."""

from __future__ import annotations

from sf_emulator import ids


def test_checksum_matches_salesforce() -> None:
    # The example in Salesforce's documentation of 18-character ids.
    assert ids.to18("001A0000006Vm9r") == "001A0000006Vm9rIAC"


def test_new_ids_are_valid_and_prefixed() -> None:
    made = {ids.new_id("00Q") for _ in range(1000)}
    assert len(made) == 1000
    assert all(len(i) == 18 and i.startswith("00Q") and ids.is_id(i) for i in made)


def test_validation() -> None:
    assert ids.is_id("001A0000006Vm9r")
    assert ids.is_id("001A0000006Vm9rIAC")
    assert ids.is_id("001A0000006Vm9riac")  # the suffix is case-insensitive
    assert not ids.is_id("001A0000006Vm9rAAA")
    assert not ids.is_id("abc")
    assert not ids.is_id("001A0000006Vm9r!")
