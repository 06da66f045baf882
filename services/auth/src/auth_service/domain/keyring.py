"""The key ring that seals refresh tokens: AES-256-GCM, several keys told apart by id.

New records are sealed with the active key; records sealed with an older key still open
as long as that key stays in the ring, so keys rotate without losing tokens (auth
re-seals old records with the active key when it loads them). The tenant id is the
associated data: a record copied under another tenant's key does not open.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

KEY_BYTES = 32
NONCE_BYTES = 12
KEY_ID_PATTERN = r"^[A-Za-z0-9_-]{1,32}$"


class KeyRingError(Exception):
    """A sealed value cannot be opened (unknown key, wrong tenant, tampered bytes)."""


@dataclass(frozen=True, slots=True)
class Sealed:
    """A sealed secret: which key, the nonce, the ciphertext with its tag."""

    key_id: str
    nonce: bytes
    ciphertext: bytes


class KeyRing:
    """Named 256-bit keys, one of them active for sealing."""

    def __init__(self, keys: Mapping[str, bytes], active_id: str) -> None:
        if active_id not in keys:
            raise ValueError(f"active key {active_id!r} is not in the key ring")
        for key_id, key in keys.items():
            if len(key) != KEY_BYTES:
                raise ValueError(f"key {key_id!r} must be {KEY_BYTES} bytes")
        self._aead = {key_id: AESGCM(key) for key_id, key in keys.items()}
        self._keys = dict(keys)
        self.active_id = active_id

    @property
    def key_ids(self) -> tuple[str, ...]:
        return tuple(self._keys)

    def seal(self, plaintext: str, *, tenant_id: str) -> Sealed:
        """Encrypt `plaintext` for `tenant_id` with the active key and a fresh nonce."""
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead[self.active_id].encrypt(nonce, plaintext.encode(), tenant_id.encode())
        return Sealed(self.active_id, nonce, sealed)

    def open(self, sealed: Sealed, *, tenant_id: str) -> str:
        """Decrypt; raises KeyRingError without saying anything about the content."""
        aead = self._aead.get(sealed.key_id)
        if aead is None:
            raise KeyRingError(f"no key {sealed.key_id!r} in the key ring")
        try:
            plain = aead.decrypt(sealed.nonce, sealed.ciphertext, tenant_id.encode())
        except (InvalidTag, ValueError):
            raise KeyRingError(f"sealed value does not open with key {sealed.key_id!r}") from None
        return plain.decode()

    def is_current(self, key_id: str) -> bool:
        """Whether something sealed with `key_id` needs no re-sealing."""
        return key_id == self.active_id

    def derived(self, key_id: str, purpose: bytes) -> bytes:
        """A key for another purpose (e.g. OAuth state), derived with HKDF-SHA256."""
        if key_id not in self._keys:
            raise KeyRingError(f"no key {key_id!r} in the key ring")
        hkdf = HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=purpose)
        return hkdf.derive(self._keys[key_id])
