"""`auth.connections.v1`: a tenant's Salesforce connection lifecycle, told apart by `kind`.

Key: `keys.tenant_key`. crm-sync and bot-actions park or refuse work on `revoked` and
`disconnected`; operators alert on `refresh_failed` and failed permission checks.
"""

from __future__ import annotations

from typing import Annotated, Literal, TypeAlias

from pydantic import Field

from chat_contracts.base import (
    ContractModel,
    Envelope,
    InstanceUrl,
    NonEmptyStr,
    SalesforceId,
)

CheckedObject: TypeAlias = Literal["Account", "Contact", "Lead", "Case", "Task"]
Operation: TypeAlias = Literal["query", "create", "update"]


class _ConnectionEvent(Envelope):
    schema_version: Literal[1] = 1


class ConnectedEvent(_ConnectionEvent):
    """An admin connected the tenant to an org."""

    kind: Literal["connected"] = "connected"
    org_id: SalesforceId = Field(examples=["00D5g000004XyZaEAK"])
    user_id: SalesforceId = Field(examples=["0055g00000AbCdEAAV"])
    username: NonEmptyStr = Field(examples=["admin@acme.test"])
    instance_url: InstanceUrl = Field(examples=["https://acme.my.salesforce.com"])
    sandbox: bool


class RefreshFailedEvent(_ConnectionEvent):
    """A token refresh failed for a reason that may pass (5xx, timeout)."""

    kind: Literal["refresh_failed"] = "refresh_failed"
    error: NonEmptyStr = Field(
        description="Salesforce's error code or the transport failure.", examples=["http_503"]
    )
    message: str = Field("", description="Detail, free of secrets.")
    attempts: int = Field(1, ge=1)
    will_retry: bool = True


class RevokedEvent(_ConnectionEvent):
    """Salesforce refused the refresh token (`invalid_grant`): reconnect needed."""

    kind: Literal["revoked"] = "revoked"
    error: NonEmptyStr = "invalid_grant"
    message: str = Field("", examples=["expired access/refresh token"])


class DisconnectedEvent(_ConnectionEvent):
    """The connection was removed on purpose; a tombstone follows on the token topic."""

    kind: Literal["disconnected"] = "disconnected"
    initiated_by: NonEmptyStr = Field(description="Who disconnected.", examples=["admin"])
    revoked_at_salesforce: bool = Field(
        description="Whether revoking the token at Salesforce succeeded."
    )


class MissingPermission(ContractModel):
    """One operation the connected user may not perform on one object."""

    object: CheckedObject = Field(examples=["Case"])
    operation: Operation = Field(examples=["create"])


class PermissionCheckEvent(_ConnectionEvent):
    """Result of checking, through describe, what the integration needs on each object."""

    kind: Literal["permission_check"] = "permission_check"
    checked: tuple[CheckedObject, ...] = Field(
        ("Account", "Contact", "Lead", "Case", "Task"), description="Objects checked."
    )
    missing: tuple[MissingPermission, ...] = Field(
        (), description="What is missing; empty when everything needed is allowed."
    )

    @property
    def ok(self) -> bool:
        """True when nothing is missing."""
        return not self.missing


ConnectionEvent: TypeAlias = Annotated[
    ConnectedEvent | RefreshFailedEvent | RevokedEvent | DisconnectedEvent | PermissionCheckEvent,
    Field(discriminator="kind"),
]
"""An `auth.connections.v1` value."""
