"""A tenant's connection as pages and use cases see it, and what a token answer says.

`status_of` turns the stored record (or its absence) into what the connect page shows:
connected, revoked (Salesforce refused the refresh token) or not connected.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from chat_contracts.auth import RefreshTokenRecord
from chat_contracts.auth_events import PermissionCheckEvent

State = Literal["connected", "revoked", "not_connected"]

_IDENTITY = re.compile(r"/id/(?P<org>[A-Za-z0-9]{15,18})/(?P<user>[A-Za-z0-9]{15,18})/?$")


def parse_identity_url(url: str) -> tuple[str, str]:
    """(org id, user id) of the token answer's `id` (`https://login.../id/00D.../005...`)."""
    match = _IDENTITY.search(url)
    if match is None:
        raise ValueError("the token answer's identity URL has no org and user id")
    return match["org"], match["user"]


def signature_ok(client_secret: str, identity_url: str, issued_at: str, signature: str) -> bool:
    """Salesforce's token `signature`: base64(HMAC-SHA256(client secret, id + issued_at))."""
    mac = hmac.new(client_secret.encode(), (identity_url + issued_at).encode(), hashlib.sha256)
    # As bytes: compare_digest raises on a str with non-ASCII characters.
    return hmac.compare_digest(base64.b64encode(mac.digest()), signature.encode())


@dataclass(frozen=True, slots=True)
class ConnectionStatus:
    """Everything the connect page and `GET /admin/status` report about one tenant."""

    tenant_id: str
    state: State
    record: RefreshTokenRecord | None = None
    permission_check: PermissionCheckEvent | None = None
    permission_error: str | None = None

    @property
    def connected(self) -> bool:
        return self.state == "connected"

    def as_json(self) -> dict[str, object]:
        body: dict[str, object] = {"tenant_id": self.tenant_id, "state": self.state}
        record = self.record
        if record is not None:
            body.update(
                org_id=record.org_id,
                user_id=record.user_id,
                username=record.username,
                instance_url=record.instance_url,
                sandbox=record.sandbox,
                connected_at=_iso(record.connected_at),
                last_refreshed_at=_iso(record.last_refreshed_at),
                revoked_at=_iso(record.revoked_at),
            )
        if self.permission_check is not None:
            body["permission_check"] = {
                "checked_at": _iso(self.permission_check.occurred_at),
                "ok": self.permission_check.ok,
                "missing": [m.model_dump() for m in self.permission_check.missing],
            }
        if self.permission_error:
            body["permission_error"] = self.permission_error
        return body


def status_of(
    tenant_id: str,
    record: RefreshTokenRecord | None,
    check: PermissionCheckEvent | None = None,
    check_error: str | None = None,
) -> ConnectionStatus:
    if record is None:
        return ConnectionStatus(tenant_id, "not_connected")
    state: State = "revoked" if record.revoked_at is not None else "connected"
    return ConnectionStatus(tenant_id, state, record, check, check_error)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None
