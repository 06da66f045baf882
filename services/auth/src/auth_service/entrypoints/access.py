"""Who may open a tenant's page or call its admin endpoints.

Two credentials, both tenant-scoped: the admin bearer token (`Authorization: Bearer ...`,
any tenant), or a link signed by the platform for one tenant (`tenant`, `expires`, `sig`
query or form fields). No credentials: 401. Wrong admin token: 401 (a wrong bearer
token never falls back to the link). Bad, expired or other-tenant link: 403.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlencode

from chat_contracts.base import TENANT_ID_PATTERN
from chat_runtime.clock import Clock
from chat_runtime.links import Refused, credentials, sign_link

_TENANT = re.compile(TENANT_ID_PATTERN)


@dataclass(frozen=True, slots=True)
class Access:
    tenant_id: str
    via: Literal["admin", "link"]


class Denied(Exception):
    def __init__(self, status: int, reason: str) -> None:
        self.status = status
        self.reason = reason
        super().__init__(reason)


class Gate:
    def __init__(
        self,
        *,
        admin_token: str,
        link_secret: bytes,
        link_ttl_s: int,
        public_url: str,
        clock: Clock,
    ) -> None:
        self._admin_token = admin_token.encode()
        self._link_secret = link_secret
        self._link_ttl_s = link_ttl_s
        self._public_url = public_url.rstrip("/")
        self._clock = clock

    def check(
        self,
        authorization: str | None,
        params: Mapping[str, str],
        *,
        admin_only: bool = False,
    ) -> Access:
        """The access the request's credentials give to `params["tenant"]`, or Denied."""
        tenant = params.get("tenant", "")
        if not _TENANT.fullmatch(tenant):
            raise Denied(400, "a valid tenant parameter is required")
        try:
            via = credentials(
                tenant,
                authorization,
                params,
                admin_token=self._admin_token,
                link_secret=self._link_secret,
                now=self._clock.epoch(),
                admin_only=admin_only,
            )
        except Refused as refused:
            raise Denied(refused.status, refused.reason) from None
        return Access(tenant, via)

    def link_params(self, tenant_id: str) -> dict[str, str]:
        """Fresh signed parameters for the tenant (page forms, redirects, new links)."""
        return sign_link(
            tenant_id, now=self._clock.epoch(), ttl_s=self._link_ttl_s, secret=self._link_secret
        )

    def page_url(self, tenant_id: str, **extra: str) -> str:
        return f"{self._public_url}/connect?{urlencode({**self.link_params(tenant_id), **extra})}"
