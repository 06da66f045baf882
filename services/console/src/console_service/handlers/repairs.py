"""The console's repairs: resync a chat, replay dead letters, backfill a window.

Each becomes one or more commands on `crm.commands.v1` (crm-sync stays the only writer to
Salesforce, and its chat-id dedupe makes every replay safe). The admin gets an answer at
once: the command is recorded as `sent` and sent in the background; crm-sync's answer
(accepted, with how many chats it put back, or an error), or its absence, is recorded on
the command when it comes. Every repair is also an audit event.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from chat_contracts.audit import AuditChange, AuditEvent
from chat_contracts.crm import (
    MAX_REPLAY_LETTERS,
    BackfillCommand,
    CommandAcceptedReply,
    ReplayDeadLettersCommand,
    ResyncChatCommand,
)
from chat_contracts.sync import SourcePosition
from chat_runtime.logging import get_logger
from console_service.adapters.kafka import AuditLog, CrmCommands, RepairCommand
from console_service.adapters.store import Store
from console_service.domain.history import as_utc

log = get_logger(__name__)


class RepairRefused(Exception):
    """The repair cannot be asked for; `status` is the HTTP answer, the message says why."""

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class Actor:
    """Who asks: "admin", "tenant-link" or "cli", and from where."""

    kind: str
    source_ip: str | None = None


@dataclass(frozen=True, slots=True)
class Requested:
    command_ids: tuple[str, ...]
    letters: int = 0


class Repairs:
    """The three repairs, over the store and crm-sync's command topic."""

    def __init__(self, store: Store, commands: CrmCommands, audit: AuditLog) -> None:
        self.store, self.commands, self.audit = store, commands, audit
        self._tasks: set[asyncio.Task[None]] = set()

    async def resync(self, tenant_id: str, chat_id: str, actor: Actor) -> Requested:
        rows = await asyncio.to_thread(self.store.chat, tenant_id, chat_id)
        if not rows:
            raise RepairRefused(404, f"no chat {chat_id!r} in this tenant's history")
        row = rows[0]
        source = None
        if row["source_topic"] is not None:
            source = SourcePosition(
                topic=row["source_topic"],
                partition=row["source_partition"],
                offset=row["source_offset"],
            )
        ended_at = as_utc(row["ended_at"])
        if source is None and ended_at is None:
            raise RepairRefused(409, "crm-sync did not say where this chat came from")
        command = ResyncChatCommand(
            tenant_id=tenant_id,
            requested_by=actor.kind,
            chat_id=chat_id,
            source=source,
            ended_at=ended_at,
        )
        changes = (AuditChange(field="chat_id", after=chat_id),)
        command_id = await self._send(command, f"resync chat {chat_id}", actor, changes)
        return Requested((command_id,))

    async def replay(
        self,
        tenant_id: str,
        actor: Actor,
        *,
        ids: Sequence[str] | None = None,
        reason: str | None = None,
    ) -> Requested:
        letters = await asyncio.to_thread(
            self.store.dead_letters, tenant_id, reason=reason, ids=ids, limit=None
        )
        if ids is not None and len({r["id"] for r in letters}) != len(set(ids)):
            raise RepairRefused(404, "some of these dead letters are not this tenant's")
        replayable = [r for r in letters if r["replayable"]]
        if not replayable:
            raise RepairRefused(409, "no dead letter to replay (none kept its original value)")
        command_ids = []
        for start in range(0, len(replayable), MAX_REPLAY_LETTERS):
            chunk = replayable[start : start + MAX_REPLAY_LETTERS]
            command = ReplayDeadLettersCommand(
                tenant_id=tenant_id,
                requested_by=actor.kind,
                letters=tuple(
                    SourcePosition(topic=r["topic"], partition=r["partition"], offset=r["offset"])
                    for r in chunk
                ),
            )
            what = f"replay {len(chunk)} dead letter(s)" + (f" ({reason})" if reason else "")
            changes = (
                AuditChange(field="dead_letters", after=[r["id"] for r in chunk][:50]),
                AuditChange(field="reason", after=reason),
            )
            command_ids.append(await self._send(command, what, actor, changes))
            await asyncio.to_thread(
                self.store.mark_replay, tenant_id, [r["id"] for r in chunk], _now()
            )
        return Requested(tuple(command_ids), letters=len(replayable))

    async def backfill(
        self, tenant_id: str, start: datetime, end: datetime, actor: Actor
    ) -> Requested:
        try:
            command = BackfillCommand(
                tenant_id=tenant_id, requested_by=actor.kind, start=start, end=end
            )
        except ValueError as exc:
            raise RepairRefused(400, str(exc).splitlines()[-1]) from None
        what = f"backfill {start.isoformat()} to {end.isoformat()}"
        changes = (
            AuditChange(field="from", after=start.isoformat()),
            AuditChange(field="to", after=end.isoformat()),
        )
        return Requested((await self._send(command, what, actor, changes),))

    async def _send(
        self,
        command: RepairCommand,
        summary: str,
        actor: Actor,
        changes: tuple[AuditChange, ...],
    ) -> str:
        command_id = str(command.message_id)
        row: dict[str, Any] = {
            "id": command_id,
            "tenant_id": command.tenant_id,
            "kind": command.command,
            "requested_by": actor.kind,
            "summary": summary,
            "sent_at": _now(),
            "status": "sent",
        }
        await asyncio.to_thread(self.store.add_command, row)
        event = AuditEvent(
            tenant_id=command.tenant_id,
            service="console",
            actor=actor.kind,
            action=f"console.{command.command.split('_')[0]}",
            target=summary,
            changes=changes,
            source_ip=actor.source_ip,
        )
        try:
            await self.audit.record(event)
        except Exception:  # the audit trail must not stop a repair; say so loudly
            log.exception("audit event not published", action=event.action)
        task = asyncio.create_task(self._await_reply(command_id, command), name=command_id)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return command_id

    async def _await_reply(self, command_id: str, command: RepairCommand) -> None:
        values: dict[str, Any]
        try:
            answer = await self.commands.send(command)
        except Exception as exc:  # noqa: BLE001 - any failure is the command's outcome
            values = {"status": "failed", "error": f"{type(exc).__name__}: {exc}"[:500]}
        else:
            if isinstance(answer, CommandAcceptedReply):
                values = {
                    "status": "accepted",
                    "requeued": answer.requeued,
                    "skipped": answer.skipped,
                }
            else:
                values = {"status": "refused", "error": f"{answer.code}: {answer.message}"[:500]}
        values["replied_at"] = _now()
        try:
            await asyncio.to_thread(self.store.finish_command, command_id, values)
        except Exception:
            log.exception("command outcome not stored", command_id=command_id)
        log.info(
            "repair answered", command_id=command_id, kind=command.command, **_loggable(values)
        )

    async def stop(self) -> None:
        """Stop waiting for answers (the commands stay `sent` in the history)."""
        for task in list(self._tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def _loggable(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if k != "replied_at"}


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)
