"""The webhook signature: `X-Webhook-Signature: sha256=<hex HMAC-SHA256 of "<ts>.<body>">`.

The timestamp is signed with the body, so a captured request cannot be replayed once it
is older than the replay window; comparisons are constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from typing import Final

SCHEME: Final = b"sha256="
REPLAY_WINDOW_S: Final = 300
# Unix seconds: ten digits until the year 2286; anything longer is not a timestamp.
_MAX_TIMESTAMP_DIGITS: Final = 12


def sign(secret: bytes, timestamp: bytes, body: bytes) -> bytes:
    """The `X-Webhook-Signature` value for `body` sent at `timestamp` (Unix seconds)."""
    mac = hmac.new(secret, timestamp + b"." + body, hashlib.sha256)
    return SCHEME + mac.hexdigest().encode("ascii")


def signature_matches(
    secrets: Iterable[bytes], timestamp: bytes, body: bytes, signature: bytes
) -> bool:
    """True when `signature` is `body`'s signature under one of `secrets`.

    Every secret is tried (rotation): the time taken does not depend on which one, if any,
    matched, nor on how much of the signature was right.
    """
    given = signature.strip().lower()
    matched = False
    for secret in secrets:
        matched |= hmac.compare_digest(sign(secret, timestamp, body), given)
    return matched


def parse_timestamp(timestamp: bytes) -> int | None:
    """The header's Unix seconds, or None when it is not a plain non-negative integer."""
    text = timestamp.strip()
    if not text or len(text) > _MAX_TIMESTAMP_DIGITS or not text.isdigit():
        return None
    return int(text)


def is_fresh(timestamp: int, now: float, window_s: int = REPLAY_WINDOW_S) -> bool:
    """Within `window_s` of `now`, either way (a clock ahead of ours is skew, not a pass)."""
    return abs(now - timestamp) <= window_s
