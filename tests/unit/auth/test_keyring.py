"""The key ring: AES-256-GCM bound to the tenant, several keys for rotation."""

from __future__ import annotations

import os

import pytest

from auth_service.domain.keyring import KeyRing, KeyRingError, Sealed


def test_seal_then_open_gives_the_token_back_and_hides_it() -> None:
    keys = KeyRing({"k1": os.urandom(32)}, "k1")
    sealed = keys.seal("5Aep861.secret", tenant_id="t1")
    assert sealed.key_id == "k1"
    assert len(sealed.nonce) == 12
    assert b"5Aep861" not in sealed.ciphertext
    assert keys.open(sealed, tenant_id="t1") == "5Aep861.secret"


def test_a_fresh_nonce_every_time() -> None:
    keys = KeyRing({"k1": os.urandom(32)}, "k1")
    first, second = (keys.seal("same", tenant_id="t1") for _ in range(2))
    assert first.nonce != second.nonce
    assert first.ciphertext != second.ciphertext


def test_a_record_copied_to_another_tenant_does_not_open() -> None:
    keys = KeyRing({"k1": os.urandom(32)}, "k1")
    sealed = keys.seal("secret", tenant_id="t1")
    with pytest.raises(KeyRingError):
        keys.open(sealed, tenant_id="t2")


def test_tampered_ciphertext_does_not_open() -> None:
    keys = KeyRing({"k1": os.urandom(32)}, "k1")
    sealed = keys.seal("secret", tenant_id="t1")
    flipped = bytes([sealed.ciphertext[0] ^ 1]) + sealed.ciphertext[1:]
    with pytest.raises(KeyRingError, match="does not open"):
        keys.open(Sealed(sealed.key_id, sealed.nonce, flipped), tenant_id="t1")


def test_rotation_old_key_opens_new_key_seals() -> None:
    old, new = os.urandom(32), os.urandom(32)
    before = KeyRing({"k1": old}, "k1").seal("secret", tenant_id="t1")
    rotated = KeyRing({"k1": old, "k2": new}, "k2")
    assert rotated.open(before, tenant_id="t1") == "secret"
    assert not rotated.is_current(before.key_id)
    assert rotated.seal("secret", tenant_id="t1").key_id == "k2"
    with pytest.raises(KeyRingError, match="no key 'k1'"):
        KeyRing({"k2": new}, "k2").open(before, tenant_id="t1")


def test_keys_must_be_256_bits_and_the_active_one_present() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        KeyRing({"k1": b"short"}, "k1")
    with pytest.raises(ValueError, match="not in the key ring"):
        KeyRing({"k1": os.urandom(32)}, "k2")


def test_derived_keys_differ_by_purpose_and_key() -> None:
    keys = KeyRing({"k1": os.urandom(32), "k2": os.urandom(32)}, "k2")
    assert keys.derived("k1", b"a") != keys.derived("k1", b"b")
    assert keys.derived("k1", b"a") != keys.derived("k2", b"a")
    assert len(keys.derived("k1", b"a")) == 32
