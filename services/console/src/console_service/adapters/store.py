"""The history database: SQLAlchemy Core over SQLite (default) or PostgreSQL.

Every method is synchronous and runs on a worker thread (`asyncio.to_thread` at the call
site): the database's drivers block, the event loop must not. Writes are idempotent: each
record's rows are keyed by its position (or message id), a chat's outcome moves only
forward (to a newer result of the same chat, which shares its partition), and the
consumer's offsets are stored in the same transaction as the rows they cover, so a crash
between the two cannot happen and an empty database rebuilds from the topics.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from console_service.adapters import schema as t
from console_service.domain.history import STATUSES, Row, as_utc


def make_engine(url: str) -> Engine:
    """An engine for the URL: SQLite in WAL mode (readers beside the one writer), or
    PostgreSQL through psycopg 3 (`postgresql://` is taken to mean it)."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    if url.startswith("sqlite"):
        path = sa.engine.make_url(url).database
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, pool_size=8
        )

        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    return sa.create_engine(url, pool_size=8, max_overflow=8, pool_pre_ping=True)


@dataclass
class Batch:
    """The rows of one poll's records, stored in one transaction with the offsets."""

    tenants: dict[str, datetime] = field(default_factory=dict)
    chats: dict[tuple[str, str, str], Row] = field(default_factory=dict)
    attempts: list[Row] = field(default_factory=list)
    letters: list[Row] = field(default_factory=list)
    connections: dict[str, Row] = field(default_factory=dict)
    audit: list[Row] = field(default_factory=list)
    offsets: dict[tuple[str, int], int] = field(default_factory=dict)

    def seen(self, tenant_id: str, at: datetime) -> None:
        self.tenants.setdefault(tenant_id, at)

    def chat(self, row: Row) -> None:
        key = (row["tenant_id"], row["kind"], row["chat_id"])
        held = self.chats.get(key)
        if held is None or (row["result_partition"], row["result_offset"]) > (
            held["result_partition"],
            held["result_offset"],
        ):
            self.chats[key] = row

    def connection(self, row: Row) -> None:
        held = self.connections.get(row["tenant_id"])
        if held is None or row["at"] >= held["at"]:
            self.connections[row["tenant_id"]] = row

    def __len__(self) -> int:
        return len(self.attempts) + len(self.letters) + len(self.connections) + len(self.audit)


@dataclass(frozen=True, slots=True)
class ChatQuery:
    tenant_id: str
    status: str | None = None
    email: str | None = None
    chat_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    before: tuple[datetime, str] | None = None
    limit: int = 50


class Store:
    """The console's database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._dialect = engine.dialect.name

    # -- writes ---------------------------------------------------------------------------

    def _insert(self, table: sa.Table) -> Any:
        return (postgresql.insert if self._dialect == "postgresql" else sqlite.insert)(table)

    def save(self, batch: Batch) -> None:
        """Store one batch and the offsets after it, all or nothing."""
        with self.engine.begin() as conn:
            if batch.tenants:
                rows = [{"tenant_id": k, "first_seen": v} for k, v in batch.tenants.items()]
                conn.execute(self._insert(t.tenants).on_conflict_do_nothing(), rows)
            if batch.attempts:
                conn.execute(self._insert(t.attempts).on_conflict_do_nothing(), batch.attempts)
            if batch.chats:
                self._save_chats(conn, list(batch.chats.values()))
            if batch.letters:
                conn.execute(self._insert(t.dead_letters).on_conflict_do_nothing(), batch.letters)
            if batch.connections:
                stmt = self._insert(t.connections)
                stmt = stmt.on_conflict_do_update(
                    index_elements=[t.connections.c.tenant_id],
                    set_={c: stmt.excluded[c] for c in ("state", "detail", "at", "offset")}
                    | {
                        "instance_url": sa.func.coalesce(
                            stmt.excluded.instance_url, t.connections.c.instance_url
                        )
                    },
                    where=stmt.excluded.at >= t.connections.c.at,
                )
                conn.execute(stmt, list(batch.connections.values()))
            if batch.audit:
                conn.execute(self._insert(t.audit).on_conflict_do_nothing(), batch.audit)
            if batch.offsets:
                stmt = self._insert(t.consumer_offsets)
                stmt = stmt.on_conflict_do_update(
                    index_elements=[t.consumer_offsets.c.topic, t.consumer_offsets.c.partition],
                    set_={"next_offset": stmt.excluded.next_offset},
                    where=stmt.excluded.next_offset > t.consumer_offsets.c.next_offset,
                )
                conn.execute(
                    stmt,
                    [
                        {"topic": topic, "partition": p, "next_offset": n}
                        for (topic, p), n in batch.offsets.items()
                    ],
                )

    def _save_chats(self, conn: Connection, rows: list[Row]) -> None:
        stmt = self._insert(t.chats)
        keys = ("tenant_id", "kind", "chat_id")
        stmt = stmt.on_conflict_do_update(
            index_elements=[t.chats.c[k] for k in keys],
            set_={c.name: stmt.excluded[c.name] for c in t.chats.c if c.name not in keys},
            # A newer result of the chat (same key, so same partition) replaces the older;
            # a replayed or older one changes nothing.
            where=sa.or_(
                stmt.excluded.result_partition != t.chats.c.result_partition,
                stmt.excluded.result_offset > t.chats.c.result_offset,
            ),
        )
        conn.execute(stmt, rows)

    def bulk_chats(self, rows: Sequence[Row]) -> None:
        """Benches: store chats straight (no attempts, no offsets)."""
        with self.engine.begin() as conn:
            conn.execute(self._insert(t.chats).on_conflict_do_nothing(), list(rows))
            tenants = {r["tenant_id"]: r["updated_at"] for r in rows}
            conn.execute(
                self._insert(t.tenants).on_conflict_do_nothing(),
                [{"tenant_id": k, "first_seen": v} for k, v in tenants.items()],
            )

    def offsets(self, topics: Iterable[str]) -> dict[tuple[str, int], int]:
        """The next offset to read of every partition of these topics the database has."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(t.consumer_offsets).where(t.consumer_offsets.c.topic.in_(list(topics)))
            )
            return {(r.topic, r.partition): int(r.next_offset) for r in rows}

    def mark_replay(self, tenant_id: str, ids: Sequence[str], at: datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                t.dead_letters.update()
                .where(t.dead_letters.c.tenant_id == tenant_id, t.dead_letters.c.id.in_(ids))
                .values(replay_requested_at=at)
            )

    def add_command(self, row: Row) -> None:
        with self.engine.begin() as conn:
            conn.execute(t.commands.insert().values(**row))

    def finish_command(self, command_id: str, values: Mapping[str, Any]) -> None:
        with self.engine.begin() as conn:
            conn.execute(t.commands.update().where(t.commands.c.id == command_id).values(**values))

    def abandon_sent(self, at: datetime) -> int:
        """Commands still waiting for crm-sync's answer when the console last stopped: the
        answer went to a reply topic that is gone. They are marked `unknown` (crm-sync may
        well have carried them out: the chats' outcomes say)."""
        with self.engine.begin() as conn:
            return int(
                conn.execute(
                    t.commands.update()
                    .where(t.commands.c.status == "sent")
                    .values(
                        status="unknown",
                        error="the console restarted before the answer",
                        replied_at=at,
                    )
                ).rowcount
            )

    def purge(self, before: datetime) -> dict[str, int]:
        """Delete history older than `before`; rows deleted per table."""
        deleted: dict[str, int] = {}
        with self.engine.begin() as conn:
            for table, column in (
                (t.attempts, t.attempts.c.at),
                (t.chats, t.chats.c.updated_at),
                (t.dead_letters, t.dead_letters.c.failed_at),
                (t.audit, t.audit.c.at),
                (t.commands, t.commands.c.sent_at),
            ):
                deleted[table.name] = conn.execute(table.delete().where(column < before)).rowcount
        return deleted

    # -- reads ----------------------------------------------------------------------------

    def tenant_exists(self, tenant_id: str) -> bool:
        with self.engine.connect() as conn:
            found = conn.execute(
                sa.select(t.tenants.c.tenant_id).where(t.tenants.c.tenant_id == tenant_id)
            ).first()
            return found is not None

    def chats(self, query: ChatQuery) -> list[Row]:
        c = t.chats.c
        where = [c.tenant_id == query.tenant_id]
        if query.status:
            where.append(c.status == query.status)
        if query.email:
            where.append(c.visitor_email == query.email.strip().lower())
        if query.chat_id:
            where.append(c.chat_id == query.chat_id)
        if query.since:
            where.append(c.updated_at >= query.since)
        if query.until:
            where.append(c.updated_at < query.until)
        if query.before:
            at, chat_id = query.before
            where.append(
                sa.or_(c.updated_at < at, sa.and_(c.updated_at == at, c.chat_id < chat_id))
            )
        stmt = (
            sa.select(t.chats)
            .where(*where)
            .order_by(c.updated_at.desc(), c.chat_id.desc())
            .limit(query.limit)
        )
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(stmt)]

    def chat(self, tenant_id: str, chat_id: str) -> list[Row]:
        """The chat's outcome per kind (a chat and an offline message may share an id)."""
        return self.chats(ChatQuery(tenant_id, chat_id=chat_id, limit=10))

    def attempts(self, tenant_id: str, chat_id: str, limit: int = 200) -> list[Row]:
        a = t.attempts.c
        stmt = (
            sa.select(t.attempts)
            .where(a.tenant_id == tenant_id, a.chat_id == chat_id)
            .order_by(a.at.desc(), a.offset.desc())
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(stmt)]

    def dead_letters(
        self,
        tenant_id: str,
        *,
        reason: str | None = None,
        ids: Sequence[str] | None = None,
        limit: int | None = 100,
    ) -> list[Row]:
        d = t.dead_letters.c
        where = [d.tenant_id == tenant_id]
        if reason:
            where.append(d.reason == reason)
        if ids is not None:
            where.append(d.id.in_(list(ids)))
        stmt = sa.select(t.dead_letters).where(*where).order_by(d.failed_at.desc(), d.id)
        if limit is not None:
            stmt = stmt.limit(limit)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(stmt)]

    def letter_reasons(self, tenant_id: str) -> dict[str, int]:
        d = t.dead_letters.c
        stmt = (
            sa.select(d.reason, sa.func.count())
            .where(d.tenant_id == tenant_id)
            .group_by(d.reason)
            .order_by(d.reason)
        )
        with self.engine.connect() as conn:
            return {str(r[0]): int(r[1]) for r in conn.execute(stmt)}

    def connection(self, tenant_id: str) -> Row | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(t.connections).where(t.connections.c.tenant_id == tenant_id)
            ).first()
            return dict(row._mapping) if row is not None else None

    def counts(self, tenant_id: str, since: datetime) -> dict[str, int]:
        """Chats per latest status, of those whose outcome changed since `since`."""
        c = t.chats.c
        stmt = (
            sa.select(c.status, sa.func.count())
            .where(c.tenant_id == tenant_id, c.updated_at >= since)
            .group_by(c.status)
        )
        with self.engine.connect() as conn:
            found = {str(r[0]): int(r[1]) for r in conn.execute(stmt)}
        return {s: found.get(s, 0) for s in STATUSES}

    def _bucket(self, column: Any, unit: str) -> Any:
        if self._dialect == "postgresql":
            return sa.func.to_char(column, "YYYY-MM-DD HH24" if unit == "hour" else "YYYY-MM-DD")
        return sa.func.substr(column, 1, 13 if unit == "hour" else 10)

    def series(self, tenant_id: str, since: datetime, unit: str) -> dict[str, dict[str, float]]:
        """Per hour or day since `since`: attempts per status, and API calls spent."""
        a = t.attempts.c
        bucket = self._bucket(a.at, unit).label("bucket")
        stmt = (
            sa.select(bucket, a.status, sa.func.count(), sa.func.sum(a.api_calls))
            .where(a.tenant_id == tenant_id, a.at >= since)
            .group_by(bucket, a.status)
        )
        out: dict[str, dict[str, float]] = {}
        with self.engine.connect() as conn:
            for key, status, count, calls in conn.execute(stmt):
                slot = out.setdefault(str(key), {s: 0.0 for s in (*STATUSES, "api_calls")})
                slot[str(status)] = float(count)
                slot["api_calls"] += float(calls or 0)
        return out

    def api_calls(self, tenant_id: str, since: datetime) -> float:
        a = t.attempts.c
        stmt = sa.select(sa.func.sum(a.api_calls)).where(a.tenant_id == tenant_id, a.at >= since)
        with self.engine.connect() as conn:
            return float(conn.execute(stmt).scalar() or 0.0)

    def letter_count(self, tenant_id: str) -> int:
        d = t.dead_letters.c
        stmt = sa.select(sa.func.count()).where(d.tenant_id == tenant_id)
        with self.engine.connect() as conn:
            return int(conn.execute(stmt).scalar() or 0)

    def audit(self, tenant_id: str, limit: int = 100) -> list[Row]:
        rows = self._newest(t.audit, t.audit.c.at, tenant_id, limit)
        for row in rows:
            row["changes"] = json.loads(row["changes"])
        return rows

    def commands(self, tenant_id: str, limit: int = 50) -> list[Row]:
        return self._newest(t.commands, t.commands.c.sent_at, tenant_id, limit)

    def _newest(
        self, table: sa.Table, when: sa.Column[Any], tenant_id: str, limit: int
    ) -> list[Row]:
        """A tenant's `limit` newest rows of `table` by `when`."""
        stmt = sa.select(table).where(table.c.tenant_id == tenant_id)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(stmt.order_by(when.desc()).limit(limit))]


def window_start(now: datetime, days: float) -> datetime:
    """`days` before `now`, as stored (naive UTC)."""
    start = now - timedelta(days=days)
    return start.replace(tzinfo=None) if start.tzinfo else start


def utc(row: Row, *names: str) -> Row:
    """The row with these columns read back as aware UTC datetimes."""
    for name in names:
        row[name] = as_utc(row.get(name))
    return row
