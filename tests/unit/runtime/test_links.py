"""Platform-signed links: tenant-bound, expiring, HMAC."""

from __future__ import annotations

import pytest

from chat_runtime.links import MAX_TTL_S, LinkError, link_signature, sign_link, verify_link

SECRET = b"link-secret"
NOW = 1_800_000_000.0


def test_a_signed_link_verifies_for_its_tenant() -> None:
    params = sign_link("t1", now=NOW, ttl_s=900, secret=SECRET)
    assert params["tenant"] == "t1"
    assert params["expires"] == str(int(NOW) + 900)
    verify_link("t1", params["expires"], params["sig"], now=NOW + 899, secret=SECRET)


@pytest.mark.parametrize(
    ("tenant", "expires_delta", "sig", "reason"),
    [
        ("t2", 0, None, "bad_signature"),  # a link for t1 opens nothing of t2
        ("t1", 1, None, "bad_signature"),  # expiry pushed out by hand
        ("t1", 0, "AAAA", "bad_signature"),
        ("t1", 0, "", "malformed"),
    ],
)
def test_links_that_do_not_authorise(
    tenant: str, expires_delta: int, sig: str | None, reason: str
) -> None:
    params = sign_link("t1", now=NOW, ttl_s=900, secret=SECRET)
    expires = str(int(params["expires"]) + expires_delta)
    with pytest.raises(LinkError) as caught:
        verify_link(tenant, expires, params["sig"] if sig is None else sig, now=NOW, secret=SECRET)
    assert caught.value.reason == reason


def test_expired_link() -> None:
    params = sign_link("t1", now=NOW, ttl_s=60, secret=SECRET)
    with pytest.raises(LinkError, match="expired"):
        verify_link("t1", params["expires"], params["sig"], now=NOW + 60, secret=SECRET)


def test_another_secret_does_not_verify() -> None:
    params = sign_link("t1", now=NOW, ttl_s=60, secret=SECRET)
    with pytest.raises(LinkError, match="bad_signature"):
        verify_link("t1", params["expires"], params["sig"], now=NOW, secret=b"other")


def test_links_live_at_most_a_day_even_if_signed_for_longer() -> None:
    assert int(sign_link("t1", now=NOW, ttl_s=10**9, secret=SECRET)["expires"]) == NOW + MAX_TTL_S
    far = int(NOW) + 10 * MAX_TTL_S
    with pytest.raises(LinkError, match="too_long"):
        verify_link("t1", str(far), link_signature("t1", far, SECRET), now=NOW, secret=SECRET)


@pytest.mark.parametrize("expires", ["²", "١٢٣", "9" * 5000, "1e10", "-1", ""])
def test_an_absurd_expiry_is_malformed_not_an_error(expires: str) -> None:
    with pytest.raises(LinkError) as caught:
        verify_link("t1", expires, "x" * 43, now=NOW, secret=SECRET)
    assert caught.value.reason == "malformed"
