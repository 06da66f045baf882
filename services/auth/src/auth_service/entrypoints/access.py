"""Who may open a tenant's page or call its admin endpoints.

Two credentials, both tenant-scoped: the admin bearer token (`Authorization: Bearer ...`,
any tenant), or a link signed by the platform for one tenant (`tenant`, `expires`, `sig`
query or form fields). No credentials: 401. Wrong admin token: 401 (a wrong bearer
token never falls back to the link). Bad, expired or other-tenant link: 403.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import urlencode

from chat_contracts.base import TENANT_ID_PATTERN
from chat_runtime.clock import Clock
from chat_runtime.links import Access, Denied, TenantGate

__all__ = ["Access", "Denied", "Gate"]

_TENANT = re.compile(TENANT_ID_PATTERN)


class Gate(TenantGate):
    """The connect page's gate: the tenant is the `tenant` parameter of the request."""

    def __init__(
        self,
        *,
        admin_token: str,
        link_secret: bytes,
        link_ttl_s: int,
        public_url: str,
        clock: Clock,
    ) -> None:
        super().__init__(
            admin_token=admin_token, link_secret=link_secret, link_ttl_s=link_ttl_s, clock=clock
        )
        self._public_url = public_url.rstrip("/")

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
        return self.access(tenant, authorization, params, admin_only=admin_only)

    def page_url(self, tenant_id: str, **extra: str) -> str:
        return f"{self._public_url}/connect?{urlencode({**self.link_params(tenant_id), **extra})}"
