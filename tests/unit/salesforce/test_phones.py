"""Phone spellings to match a stored Phone with SOQL `=`, shared by the services."""

from __future__ import annotations

from chat_salesforce.phones import phone_variants


def test_an_international_number_in_the_three_forms_salesforce_holds() -> None:
    assert phone_variants("+44 20 7946 0958") == (
        "+442079460958",
        "+44 20 7946 0958",
        "020 7946 0958",
    )


def test_a_national_number_takes_its_region() -> None:
    assert phone_variants("020 7946 0958", "GB")[0] == "+442079460958"


def test_a_number_that_does_not_parse_is_matched_as_typed() -> None:
    assert phone_variants("call me", None) == ("call me",)
    assert phone_variants("020 7946 0958", None) == ("020 7946 0958",)
    assert phone_variants("  ") == ()
