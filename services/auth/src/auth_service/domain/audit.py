"""What auth's audit trail (`audit.events.v1`) says of an admin action: who (the admin
token or a tenant's signed link), from where, and for a settings change, each field that
changed with its value before and after.

A field whose name looks secret-bearing (the names a dead letter's headers are redacted
by) is named with both values left out: the trail is read by people who may not see them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

from chat_contracts.audit import AuditChange, AuditEvent
from chat_contracts.base import JsonScalar
from chat_contracts.dlq import is_secret_header
from chat_contracts.settings import TenantSettings

SERVICE: Final = "auth"
ACTORS: Final = {"admin": "admin", "link": "tenant-link"}
"""How the trail names each way in (`entrypoints.access.Access.via`)."""
NOT_COMPARED: Final = frozenset(
    {"schema_version", "message_id", "tenant_id", "occurred_at", "updated_by"}
)
"""Settings fields that change with every save and say nothing of what the admin did."""
Outcome = Literal["ok", "refused", "failed"]
Value = JsonScalar | list[JsonScalar]


@dataclass(frozen=True, slots=True)
class Caller:
    """Who asked for an admin action, as the trail names them."""

    actor: str
    source_ip: str | None = None

    @classmethod
    def of(cls, via: str, source_ip: str | None) -> Caller:
        """The caller behind a checked credential (`Access.via`)."""
        return cls(ACTORS.get(via, via), source_ip)


def event(
    tenant_id: str,
    caller: Caller,
    action: str,
    *,
    outcome: Outcome = "ok",
    target: str | None = None,
    changes: tuple[AuditChange, ...] = (),
) -> AuditEvent:
    """One admin action of auth's."""
    return AuditEvent(
        tenant_id=tenant_id,
        service=SERVICE,
        actor=caller.actor,
        action=action,
        target=target,
        outcome=outcome,
        changes=changes,
        source_ip=caller.source_ip,
    )


def _flat(value: Any, path: str, out: dict[str, Value]) -> None:
    """Nested settings as dotted paths (`field_mapping.0.target`); a list of plain values
    stays one value."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            _flat(item, f"{path}.{key}" if path else str(key), out)
    elif isinstance(value, list | tuple) and not all(_scalar(v) for v in value):
        for index, item in enumerate(value):
            _flat(item, f"{path}.{index}", out)
    elif isinstance(value, list | tuple) and value:
        out[path] = list(value)
    elif isinstance(value, list | tuple):
        # An empty list: compared as absent, so a first rule reads as its fields appearing
        # (and a last one removed as them disappearing).
        pass
    else:
        out[path] = value


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def changes_between(before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[AuditChange, ...]:
    """Every path whose value differs, in path order; secret-bearing ones without values."""
    old: dict[str, Value] = {}
    new: dict[str, Value] = {}
    _flat(before, "", old)
    _flat(after, "", new)
    changes = []
    for path in sorted(old.keys() | new.keys()):
        was, now = old.get(path), new.get(path)
        if was == now:
            continue
        if any(is_secret_header(part) for part in path.split(".")):
            changes.append(AuditChange(field=path))
        else:
            changes.append(AuditChange(field=path, before=was, after=now))
    return tuple(changes)


def settings_changes(before: TenantSettings, after: TenantSettings) -> tuple[AuditChange, ...]:
    """What a settings save changed, field by field (`before`: the stored value, else the
    defaults the tenant had)."""
    return changes_between(
        before.model_dump(mode="json", exclude=set(NOT_COMPARED)),
        after.model_dump(mode="json", exclude=set(NOT_COMPARED)),
    )
