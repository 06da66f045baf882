"""The audit trail's view of a repair command (`audit.events.v1`): who asked for what, and
how it went. What was asked goes in `changes` (none of it is secret)."""

from __future__ import annotations

from typing import Literal

from chat_contracts.audit import AuditChange, AuditEvent
from chat_contracts.base import JsonScalar
from chat_contracts.crm import BackfillCommand, ReplayDeadLettersCommand, ResyncChatCommand
from crm_sync.domain.inbound import position_text
from crm_sync.domain.results import SERVICE

RepairCommand = ResyncChatCommand | ReplayDeadLettersCommand | BackfillCommand
Outcome = Literal["ok", "refused", "failed"]
ACTIONS = {
    "resync_chat": "crm.resync",
    "replay_dead_letters": "crm.replay",
    "backfill": "crm.backfill",
}


def _asked(command: RepairCommand) -> tuple[str, dict[str, JsonScalar | list[JsonScalar]]]:
    if isinstance(command, ResyncChatCommand):
        source = position_text(command.source).decode() if command.source else None
        ended = command.ended_at.isoformat() if command.ended_at else None
        return command.chat_id, {"chat_id": command.chat_id, "source": source, "ended_at": ended}
    if isinstance(command, ReplayDeadLettersCommand):
        letters: list[JsonScalar] = [position_text(p).decode() for p in command.letters]
        return f"{len(letters)} dead letter(s)", {"letters": letters}
    window = f"{command.start.isoformat()}/{command.end.isoformat()}"
    return window, {"start": command.start.isoformat(), "end": command.end.isoformat()}


def repair_event(
    command: RepairCommand, outcome: Outcome, requeued: int = 0, skipped: int = 0
) -> AuditEvent:
    """One repair, as the trail records it: the target, what was asked, what was put back."""
    target, asked = _asked(command)
    changes = [AuditChange(field=name, after=value) for name, value in asked.items()]
    changes += [
        AuditChange(field="requeued", after=requeued),
        AuditChange(field="skipped", after=skipped),
    ]
    return AuditEvent(
        tenant_id=command.tenant_id,
        service=SERVICE,
        actor=command.requested_by,
        action=ACTIONS[command.command],
        target=target,
        outcome=outcome,
        changes=tuple(changes),
    )
