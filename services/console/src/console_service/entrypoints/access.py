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

from chat_contracts.base import TENANT_ID_PATTERN
from chat_runtime.links import Access, Denied, TenantGate

__all__ = ["Access", "Denied", "Gate"]

_TENANT = re.compile(TENANT_ID_PATTERN)


class Gate(TenantGate):
    """The console's gate: the tenant is the one in the path, which a link must name."""

    def check(self, tenant: str, authorization: str | None, params: Mapping[str, str]) -> Access:
        """The access the request's credentials give to `tenant`, or Denied."""
        if not _TENANT.fullmatch(tenant):
            raise Denied(404, "no such tenant")
        return self.access(tenant, authorization, params)
