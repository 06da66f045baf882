"""Who may see a tenant's console or call its API: the rules of auth's connect page.

Two credentials, both tenant-scoped: the admin bearer token (`Authorization: Bearer ...`,
any tenant), or a link signed by the platform for one tenant (`tenant`, `expires`, `sig`
in the query or the form; `chat_runtime.links`, the same secret and links as auth's).
No credentials: 401. Wrong admin token: 401 (a wrong token never falls back to the link).
Bad, expired or other-tenant link: 403. The tenant is the one in the path: a link for
tenant A never opens tenant B, whatever else the request says.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

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
        self, *, admin_token: str, link_secret: bytes, link_ttl_s: int, clock: Clock
    ) -> None:
        self._admin_token = admin_token.encode()
        self._link_secret = link_secret
        self._link_ttl_s = link_ttl_s
        self._clock = clock

    def check(self, tenant: str, authorization: str | None, params: Mapping[str, str]) -> Access:
        """The access the request's credentials give to `tenant`, or Denied."""
        if not _TENANT.fullmatch(tenant):
            raise Denied(404, "no such tenant")
        try:
            via = credentials(
                tenant,
                authorization,
                params,
                admin_token=self._admin_token,
                link_secret=self._link_secret,
                now=self._clock.epoch(),
            )
        except Refused as refused:
            raise Denied(refused.status, refused.reason) from None
        return Access(tenant, via)

    def link_params(self, tenant_id: str) -> dict[str, str]:
        """Fresh signed parameters for the tenant (tests, the CLI's links)."""
        return sign_link(
            tenant_id, now=self._clock.epoch(), ttl_s=self._link_ttl_s, secret=self._link_secret
        )
