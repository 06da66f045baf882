"""OAuth state (sealed, tenant-bound, expiring, single-use) and PKCE."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest

from auth_service.domain.keyring import KeyRing
from auth_service.domain.state import (
    StateError,
    UsedStates,
    new_state,
    open_state,
    pkce_challenge,
    seal_state,
)
from tests.unit.auth.fakes import ring

NOW = 1_800_000_000.0


def test_pkce_s256_matches_rfc_7636_appendix_b() -> None:
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert pkce_challenge(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_new_state_has_a_verifier_of_legal_length() -> None:
    state = new_state("t1", sandbox=True, now=NOW, ttl_s=600)
    assert 43 <= len(state.code_verifier) <= 128
    assert state.expires_at == NOW + 600


def test_sealed_state_opens_to_the_same_state_and_hides_the_verifier() -> None:
    keys = ring()
    state = new_state("t1", sandbox=True, now=NOW, ttl_s=600)
    token = seal_state(state, keys)
    assert state.code_verifier not in token
    assert open_state(token, keys, now=NOW + 1) == state


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-2] + ("A" if t[-2] != "A" else "B") + t[-1],
        lambda t: t[:20],
        lambda t: "nokey." + t.split(".", 1)[1],
        lambda t: t.replace(".", ""),
        lambda t: t + "!!",
    ],
)
def test_tampered_state_is_refused(mangle: Callable[[str], str]) -> None:
    keys = ring()
    token = seal_state(new_state("t1", sandbox=False, now=NOW, ttl_s=600), keys)
    with pytest.raises(StateError) as caught:
        open_state(mangle(token), keys, now=NOW)
    assert caught.value.reason in {"tampered", "malformed"}


def test_state_from_another_deployment_key_is_refused() -> None:
    token = seal_state(new_state("t1", sandbox=False, now=NOW, ttl_s=600), ring("k1"))
    with pytest.raises(StateError, match="tampered"):
        open_state(token, ring("k1"), now=NOW)


def test_expired_state_is_refused() -> None:
    keys = ring()
    token = seal_state(new_state("t1", sandbox=False, now=NOW, ttl_s=600), keys)
    with pytest.raises(StateError, match="expired"):
        open_state(token, keys, now=NOW + 600)


def test_state_sealed_before_a_rotation_still_opens() -> None:
    k1 = os.urandom(32)
    token = seal_state(
        new_state("t1", sandbox=False, now=NOW, ttl_s=600), KeyRing({"k1": k1}, "k1")
    )
    after = KeyRing({"k1": k1, "k2": os.urandom(32)}, "k2")
    assert open_state(token, after, now=NOW).tenant_id == "t1"


def test_a_state_is_spent_once() -> None:
    used = UsedStates()
    state = new_state("t1", sandbox=False, now=NOW, ttl_s=600)
    used.claim(state, now=NOW)
    with pytest.raises(StateError, match="replayed"):
        used.claim(state, now=NOW + 1)
    # Spent nonces are forgotten once they could not be used anyway.
    used.claim(new_state("t1", sandbox=False, now=NOW + 1000, ttl_s=600), now=NOW + 1000)
    assert state.nonce not in used._spent
