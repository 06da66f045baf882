"""The pure rules, one by one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chat_contracts.settings import UpdatePolicy
from chat_contracts.sync import RetryReason
from crm_sync.domain import details, errors, mapping, policy, visitor
from crm_sync.domain.matching import select_person
from crm_sync.domain.retry import RetryPolicy, budget_wait
from crm_sync.domain.salesforce import ApiUsage, RecordError
from tests.unit.crm_sync.conftest import conversation


def test_chat_key_is_kind_tenant_and_id_and_stays_within_the_field() -> None:
    conv = conversation(chat_id="c-1")
    assert visitor.chat_key(conv) == "chat:t1:c-1"
    assert visitor.legacy_chat_key(conv) == "chat:c-1"
    long = conversation(kind="offline_message", chat_id="x" * 100)
    key = visitor.chat_key(long)
    assert len(key) == 64
    assert key.startswith("offline:")
    assert key == visitor.chat_key(long)
    other = conversation("t2", kind="offline_message", chat_id="x" * 100)
    assert visitor.chat_key(other) != key  # hashed keys stay per tenant too


def test_names_fall_back_so_last_name_is_never_empty() -> None:
    assert visitor.names(conversation(visitor={"last_name": None})) == (None, "Jo")
    only_email = conversation(visitor={"first_name": None, "last_name": None, "email": "kim@x.io"})
    assert visitor.names(only_email) == (None, "kim")


def test_phone_variants_cover_the_common_spellings() -> None:
    assert visitor.phone_variants("+442079460018") == (
        "+442079460018",
        "+44 20 7946 0018",
        "020 7946 0018",
    )
    assert visitor.normalise_phone("(202) 555-0143", "US") == "+12025550143"
    assert visitor.normalise_phone("not a phone", "US") is None


def test_most_recently_modified_wins_and_ties_are_stable() -> None:
    rows = [
        {"Id": "00Q000000000000001", "LastModifiedDate": "2024-01-02T00:00:00.000+0000"},
        {"Id": "00Q000000000000002", "LastModifiedDate": "2024-01-01T00:00:00Z"},
        {"Id": "00Q000000000000003", "LastModifiedDate": "2024-01-02T00:00:00Z"},
    ]
    match = select_person(rows, "Lead")
    assert match is not None
    assert match.id == "00Q000000000000003"
    assert select_person([], "Lead") is None


def test_converted_lead_without_a_contact_is_used_but_not_updated() -> None:
    match = select_person([{"Id": "00Q000000000000001", "IsConverted": True}], "Lead")
    assert match is not None
    assert match.values is None
    assert match.object == "Lead"


@pytest.mark.parametrize(
    ("policy_", "expected"),
    [
        (UpdatePolicy.DO_NOT_UPDATE, {}),
        (UpdatePolicy.FILL_EMPTY_ONLY, {"Phone": "+15005550006"}),
        (UpdatePolicy.UPDATE_FROM_CHAT, {"FirstName": "Jo", "Phone": "+15005550006"}),
    ],
)
def test_update_policy_changes(policy_: UpdatePolicy, expected: dict[str, str]) -> None:
    current = {"FirstName": "Joanna", "LastName": "Bloggs", "Phone": ""}
    offered = {"FirstName": "Jo", "LastName": "Bloggs", "Phone": "+15005550006"}
    assert policy.changes(policy_, current, offered, "US") == expected


def test_merge_newest_wins_from_chat_first_wins_when_filling() -> None:
    updates = [{"FirstName": "A"}, {"FirstName": "B", "Phone": "1"}]
    assert policy.merge(UpdatePolicy.UPDATE_FROM_CHAT, updates) == {"FirstName": "B", "Phone": "1"}
    assert policy.merge(UpdatePolicy.FILL_EMPTY_ONLY, updates) == {"FirstName": "A", "Phone": "1"}


def test_coerce_by_field_type() -> None:
    when = datetime(2024, 5, 1, 12, tzinfo=UTC)
    assert mapping.coerce(when, "date") == "2024-05-01"
    assert mapping.coerce(when, "datetime") == "2024-05-01T12:00:00+00:00"
    assert mapping.coerce("Yes", "boolean") is True
    assert mapping.coerce("1,200", "int") == 1200
    assert mapping.coerce("n/a", "double") is None
    assert mapping.coerce("", "string") is None


def test_coerce_leaves_out_what_no_number_field_holds() -> None:
    for text in ("nan", "inf", "-Infinity", "1e400", "1e18", "-1e30"):
        for field_type in ("int", "long", "double", "currency", "percent"):
            assert mapping.coerce(text, field_type) is None, (text, field_type)
    assert mapping.coerce("99999999999999.5", "double") == 99999999999999.5


def test_details_follow_the_seed_table() -> None:
    conv = conversation(
        notes="Wants a demo",
        request_page="https://acme.test/pricing",
        custom_fields={"Plan": "Pro"},
        custom_variables={"ref": "ad"},
        visitor={"company": "Bloggs Ltd", "phone_raw": "020 7946 0018"},
    )
    text = details.render(conv, with_company=True).text
    for line in (
        f"Chat {conv.chat_id}",
        "Agent: Ann Agent <ann@acme.test>",
        "Name: Jo Bloggs",
        f"Email: {conv.visitor.email}",
        "Phone: 020 7946 0018",
        "Company: Bloggs Ltd",
        "Started: 2024-05-01 11:55:00 UTC",
        "Ended: 2024-05-01 12:00:00 UTC",
        "Request page: https://acme.test/pricing",
        "Notes: Wants a demo",
        "  Plan: Pro",
        "  ref: ad",
    ):
        assert line in text
    assert "Company" not in details.render(conv).text


def test_details_cut_keeps_the_header_and_names_the_file() -> None:
    conv = conversation(transcript="x" * 500)
    cut = details.render(conv, limit=300)
    assert cut.transcript_cut
    assert len(cut.text) <= 300
    assert cut.text.startswith(f"Chat {conv.chat_id}")
    assert "transcript-" in cut.text
    assert not details.render(conv, limit=300, attach_transcript=False).text.endswith(".txt]")


def test_error_classification() -> None:
    assert errors.classify(RecordError("UNABLE_TO_LOCK_ROW")) is errors.Action.RETRY
    assert (
        errors.classify(RecordError("DUPLICATES_DETECTED", duplicate_ids=("00Q1",)))
        is errors.Action.LINK_DUPLICATE
    )
    assert errors.classify(RecordError("DUPLICATES_DETECTED")) is errors.Action.FIND_DUPLICATE
    assert errors.classify(RecordError("STRING_TOO_LONG")) is errors.Action.TRUNCATE
    assert errors.classify(RecordError("INACTIVE_OWNER_OR_USER")) is errors.Action.DROP_OWNER
    assert (
        errors.classify(RecordError("INACTIVE_OWNER_OR_USER"), owner_set=False)
        is errors.Action.DEAD_LETTER
    )
    assert errors.classify(RecordError("REQUIRED_FIELD_MISSING")) is errors.Action.DEAD_LETTER
    assert errors.retry_reason(RecordError("UNABLE_TO_LOCK_ROW")) is RetryReason.LOCK_CONTENTION


def test_too_long_limits_read_the_message_or_halve() -> None:
    stated = RecordError(
        "STRING_TOO_LONG", "Company: data value too large: x (max length=40)", ("Company",)
    )
    assert errors.too_long_limits(stated, {"Company": "x" * 50}) == {"Company": 40}
    unstated = RecordError("STRING_TOO_LONG", "too long", ("Title__c",))
    assert errors.too_long_limits(unstated, {"Title__c": "x" * 50}) == {"Title__c": 25}


def test_retry_policy() -> None:
    retry = RetryPolicy(
        park_backoff_s=10, park_backoff_max_s=100, budget_backoff_s=600, max_age_s=60
    )
    assert retry.park_delay(RetryReason.REVOKED, 1, lambda: 0.5) == 10
    assert retry.park_delay(RetryReason.REVOKED, 5, lambda: 0.5) == 100
    assert retry.park_delay(RetryReason.API_BUDGET, 1, lambda: 0.0) == 480
    start = datetime(2024, 1, 1, tzinfo=UTC)
    revoked = RetryReason.REVOKED
    assert retry.given_up(start, start + timedelta(seconds=61), revoked, 1)
    assert not retry.given_up(start, start + timedelta(seconds=59), revoked, 9)
    # A bug is tried internal_attempts times, however young the chat's first failure.
    assert not retry.given_up(start, start, RetryReason.INTERNAL, 2)
    assert retry.given_up(start, start, RetryReason.INTERNAL, 3)
    assert 0.1 <= retry.round_pause(2, lambda: 0.0) <= 0.2


def test_budget_wait_slows_a_tenant_over_its_share() -> None:
    over, under = ApiUsage(90, 100), ApiUsage(10, 100)
    assert budget_wait(over, 0.8, None, 100.0, 60) == 0
    assert budget_wait(over, 0.8, 90.0, 100.0, 60) == 50
    assert budget_wait(under, 0.8, 90.0, 100.0, 60) == 0


def test_text_is_measured_and_cut_in_utf16_units_never_splitting_a_pair() -> None:
    from crm_sync.domain.text import sf_cut, sf_length

    emoji = "\U0001f600"
    assert sf_length("abc") == 3
    assert sf_length(emoji * 3) == 6
    assert sf_cut(emoji * 3, 5) == emoji * 2
    assert sf_cut("a" + emoji, 2) == "a"
    assert sf_cut("abc", 3) == "abc"
    assert sf_cut("", 0) == ""


def test_details_fit_the_description_in_utf16_units() -> None:
    from crm_sync.domain.text import sf_length

    emoji = "\U0001f600"
    written = details.render(conversation(transcript=emoji * 500), limit=600)
    assert sf_length(written.text) <= 600
    assert written.transcript_cut


def test_identical_describes_of_many_orgs_are_held_once() -> None:
    from crm_sync.domain.schema import SharedSchemas, parse_describe

    def describe(length: int) -> dict[str, object]:
        return {
            "name": "Lead",
            "fields": [
                {"name": "Id", "type": "id", "length": 18},
                {"name": "Company", "type": "string", "length": length, "createable": True},
            ],
        }

    shared = SharedSchemas(max_entries=2)
    first = shared.intern(parse_describe(describe(255)))
    assert shared.intern(parse_describe(describe(255))) is first  # another org, same describe
    other = shared.intern(parse_describe(describe(80)))
    assert other is not first
    assert other.field("Company") is not None
    assert other.field("Company").length == 80  # type: ignore[union-attr]
    shared.intern(parse_describe({"name": "Task", "fields": []}))
    assert len(shared) == 2  # bounded: the least recently seen is forgotten
