"""Reading Salesforce's token answer: identity URL and signature."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from auth_service.domain.connection import parse_identity_url, signature_ok


def test_identity_url_gives_org_and_user() -> None:
    url = "https://login.salesforce.com/id/00D5g000004XyZaEAK/0055g00000AbCdEAAV"
    assert parse_identity_url(url) == ("00D5g000004XyZaEAK", "0055g00000AbCdEAAV")
    assert parse_identity_url("https://127.0.0.1:8800/sandbox/id/00D5g000004XyZa/0055g00000AbCdE")


def test_an_identity_url_without_ids_is_refused() -> None:
    with pytest.raises(ValueError, match="no org and user id"):
        parse_identity_url("https://login.salesforce.com/services/oauth2/userinfo")


def test_signature_is_hmac_sha256_of_id_and_issued_at() -> None:
    identity, issued = "https://login.salesforce.com/id/00D/005", "1767225600000"
    good = base64.b64encode(
        hmac.new(b"secret", (identity + issued).encode(), hashlib.sha256).digest()
    ).decode()
    assert signature_ok("secret", identity, issued, good)
    assert not signature_ok("other", identity, issued, good)
    # A signature that is not ASCII (a broken proxy's answer) is a mismatch, not a TypeError.
    assert not signature_ok("secret", identity, issued, "²" + good[1:])
    assert not signature_ok("secret", identity, "1767225600001", good)
