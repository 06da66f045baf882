"""One tenant's batch of chats, written to Salesforce in rounds of one or two calls each.

A round reads (one Composite call: persons by email, activities by chat id, Users by
agent email; and the org's describe when it has none or an old one) and writes (one
Composite call: new persons, updates, activities, files).
The read is left out when nothing is left to ask: visitors known from earlier rounds
(`domain.visitors`), chats Salesforce itself refuses twice (`plan.needs_lookup`), owners
cached.
What a round leaves undone (lock contention, a duplicate to link, a field to cut) is
planned again from fresh reads after a backoff, so nothing is created twice. What cannot
be done now is parked; what can never be done is given up.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from chat_contracts.settings import TenantSettings
from chat_contracts.sync import RetryReason, SyncError
from chat_runtime import tracing
from chat_runtime.logging import get_logger
from crm_sync.adapters.ports import (
    CallRejected,
    Clock,
    FileFetcher,
    SalesforcePort,
    SalesforceUnavailable,
    TenantUnavailable,
)
from crm_sync.domain import owner
from crm_sync.domain.apply import add_files, apply_results
from crm_sync.domain.outcome import Parking, TenantOutcome, park_leftovers
from crm_sync.domain.plan import ACTIVITIES, USERS, RoundPlan, plan_round, read_queries
from crm_sync.domain.retry import RetryPolicy, budget_wait
from crm_sync.domain.salesforce import InQuery, Reads
from crm_sync.domain.schema import ObjectSchema, OrgSchema
from crm_sync.domain.tenant_state import TenantCaches
from crm_sync.domain.visitor import identity
from crm_sync.domain.visitors import Identity, KnownVisitor, add_known, stale
from crm_sync.domain.work import ChatWork, PendingFile, TenantContext, collapse, follow

OBJECTS = {
    "sales": ("Lead", "Contact", "Task", "ContentVersion"),
    "support": ("Contact", "Case", "ContentVersion", "Account"),
}

log = get_logger(__name__)
PROVISIONAL = OrgSchema()
"""What a round plans its read on before the org was ever described (`SyncEngine._read`)."""
UNANSWERED_ROUNDS = 2
"""Rounds in a row Salesforce does not answer (5xx, timeouts) before the org counts as down
and the tenant is held."""


@dataclass(frozen=True, slots=True)
class EngineOptions:
    """How hard the engine tries (from the settings)."""

    chat_id_field: str = "Chat_Id__c"
    legacy_chat_keys: bool = True
    max_rounds: int = 5
    max_file_bytes: int = 20 * 1024 * 1024
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    max_attachments: int = 10
    """Attachments fetched per chat; a chat's others are skipped (logged)."""
    fetch_bytes_per_round: int = 64 * 1024 * 1024
    """Attachment bytes fetched into memory per round; beyond it, skipped (logged)."""
    fetch_concurrency: int = 4


class SyncEngine:
    """Writes tenants' batches through a `SalesforcePort`."""

    def __init__(
        self,
        port: SalesforcePort,
        caches: TenantCaches,
        clock: Clock,
        options: EngineOptions,
        *,
        fetcher: FileFetcher | None = None,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.port, self.caches, self.clock, self.options = port, caches, clock, options
        self.fetcher, self.jitter = fetcher, jitter
        self._warming: dict[tuple[str, str], asyncio.Task[None]] = {}

    async def run(
        self, tenant_id: str, settings: TenantSettings, works: Sequence[ChatWork]
    ) -> TenantOutcome:
        """Write the chats; every one ends done or in `outcome.parked`. A chat that comes
        twice in the batch is written once; its repeat ends as the original does."""
        originals, repeats = collapse(list(works))
        outcome = await self._run(tenant_id, settings, originals)
        parked = {id(p.work): p for p in outcome.parked}
        for repeat, original in repeats:
            follow(repeat, original)
            if (parking := parked.get(id(original))) is not None:
                outcome.parked.append(
                    Parking(repeat, parking.reason, parking.error, parking.delay_s)
                )
        outcome.works = works
        return outcome

    async def _run(
        self, tenant_id: str, settings: TenantSettings, works: Sequence[ChatWork]
    ) -> TenantOutcome:
        outcome = TenantOutcome(works)
        if (held := self._held(tenant_id, settings)) is not None:
            reason, message, delay = held
            outcome.parked = [
                Parking(w, reason, SyncError(code=reason.value, message=message), delay)
                for w in works
            ]
            return outcome
        try:
            await self._rounds(tenant_id, settings, works, outcome)
        except TenantUnavailable as exc:
            delay = self.options.retry.park_delay(exc.reason, 1, self.jitter)
            self._hold(tenant_id, exc.reason, exc.message, delay)
            error = SyncError(code=exc.reason.value, message=exc.message)
            outcome.parked = [Parking(w, exc.reason, error, delay) for w in works if not w.done]
            return outcome
        finally:
            self._note_budget(tenant_id, settings)
        park_leftovers(outcome)
        if outcome.down and outcome.parked:
            # Its org is down: the tenant's next chats are parked without a call until the
            # hold ends, then a batch tries again (and holds it longer if still down).
            reason = RetryReason.SALESFORCE_UNAVAILABLE
            delay = self.options.retry.park_delay(reason, 1, self.jitter)
            message = outcome.last_error.message if outcome.last_error else "Salesforce is down"
            self._hold(tenant_id, reason, message, delay)
        return outcome

    def _hold(self, tenant_id: str, reason: RetryReason, message: str, delay: float) -> None:
        """Park the tenant: its chats wait `delay` without a call (said once per hold, as
        every chat of a busy tenant waits on it)."""
        log.warning(
            "tenant held",
            tenant_id=tenant_id,
            reason=reason.value,
            delay_s=round(delay, 1),
            message=message[:200],
        )
        self.caches.park(tenant_id, reason, message, delay)

    def _held(
        self, tenant_id: str, settings: TenantSettings
    ) -> tuple[RetryReason, str, float] | None:
        now = self.clock.monotonic()
        park = self.caches.parked(tenant_id)
        if park is not None:
            return park.reason, park.message, park.until - now
        usage = self.port.usage(tenant_id)
        wait = budget_wait(
            usage,
            settings.api_budget_share,
            self.caches.over_budget_at.get(tenant_id),
            now,
            self.options.retry.budget_backoff_s,
        )
        if wait > 0 and usage is not None:
            share = f"{usage.used}/{usage.limit} API calls used"
            return RetryReason.API_BUDGET, f"over the budget share ({share})", wait
        return None

    def _note_budget(self, tenant_id: str, settings: TenantSettings) -> None:
        usage = self.port.usage(tenant_id)
        if usage is not None and usage.share_used >= settings.api_budget_share:
            self.caches.over_budget_at[tenant_id] = self.clock.monotonic()
        else:
            self.caches.over_budget_at.pop(tenant_id, None)

    async def _rounds(
        self,
        tenant_id: str,
        settings: TenantSettings,
        works: Sequence[ChatWork],
        outcome: TenantOutcome,
    ) -> None:
        connection = await self.port.connection(tenant_id)
        unanswered = 0
        for round_no in range(1, self.options.max_rounds + 1):
            pending = [w for w in works if not w.done]
            if not pending:
                return
            if round_no > 1:
                await self.clock.sleep(self.options.retry.round_pause(round_no, self.jitter))
            try:
                schema, describe = self._cached_schema(tenant_id, settings)
                ctx = TenantContext(
                    settings,
                    schema if schema is not None else PROVISIONAL,
                    connection.user_id,
                    {},
                    self.options.chat_id_field,
                    self.options.legacy_chat_keys,
                    duplicate_rules_fire=bool(self.caches.duplicate_rules.get(tenant_id)),
                )
                await self._round(tenant_id, pending, ctx, outcome, describe=describe)
                unanswered = 0
            except SalesforceUnavailable as exc:
                outcome.last_error = SyncError(
                    code="salesforce_unavailable", message=str(exc)[:500]
                )
                unanswered += 1
                if unanswered >= UNANSWERED_ROUNDS:
                    outcome.down = True
                    return
            except CallRejected as exc:  # describe is stale, or a mapped field went away
                self.caches.schemas.drop((tenant_id, settings.mode))
                outcome.last_error = SyncError(
                    code="salesforce_rejected",
                    message=exc.message,
                    salesforce_error_code=exc.code,
                    fields=exc.fields,
                )

    def warm(self, tenant_id: str, settings: TenantSettings) -> None:
        """Start fetching the tenant's token while its lane waits for more chats, so a
        tenant's first batch after a while (its describe absent or old) takes no longer
        than any other. (Its org's
        describe rides on the batch's read instead: no call of its own.) Failures are left
        for the batch to meet."""
        if (tenant_id, settings.mode) in self._warming or self.caches.parked(tenant_id):
            return
        schema, describe = self._cached_schema(tenant_id, settings)
        if schema is not None and not describe:  # met lately: its token is held too
            return

        async def fetch() -> None:
            try:
                # Its own trace: it serves the tenant's next batch, not one chat of it.
                with tracing.span("prefetch tenant", attributes={"chat.tenant_id": tenant_id}):
                    await self.port.connection(tenant_id)
            except Exception:  # the batch meets it again and says why
                log.debug("warming a tenant failed", tenant_id=tenant_id, exc_info=True)
            finally:
                self._warming.pop((tenant_id, settings.mode), None)

        self._warming[(tenant_id, settings.mode)] = asyncio.create_task(fetch())

    def _cached_schema(
        self, tenant_id: str, settings: TenantSettings
    ) -> tuple[OrgSchema | None, bool]:
        """The org's describe as last fetched (None: never, or dropped), and whether it is
        to be fetched again (past `describe_ttl_s`): the round's read does it, the round
        planning on the describe it has meanwhile (`_round`)."""
        cached = self.caches.schemas.peek((tenant_id, settings.mode))
        if cached is None:
            return None, True
        schema, fresh = cached
        return schema, not fresh

    async def _describe(
        self, tenant_id: str, settings: TenantSettings, outcome: TenantOutcome
    ) -> OrgSchema:
        """Describe the org in a call of its own (a round with nothing to read)."""
        objects, stats = await self.port.describe(tenant_id, OBJECTS[settings.mode])
        outcome.count(stats)
        return self._keep_schema(tenant_id, settings, objects)

    def _keep_schema(
        self, tenant_id: str, settings: TenantSettings, objects: Mapping[str, ObjectSchema]
    ) -> OrgSchema:
        schema = OrgSchema({k.lower(): v for k, v in objects.items()})
        self.caches.schemas.put((tenant_id, settings.mode), schema)
        return schema

    async def _read(
        self,
        tenant_id: str,
        pending: list[ChatWork],
        ctx: TenantContext,
        outcome: TenantOutcome,
        describe: bool,
    ) -> tuple[TenantContext, Reads, dict[Identity, KnownVisitor], Sequence[str]]:
        """The round's read: the visitors not known, the chats to look up, the owners not
        cached. With `describe`, the org is described in the same call; a round that had
        no describe yet (`PROVISIONAL`) then reads again what the describe calls for and
        the first read lacked (rare: fields mapped onto persons, Person Accounts), and
        plans on the new describe; one that had an old describe plans on it (its reads
        were asked by it) and leaves the new one to the next round. Returns the context
        to plan with, the reads, the visitors known and the agent emails asked."""
        settings, first = ctx.settings, ctx.schema is PROVISIONAL
        if first:
            # Before the describe, only what every org has: not the fields mapped onto
            # persons, nor the chats to look up (whether, and by which field, is the
            # describe's to say).
            probe = replace(ctx, settings=settings.model_copy(update={"field_mapping": ()}))
            known, asked, queries = self._queries(tenant_id, pending, probe)
            queries.pop(ACTIVITIES, None)
        else:
            known, asked, queries = self._queries(tenant_id, pending, ctx)
        if describe and not queries:
            if first:
                return await self._apart(tenant_id, pending, ctx, outcome)
            await self._describe(tenant_id, settings, outcome)
            return ctx, Reads(), known, asked
        if not describe:
            return ctx, await self._plain_read(tenant_id, queries, outcome), known, asked
        objects = OBJECTS[settings.mode]
        try:
            reads, stats = await self.port.read(tenant_id, queries, describe=objects)
        except CallRejected:
            if not first:
                raise
            # Something every org has is missing here (a field hidden from the connected
            # user): describe apart, and read what this org has.
            return await self._apart(tenant_id, pending, ctx, outcome)
        outcome.count(stats)
        schema = self._keep_schema(tenant_id, settings, reads.schemas or {})
        if not first:
            return ctx, reads, known, asked
        ctx = replace(ctx, schema=schema)
        sent = queries
        known, asked, queries = self._queries(tenant_id, pending, ctx)
        missing = {
            name: q
            for name, q in queries.items()
            if (was := sent.get(name)) is None or not was.covers(q)
        }
        more = await self._plain_read(tenant_id, missing, outcome)
        reads.rows.update(more.rows)
        return ctx, reads, known, asked

    async def _apart(
        self, tenant_id: str, pending: list[ChatWork], ctx: TenantContext, outcome: TenantOutcome
    ) -> tuple[TenantContext, Reads, dict[Identity, KnownVisitor], Sequence[str]]:
        """A round before any describe that cannot read with it: describe in a call of its
        own, then read what the describe calls for."""
        ctx = replace(ctx, schema=await self._describe(tenant_id, ctx.settings, outcome))
        known, asked, queries = self._queries(tenant_id, pending, ctx)
        return ctx, await self._plain_read(tenant_id, queries, outcome), known, asked

    def _queries(
        self, tenant_id: str, pending: list[ChatWork], ctx: TenantContext
    ) -> tuple[dict[Identity, KnownVisitor], Sequence[str], dict[str, InQuery]]:
        conversations = [w.conversation for w in pending]
        asked = owner.emails_to_look_up(conversations, ctx.settings, ctx.users)
        known = self.caches.visitors.known(tenant_id, pending, ctx)
        return known, asked, read_queries(pending, ctx, asked, known.keys())

    async def _plain_read(
        self, tenant_id: str, queries: Mapping[str, InQuery], outcome: TenantOutcome
    ) -> Reads:
        if not queries:  # none: the round is one call
            return Reads()
        reads, stats = await self.port.read(tenant_id, queries)
        outcome.count(stats)
        return reads

    async def _round(
        self,
        tenant_id: str,
        pending: list[ChatWork],
        ctx: TenantContext,
        outcome: TenantOutcome,
        *,
        describe: bool,
    ) -> None:
        conversations = [w.conversation for w in pending]
        agents = sorted({e for c in conversations if (e := owner.agent_email(c))})
        ctx.users.update(self.caches.users_of(tenant_id, agents))
        ctx, reads, known, asked = await self._read(tenant_id, pending, ctx, outcome, describe)
        visitors, match_by_phone = self.caches.visitors, ctx.settings.match_by_phone
        if reads.rows:
            identities = {identity(w.conversation, match_by_phone) for w in pending}
            looked_up = {i for i in identities if i is not None and i not in known}
            visitors.learn(tenant_id, reads, looked_up, ctx)
        add_known(reads, known)
        from_cache = [
            w
            for w in pending
            if w.person_id is None and identity(w.conversation, match_by_phone) in known
        ]
        for email, user_id in owner.users_by_email(reads.get(USERS), asked).items():
            self.caches.users.put((tenant_id, email), user_id or "")
            ctx.users[email] = user_id or ""
        plan = plan_round(pending, reads, ctx)
        await self._load_files(plan)
        add_files(plan, pending, ctx, self.options.max_file_bytes)
        if plan.steps:
            results_by_step, stats = await self.port.write(
                tenant_id, plan.steps, assignment_rules=ctx.settings.use_assignment_rules
            )
            outcome.count(stats)
            if apply_results(plan, results_by_step, ctx):  # a duplicate rule refused someone
                self.caches.duplicate_rules.put(tenant_id, True)
        visitors.created(tenant_id, pending, ctx)
        stale(from_cache)  # matched from memory and refused: read again next round
        for work in pending:  # whatever went wrong, the next round reads the visitor
            refused = work.failure is not None or work.transient is not None
            if refused and (found := identity(work.conversation, match_by_phone)) is not None:
                visitors.forget(tenant_id, found, ctx)

    async def _load_files(self, plan: RoundPlan) -> None:
        # Bounded: at most `max_attachments` a chat, `fetch_concurrency` at once, and
        # `fetch_bytes_per_round` held, so that no chat (nor a round of 200) fills memory.
        loading = [w for chats in plan.activities.values() for w in chats if not w.files_loaded]
        fetcher, options = self.fetcher, self.options
        if fetcher is not None:
            wanted = []
            for work in loading:
                attachments = work.conversation.attachments
                if len(attachments) > options.max_attachments:
                    log.warning(
                        "attachments over the per-chat limit skipped",
                        chat_id=work.conversation.chat_id,
                        skipped=len(attachments) - options.max_attachments,
                    )
                wanted += [(work, a) for a in attachments[: options.max_attachments]]
            gate = asyncio.Semaphore(options.fetch_concurrency)
            held = [0]
            skipped: list[str] = []

            async def one(work: ChatWork, name: str, url: str) -> None:
                async with gate:
                    if held[0] >= options.fetch_bytes_per_round:
                        skipped.append(work.conversation.chat_id)
                        return
                    data = await fetcher.fetch(url)
                if data is not None:
                    held[0] += len(data)
                    work.files.append(PendingFile(name.rsplit(".", 1)[0] or name, name, data))

            await asyncio.gather(*(one(w, a.name, a.url) for w, a in wanted))
            if skipped:
                log.warning(
                    "attachments over the round's byte budget skipped",
                    skipped=len(skipped),
                    chat_ids=sorted(set(skipped))[:20],
                )
        for work in loading:
            work.files_loaded = True
