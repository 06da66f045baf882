"""When a cached access token is served, and how long a failing tenant is left alone."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import SecretStr

from auth_service.domain.tokens import AccessGrant, CachePolicy, Cooldown, Decision
from chat_contracts.auth import token_fingerprint

POLICY = CachePolicy(max_age_s=3600, force_min_interval_s=1.0)


def grant(token: str = "00D!tok", obtained_at: float = 100.0) -> AccessGrant:  # noqa: S107
    return AccessGrant(
        access_token=SecretStr(token),
        instance_url="https://x.my.salesforce.com",
        org_id="00D5g000004XyZaEAK",
        user_id="0055g00000AbCdEAAV",
        issued_at=datetime(2026, 1, 1, tzinfo=UTC),
        obtained_at=obtained_at,
    )


def test_nothing_cached_refreshes() -> None:
    assert POLICY.decide(None, now=0) is Decision.REFRESH


def test_a_fresh_token_is_served() -> None:
    assert POLICY.decide(grant(), now=200) is Decision.SERVE


def test_a_token_past_its_max_age_is_refreshed() -> None:
    assert POLICY.decide(grant(), now=100 + 3600) is Decision.REFRESH


def test_the_rejected_token_still_cached_is_refreshed() -> None:
    cached = grant("00D!old")
    decision = POLICY.decide(cached, now=200, rejected_fingerprint=token_fingerprint("00D!old"))
    assert decision is Decision.REFRESH


def test_a_rejected_token_already_replaced_serves_the_newer_one() -> None:
    # 99 callers that held the old token come after the first one's refresh: no storm.
    cached = grant("00D!new")
    decision = POLICY.decide(cached, now=200, rejected_fingerprint=token_fingerprint("00D!old"))
    assert decision is Decision.SERVE


def test_force_refreshes_unless_the_token_is_brand_new() -> None:
    assert POLICY.decide(grant(obtained_at=100), now=100.5, force=True) is Decision.SERVE
    assert POLICY.decide(grant(obtained_at=100), now=101.0, force=True) is Decision.REFRESH


def test_grant_fingerprint_is_the_contract_fingerprint() -> None:
    assert grant("abc").fingerprint == token_fingerprint("abc")
    assert "abc" not in repr(grant("abc"))


def test_cooldown_doubles_and_resets() -> None:
    cooldown = Cooldown(base_s=2, max_s=5)
    assert not cooldown.blocks(0)
    cooldown.failed(0)
    assert cooldown.blocks(1.9)
    assert not cooldown.blocks(2.0)
    cooldown.failed(10)
    assert cooldown.remaining(10) == 4
    cooldown.failed(20)
    assert cooldown.remaining(20) == 5  # capped
    cooldown.succeeded()
    assert not cooldown.blocks(20)
