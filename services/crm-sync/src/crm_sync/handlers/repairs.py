"""The console's repairs on `crm.commands.v1`: resync a chat, replay dead letters,
backfill a window. Each reads the chats back from Kafka (`RecordReader`), produces them
again (`domain.repairs`), answers how many it put back, and leaves an `AuditEvent`.

A repair runs inside its request: the reply says what was done, and a command that cannot
finish says so instead of answering early. It has until the request's deadline (the
caller's timeout), at most `max_s`; a backfill of a long window needs a long timeout.
Stopped by that, it answers `deadline_exceeded` with what it had put back, and whatever
was put back stays (asking again is safe: chat-id dedupe). Meanwhile the tenant's other
commands wait their turn (`serial_by_tenant`); other tenants' do not.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator
from dataclasses import dataclass

from chat_contracts.crm import (
    BackfillCommand,
    CommandAcceptedReply,
    CrmCommandErrorCode,
    CrmCommandErrorReply,
    ReplayDeadLettersCommand,
    ResyncChatCommand,
)
from chat_contracts.keys import tenant_key
from chat_runtime.logging import get_logger
from chat_runtime.request_reply.responder import Request
from crm_sync.adapters.ports import JSON_HEADERS, Clock, OutRecord, Publisher, RecordReader
from crm_sync.domain import repairs
from crm_sync.domain.audit import Outcome, RepairCommand, repair_event
from crm_sync.domain.inbound import InRecord
from crm_sync.domain.repairs import RepairTopics, Replay

log = get_logger(__name__)
Reply = CommandAcceptedReply | CrmCommandErrorReply
REPLY_MARGIN_S = 1.0
"""Kept back from the request's deadline to send the reply in."""


class Refused(Exception):
    """The command cannot be carried out as asked (a validation error reply)."""

    def __init__(self, message: str, fields: tuple[str, ...]) -> None:
        super().__init__(message)
        self.fields = fields


@dataclass
class Progress:
    """What a repair has put back and skipped so far."""

    requeued: int = 0
    skipped: int = 0


class Repairs:
    """The repair commands' handler (the responder calls it within the request's deadline)."""

    def __init__(
        self,
        reader: RecordReader,
        publisher: Publisher,
        topics: RepairTopics,
        clock: Clock,
        *,
        max_s: float,
        chunk: int = 200,
    ) -> None:
        self.reader, self.publisher, self.topics = reader, publisher, topics
        self.clock, self.max_s, self.chunk = clock, max_s, chunk

    async def __call__(self, request: Request[RepairCommand]) -> Reply:
        command, progress = request.body, Progress()
        budget = min(self.max_s, request.deadline - self.clock.now().timestamp() - REPLY_MARGIN_S)
        try:
            async with asyncio.timeout(max(0.0, budget)):
                await self._run(command, progress)
        except Refused as exc:
            await self._audit(command, "refused", progress)
            return _error(command, CrmCommandErrorCode.VALIDATION, str(exc), exc.fields)
        except TimeoutError:
            await self._audit(command, "failed", progress)
            log.warning("a repair ran out of time", command=command.command, **vars(progress))
            message = (
                f"stopped after {max(0.0, budget):.0f} s, {progress.requeued} put back and "
                f"{progress.skipped} skipped; ask again (replays are deduplicated), with a "
                "longer timeout or a narrower window"
            )
            return _error(command, CrmCommandErrorCode.DEADLINE_EXCEEDED, message)
        except Exception:
            await self._audit(command, "failed", progress)
            raise  # the responder answers `internal`
        await self._audit(command, "ok", progress)
        return CommandAcceptedReply(
            tenant_id=command.tenant_id,
            command=command.command,
            requeued=progress.requeued,
            skipped=progress.skipped,
        )

    async def _run(self, command: RepairCommand, progress: Progress) -> None:
        if isinstance(command, ResyncChatCommand):
            await self._put_back(self._resync(command, progress), progress)
        elif isinstance(command, ReplayDeadLettersCommand):
            await self._put_back(self._letters(command, progress), progress)
        else:
            await self._put_back(self._backfill(command), progress)

    async def _resync(
        self, command: ResyncChatCommand, progress: Progress
    ) -> AsyncGenerator[Replay, None]:
        """The record at `source`; when it is not there (any more) and the chat's end is
        known, or without a source, the first delivery of the chat around its end."""
        topics = self.topics
        if command.source is not None:
            if command.source.topic != topics.conversations:
                raise Refused(f"source must be a record of {topics.conversations}", ("source",))
            record = await self.reader.read_at(command.source)
            replay = None if record is None else self._chat(record, command)
            if replay is not None:
                yield replay
                return
            if record is not None or command.ended_at is None:
                progress.skipped += 1  # another chat's record, or nothing to look by
                return
        assert command.ended_at is not None  # the command's own check
        since = command.ended_at - repairs.RESYNC_BEFORE
        until = command.ended_at + repairs.RESYNC_AFTER
        async with contextlib.aclosing(self.reader.scan(topics.conversations, since, until)) as it:
            async for record in it:
                replay = self._chat(record, command)
                if replay is not None and not repairs.is_replay(record):
                    yield replay
                    return
        log.info("resync found no record of the chat", chat_id=command.chat_id)

    def _chat(self, record: InRecord, command: ResyncChatCommand) -> Replay | None:
        found = repairs.conversation_in(record, command.tenant_id)
        if found is None or found.chat_id != command.chat_id:
            return None
        return repairs.replay_record(record, found, self.topics, command.requested_by)

    async def _letters(
        self, command: ReplayDeadLettersCommand, progress: Progress
    ) -> AsyncGenerator[Replay, None]:
        dlqs = (self.topics.crm_dlq, self.topics.chat_dlq)
        for position in command.letters:
            record = await self.reader.read_at(position) if position.topic in dlqs else None
            replay = None
            if record is not None:
                replay = repairs.replay_letter(
                    record, self.topics, command.tenant_id, command.requested_by
                )
            if replay is None:
                progress.skipped += 1
            else:
                yield replay

    async def _backfill(self, command: BackfillCommand) -> AsyncGenerator[Replay, None]:
        # The scan streams: only a poll's records and one chunk are held at a time.
        topic = self.topics.conversations
        async with contextlib.aclosing(self.reader.scan(topic, command.start)) as records:
            async for record in records:
                if repairs.is_replay(record):
                    continue
                conversation = repairs.conversation_in(record, command.tenant_id)
                if conversation is None:
                    continue
                if repairs.ended_in(conversation, command.start, command.end):
                    yield repairs.replay_record(
                        record, conversation, self.topics, command.requested_by
                    )

    async def _put_back(self, replays: AsyncGenerator[Replay, None], progress: Progress) -> None:
        """Produce the replays in chunks, counting each chunk once Kafka has it."""
        chunk: list[OutRecord] = []
        async with contextlib.aclosing(replays):
            async for replay in replays:
                chunk.append(OutRecord(replay.topic, replay.key, replay.value, replay.headers))
                if len(chunk) >= self.chunk:
                    await self.publisher.publish_many(chunk)
                    progress.requeued += len(chunk)
                    chunk = []
        await self.publisher.publish_many(chunk)
        progress.requeued += len(chunk)

    async def _audit(self, command: RepairCommand, outcome: Outcome, progress: Progress) -> None:
        event = repair_event(command, outcome, progress.requeued, progress.skipped)
        record = OutRecord(
            self.topics.audit,
            tenant_key(command.tenant_id),
            event.model_dump_json().encode(),
            JSON_HEADERS,
        )
        try:
            await self.publisher.publish_many([record])
        except Exception as exc:  # noqa: BLE001 - the repair happened; its reply must go
            log.error("audit event not written", action=event.action, error=repr(exc))


def _error(
    command: RepairCommand,
    code: CrmCommandErrorCode,
    message: str,
    fields: tuple[str, ...] | None = None,
) -> CrmCommandErrorReply:
    return CrmCommandErrorReply(
        tenant_id=command.tenant_id, code=code, message=message, fields=fields
    )
