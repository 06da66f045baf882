"""`audit.events.v1`: who did what to which tenant, from any admin surface.

Every admin, settings and console action (connect, disconnect, a settings change, a
resync, a replay, a backfill) is one `AuditEvent`, written by the service that carried it
out. The console shows a tenant's trail. Values in `changes` are the settings' own values,
never a secret: a secret-bearing field is named with its value left out.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from chat_contracts.base import ContractModel, Envelope, JsonScalar, NonEmptyStr


class AuditChange(ContractModel):
    """One field an action changed (a settings path, or what a command asked for)."""

    field: NonEmptyStr = Field(examples=["mode"])
    before: JsonScalar | list[JsonScalar] = Field(None, examples=["sales"])
    after: JsonScalar | list[JsonScalar] = Field(None, examples=["support"])


class AuditEvent(Envelope):
    """`audit.events.v1` value: one admin action. Key: `keys.tenant_key`."""

    schema_version: Literal[1] = 1
    service: NonEmptyStr = Field(description="Service that carried it out.", examples=["auth"])
    actor: NonEmptyStr = Field(
        description="Who: 'admin' (the admin token), 'tenant-link' (a signed tenant link), "
        "'cli', or the agent's email.",
        examples=["admin"],
    )
    action: NonEmptyStr = Field(
        description="What, dotted: connection.connect, connection.disconnect, "
        "settings.update, crm.resync, crm.replay, crm.backfill, ...",
        examples=["settings.update"],
    )
    target: str | None = Field(
        None, description="What it acted on (a chat id, dead letters, a window).", examples=[None]
    )
    outcome: Literal["ok", "refused", "failed"] = Field("ok", examples=["ok"])
    changes: tuple[AuditChange, ...] = Field(
        (), description="What changed, field by field (secrets named, never their values)."
    )
    source_ip: str | None = Field(None, description="The caller's address, when over HTTP.")
