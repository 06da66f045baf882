"""Salesforce saying no, or nothing: retried, linked, cut, parked or dead-lettered."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chat_contracts.dlq import DeadLetterReason
from chat_contracts.sync import RetryReason
from chat_salesforce import AccessToken, TokenUnavailable
from crm_sync.adapters.ports import OutcomeUnknown, SalesforceUnavailable, TenantUnavailable
from crm_sync.adapters.salesforce import GatewaySalesforce
from crm_sync.domain.inbound import ATTEMPT_HEADER, FIRST_FAILED_HEADER
from crm_sync.domain.retry import RetryPolicy
from crm_sync.domain.salesforce import NewRecord, RecordError
from crm_sync.domain.tenant_state import DUPLICATE_RULES_TTL_S
from tests.unit.crm_sync.conftest import Harness, conversation
from tests.unit.crm_sync.fakes import FakeOrg


def fail_times(times: int, error: RecordError, sobject: str, method: str = "create"):
    left = [times]

    def fault(m: str, s: str, record: NewRecord) -> RecordError | None:
        if m == method and s == sobject and left[0] > 0:
            left[0] -= 1
            return error
        return None

    return fault


async def test_lock_contention_is_retried_after_a_backoff(harness: Harness) -> None:
    org = harness.salesforce.org("t1")
    org.record_fault = fail_times(1, RecordError("UNABLE_TO_LOCK_ROW", "locked"), "Task")
    [result] = await harness.send(conversation())
    assert result.status == "ok"
    assert len(org.all("Task")) == 1
    assert len(org.all("Lead")) == 1
    assert len(harness.clock.slept) == 1
    assert result.activity
    assert result.activity.outcome == "created"


async def test_persistent_lock_contention_parks_the_chat(harness: Harness) -> None:
    org = harness.salesforce.org("t1")
    org.record_fault = fail_times(99, RecordError("UNABLE_TO_LOCK_ROW", "locked"), "Task")
    conv = conversation()
    [result] = await harness.send(conv)
    assert result.status == "parked"
    assert result.error is not None
    assert result.error.code == "lock_contention"
    [retry] = harness.retries()
    assert retry.reason is RetryReason.LOCK_CONTENTION
    assert retry.conversation == conv
    assert retry.attempt == 1
    assert retry.not_before > harness.clock.now()
    assert len(org.all("Lead")) == 1  # kept, and found again when the chat returns


async def test_duplicate_rule_links_the_named_record(harness: Harness) -> None:
    org = harness.salesforce.org("t1")
    existing = org.add("Lead", LastName="Bloggs", Email="other@x.com", Company="A")
    org.record_fault = fail_times(
        1, RecordError("DUPLICATES_DETECTED", "Use one of these records?", (), (existing,)), "Lead"
    )
    [result] = await harness.send(conversation())
    assert len(org.all("Lead")) == 1
    assert result.person is not None
    assert result.person.record_id == existing
    assert org.all("Task")[0]["WhoId"] == existing


def _namesake_org(harness: Harness) -> FakeOrg:
    """An org whose name rule fires for Jo Bloggs: a Lead of that name, another email, the
    placeholder company."""
    org = harness.salesforce.org("t1")
    org.name_rule = True
    org.add(
        "Lead", FirstName="Jo", LastName="Bloggs", Email="other@x.com", Company="[not provided]"
    )
    return org


async def test_a_rule_firing_for_a_visitor_no_re_read_could_find_saves_at_once(
    harness: Harness,
) -> None:
    # A namesake without a company or phone of their own: the standard rule fired on name and
    # the Lead placeholder company, and no re-read could tell which record it found.
    org = _namesake_org(harness)
    [result] = await harness.send(conversation())
    assert result.person is not None
    assert result.person.outcome == "created"
    assert not any("namesakes" in read for read in org.reads)  # nothing to look for
    assert len(org.writes) == 2  # two rounds, not three


async def test_after_a_rule_fired_a_tenants_namesakes_are_saved_in_one_round(
    harness: Harness,
) -> None:
    org = _namesake_org(harness)
    await harness.send(conversation())
    org.reads.clear()
    org.writes.clear()
    # Next batch: a company-less namesake goes with allowSave at once, while a visitor who
    # gave a company (whom a re-read could link) is sent without it.
    plain, known = conversation(), conversation(visitor={"company": "Acme", "last_name": "Roe"})
    results = await harness.send(plain, known)
    assert {r.person.outcome for r in results if r.person} == {"created"}
    assert len(org.reads) == 1  # one round
    [write] = org.writes
    allowed = [s for s in write if s.allow_duplicates]
    assert [r.fields["LastName"] for s in allowed for r in s.records] == ["Bloggs"]
    assert [s.name for s in write].index(allowed[0].name) == 0  # sent before the rest


async def test_the_prediction_ends_when_rules_stop_firing(harness: Harness) -> None:
    org = _namesake_org(harness)
    await harness.send(conversation())
    harness.clock.advance(DUPLICATE_RULES_TTL_S - 1)
    await harness.send(conversation())  # predicted: saved with allowSave, no rule fired
    harness.clock.advance(2)
    org.writes.clear()
    await harness.send(conversation(visitor={"last_name": "Roe"}))
    assert not any(s.allow_duplicates for write in org.writes for s in write)


async def test_the_prediction_never_covers_a_tenant_whose_rules_never_fired(
    harness: Harness,
) -> None:
    org = harness.salesforce.org("t1")
    await harness.send(conversation())
    await harness.send(conversation())
    assert not any(s.allow_duplicates for write in org.writes for s in write)


async def test_string_too_long_is_cut_and_retried(harness: Harness) -> None:
    org = harness.salesforce.org("t1")
    error = RecordError(
        "STRING_TOO_LONG", "Company: data value too large: x (max length=5)", ("Company",)
    )
    org.record_fault = fail_times(1, error, "Lead")
    [result] = await harness.send(conversation(visitor={"company": "Bloggs Limited"}))
    assert org.all("Lead")[0]["Company"] == "Blogg"
    assert "Lead.Company" in result.truncated_fields


async def test_permanent_error_goes_to_the_dlq_with_salesforces_message(harness: Harness) -> None:
    org = harness.salesforce.org("t1")
    org.record_fault = fail_times(
        9,
        RecordError("FIELD_CUSTOM_VALIDATION_EXCEPTION", "Email domain not allowed", ("Email",)),
        "Lead",
    )
    conv = conversation()
    [result] = await harness.send(conv)
    assert result.status == "failed"
    assert result.error is not None
    assert result.error.salesforce_error_code == "FIELD_CUSTOM_VALIDATION_EXCEPTION"
    [dead] = harness.dead()
    assert dead.reason is DeadLetterReason.SALESFORCE_REJECTED
    assert dead.message == "Email domain not allowed"
    assert dead.error_fields == ("Email",)
    assert dead.original_value == conv.model_dump_json().encode()
    assert org.all("Task") == []


async def test_inactive_agent_user_falls_back_to_the_connected_user(harness: Harness) -> None:
    org = harness.salesforce.org("t1")
    org.add_user("ann@acme.test")
    org.record_fault = fail_times(1, RecordError("INACTIVE_OWNER_OR_USER", "inactive"), "Lead")
    [result] = await harness.send(conversation())
    assert result.status == "ok"
    assert result.owner_source == "connected_user"


async def test_lost_answer_is_read_again_and_nothing_is_created_twice(harness: Harness) -> None:
    org = harness.salesforce.org("t1")
    original = org.run
    lost = [True]

    def run_then_lose(steps):
        done = original(steps)
        if lost[0]:
            lost[0] = False
            raise OutcomeUnknown("read timed out")
        return done

    org.run = run_then_lose  # type: ignore[method-assign]
    [result] = await harness.send(conversation())
    assert result.status == "ok"
    assert len(org.all("Lead")) == 1
    assert len(org.all("Task")) == 1


async def test_revoked_tenant_is_parked_and_does_not_hold_up_another(harness: Harness) -> None:
    harness.salesforce.org("t1")
    healthy = harness.salesforce.org("t2")
    harness.salesforce.unavailable["t1"] = TenantUnavailable(
        RetryReason.REVOKED, "refresh token revoked"
    )
    results = await harness.send(conversation("t1"), conversation("t2"))
    by_tenant = {r.tenant_id: r for r in results}
    assert by_tenant["t1"].status == "parked"
    assert by_tenant["t2"].status == "ok"
    assert len(healthy.all("Task")) == 1
    [retry] = harness.retries()
    assert retry.reason is RetryReason.REVOKED
    assert harness.clock.slept == []
    # Its next chats are parked without asking anyone until the park ends.
    harness.salesforce.unavailable["t1"] = AssertionError("must not be called")
    [again] = await harness.send(conversation("t1"))
    assert again.status == "parked"


async def test_salesforce_down_parks_the_tenant_without_spending_every_round(
    harness: Harness,
) -> None:
    org = harness.salesforce.org("t1")
    org.call_fault = lambda op: SalesforceUnavailable("503") if op != "describe" else None
    [result] = await harness.send(conversation())
    assert result.status == "parked"
    assert result.error
    assert result.error.code == "salesforce_unavailable"
    assert len(harness.clock.slept) == 1  # two rounds in a row unanswered: it is down
    # The tenant is held: its next chats are parked without calling Salesforce.
    calls = org.calls
    [later] = await harness.send(conversation())
    assert later.status == "parked"
    assert org.calls == calls
    [retry] = harness.retries()[-1:]
    assert retry.not_before > harness.clock.now()


async def test_a_round_answered_between_failures_keeps_trying(harness: Harness) -> None:
    org = harness.salesforce.org("t1")
    # Round 1 unanswered; round 2 answered (its Task meets a lock); round 3 unanswered;
    # round 4 answered: never two in a row, so the chat is written. (Round 2 reads twice:
    # with the describe, then the chat the describe says to look up.)
    down = SalesforceUnavailable("503")
    answers = iter([down, None, None, None, down, None, None])
    org.call_fault = lambda op: next(answers, None) if op != "describe" else None
    org.record_fault = fail_times(1, RecordError("UNABLE_TO_LOCK_ROW", "locked"), "Task")
    [result] = await harness.send(conversation())
    assert result.status == "ok"


async def test_over_the_budget_share_a_tenant_writes_once_per_backoff(harness: Harness) -> None:
    org = harness.salesforce.org("t1")
    harness.settings(api_budget_share=0.5)
    org.limit, org.used_before = 100, 60
    [first] = await harness.send(conversation())
    [second] = await harness.send(conversation())
    assert first.status == "ok"
    assert second.status == "parked"
    assert second.error is not None
    assert second.error.code == "api_budget"
    # Parked until the tenant's next window opens, exactly: parked chats come back together.
    [retry] = harness.retries()
    assert retry.not_before == harness.clock.now() + timedelta(
        seconds=harness.policy.budget_backoff_s
    )
    harness.clock.t += harness.policy.budget_backoff_s + 1
    [third] = await harness.send(conversation())
    assert third.status == "ok"


async def test_a_chat_parked_too_long_is_given_up(harness: Harness) -> None:
    harness.salesforce.org("t1")
    harness.salesforce.unavailable["t1"] = TenantUnavailable(
        RetryReason.NOT_CONNECTED, "never connected"
    )
    first_failed = harness.clock.now() - timedelta(days=4)
    headers = [(ATTEMPT_HEADER, b"7"), (FIRST_FAILED_HEADER, first_failed.isoformat().encode())]
    [result] = await harness.send(conversation(), headers=headers)
    assert result.status == "failed"
    assert result.error
    assert result.error.code == "retries_exhausted"
    [dead] = harness.dead()
    assert dead.reason is DeadLetterReason.RETRIES_EXHAUSTED
    assert dead.attempts == 7


async def test_a_returning_chat_is_parked_again_with_its_history(harness: Harness) -> None:
    harness.salesforce.org("t1")
    harness.salesforce.unavailable["t1"] = TenantUnavailable(RetryReason.REVOKED, "revoked")
    first_failed = harness.clock.now() - timedelta(hours=1)
    headers = [(ATTEMPT_HEADER, b"3"), (FIRST_FAILED_HEADER, first_failed.isoformat().encode())]
    await harness.send(conversation(), headers=headers)
    [retry] = harness.retries()
    assert retry.attempt == 3
    assert retry.first_failed_at == first_failed
    assert retry.not_before - harness.clock.now() >= timedelta(
        seconds=harness.policy.park_backoff_s * 4 * 0.8
    )


async def test_auth_not_answering_parks_chats_until_it_does_never_dead_letters_them() -> None:
    # auth down or unreachable (a restart, Kafka away) is an outage like Salesforce's: its
    # chats wait and come back, for as long as any outage; they are not a bug's, which is
    # dead-lettered after a few attempts.
    class Silent:
        async def get(self, tenant_id: str) -> AccessToken:
            raise TokenUnavailable(f"auth did not answer for tenant {tenant_id}: no reply")

        async def refresh(self, tenant_id: str, rejected: AccessToken) -> AccessToken:
            raise AssertionError("no token to refresh")

    port = GatewaySalesforce(None, Silent(), "59.0")  # type: ignore[arg-type]
    with pytest.raises(TenantUnavailable) as caught:
        await port.connection("t1")
    reason = caught.value.reason
    assert reason is RetryReason.AUTH_UNAVAILABLE
    policy = RetryPolicy()
    start = datetime(2024, 5, 1, tzinfo=UTC)
    assert not policy.given_up(start, start + timedelta(minutes=30), reason, 20)
    assert policy.given_up(start, start + timedelta(seconds=policy.max_age_s + 1), reason, 20)
