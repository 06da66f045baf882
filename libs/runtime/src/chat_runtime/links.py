"""Links signed by the platform: `?tenant=...&expires=...&sig=...`, HMAC-SHA256.

The chat platform (which knows the shared link secret) sends a tenant's admin to auth's
connect page or to the console with such a link; both mint them for their own pages' forms
and for admins holding the bearer token. One secret, one kind of link: a link for a tenant
opens that tenant's connect page and console alike. The signature covers a purpose, the
tenant and the expiry, so a link for tenant A cannot open tenant B, and a link lives at
most `MAX_TTL_S`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from chat_runtime.clock import Clock

_PURPOSE = "auth.connect-link.v1"
MAX_TTL_S = 24 * 3600
# Epoch seconds have 10 digits until the year 2286; more is no expiry anyone signed.
_MAX_EXPIRES_DIGITS = 12


class LinkError(Exception):
    """The link does not authorise; `reason`: malformed, expired, too_long, bad_signature."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"link {reason}")


def b64url(data: bytes) -> str:
    """Base64url without padding."""
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def link_signature(tenant_id: str, expires: int, secret: bytes) -> str:
    message = f"{_PURPOSE}|{tenant_id}|{expires}".encode()
    return b64url(hmac.new(secret, message, hashlib.sha256).digest())


def sign_link(tenant_id: str, *, now: float, ttl_s: int, secret: bytes) -> dict[str, str]:
    """The query parameters of a link for `tenant_id` valid `ttl_s` seconds."""
    expires = int(now) + min(ttl_s, MAX_TTL_S)
    return {
        "tenant": tenant_id,
        "expires": str(expires),
        "sig": link_signature(tenant_id, expires, secret),
    }


def verify_link(tenant_id: str, expires: str, sig: str, *, now: float, secret: bytes) -> None:
    """Raise LinkError unless `sig` is a current signature of (tenant, expires)."""
    # ASCII digits only: str.isdigit() also takes "²", which int() refuses.
    well_formed = expires.isascii() and expires.isdigit() and len(expires) <= _MAX_EXPIRES_DIGITS
    # hmac.compare_digest refuses str with non-ASCII characters (TypeError): check first.
    if not well_formed or not sig or len(sig) > 128 or not sig.isascii():
        raise LinkError("malformed")
    expiry = int(expires)
    if not hmac.compare_digest(link_signature(tenant_id, expiry, secret), sig):
        raise LinkError("bad_signature")
    if now >= expiry:
        raise LinkError("expired")
    if expiry - now > MAX_TTL_S:
        raise LinkError("too_long")


@dataclass(frozen=True, slots=True)
class Access:
    """A request let into one tenant, and by which credential."""

    tenant_id: str
    via: Literal["admin", "link"]


class Denied(Exception):
    """The request is not let in: `status` is 401 (no credentials, or a wrong admin token)
    or 403 (a bad, expired or other tenant's link); callers add their own (400, 404)."""

    def __init__(self, status: int, reason: str) -> None:
        self.status = status
        self.reason = reason
        super().__init__(reason)


def credentials(
    tenant_id: str,
    authorization: str | None,
    params: Mapping[str, str],
    *,
    admin_token: bytes,
    link_secret: bytes,
    now: float,
    admin_only: bool = False,
) -> Literal["admin", "link"]:
    """Which credential opens `tenant_id`, or Denied: the admin bearer token (any tenant;
    a wrong one never falls back to the link), else a signed link naming this tenant."""
    if authorization is not None:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            token.strip().encode(), admin_token
        ):
            raise Denied(401, "the admin token is not valid")
        return "admin"
    if admin_only:
        raise Denied(401, "the admin token is required")
    if "sig" not in params:
        raise Denied(401, "credentials are required: an admin token or a signed link")
    if params.get("tenant") != tenant_id:
        raise Denied(403, "the link is not valid for this tenant (other_tenant)")
    try:
        verify_link(
            tenant_id, params.get("expires", ""), params["sig"], now=now, secret=link_secret
        )
    except LinkError as exc:
        raise Denied(403, f"the link is not valid for this tenant ({exc.reason})") from None
    return "link"


class TenantGate:
    """One deployment's admin token and link secret: who may open which tenant. auth's
    connect page and the console each extend it with where their tenant comes from."""

    def __init__(
        self, *, admin_token: str, link_secret: bytes, link_ttl_s: int, clock: Clock
    ) -> None:
        self._admin_token = admin_token.encode()
        self._link_secret = link_secret
        self._link_ttl_s = link_ttl_s
        self._clock = clock

    def access(
        self,
        tenant_id: str,
        authorization: str | None,
        params: Mapping[str, str],
        *,
        admin_only: bool = False,
    ) -> Access:
        """The access the request's credentials give to `tenant_id`, or Denied."""
        via = credentials(
            tenant_id,
            authorization,
            params,
            admin_token=self._admin_token,
            link_secret=self._link_secret,
            now=self._clock.epoch(),
            admin_only=admin_only,
        )
        return Access(tenant_id, via)

    def link_params(self, tenant_id: str) -> dict[str, str]:
        """Fresh signed parameters for the tenant (page forms, redirects, new links)."""
        return sign_link(
            tenant_id, now=self._clock.epoch(), ttl_s=self._link_ttl_s, secret=self._link_secret
        )
