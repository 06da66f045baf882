"""The history database's tables and its versioned migrations (SQLite and PostgreSQL).

`MIGRATIONS` is an append-only list: each step has a version, says what it does, and runs
inside one transaction with the `schema_version` row that records it. `migrate()` applies
the steps a database lacks, in order, at start; two replicas starting together serialise
on the version row's primary key (the loser's transaction fails and it retries, finding
the step done). A step, once released, is never edited: a change is a new step.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError, OperationalError

metadata = sa.MetaData()

schema_version = sa.Table(
    "schema_version",
    metadata,
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("applied_at", sa.DateTime, nullable=False),
)

tenants = sa.Table(
    "tenants",
    metadata,
    sa.Column("tenant_id", sa.String(64), primary_key=True),
    sa.Column("first_seen", sa.DateTime, nullable=False),
)

chats = sa.Table(
    "chats",
    metadata,
    sa.Column("tenant_id", sa.String(64), primary_key=True),
    sa.Column("kind", sa.String(16), primary_key=True),
    sa.Column("chat_id", sa.String(200), primary_key=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("mode", sa.String(16), nullable=False),
    sa.Column("visitor_email", sa.String(320)),
    sa.Column("person_object", sa.String(16)),
    sa.Column("person_id", sa.String(18)),
    sa.Column("person_outcome", sa.String(16)),
    sa.Column("activity_object", sa.String(16)),
    sa.Column("activity_id", sa.String(18)),
    sa.Column("activity_outcome", sa.String(16)),
    sa.Column("owner_id", sa.String(18)),
    sa.Column("error_code", sa.String(100)),
    sa.Column("error_message", sa.Text),
    sa.Column("salesforce_error_code", sa.String(100)),
    sa.Column("error_fields", sa.Text),
    sa.Column("retry_at", sa.DateTime),
    sa.Column("ended_at", sa.DateTime),
    sa.Column("api_calls", sa.Float, nullable=False),
    sa.Column("source_topic", sa.String(249)),
    sa.Column("source_partition", sa.Integer),
    sa.Column("source_offset", sa.BigInteger),
    sa.Column("result_partition", sa.Integer, nullable=False),
    sa.Column("result_offset", sa.BigInteger, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)

attempts = sa.Table(
    "attempts",
    metadata,
    sa.Column("topic", sa.String(249), primary_key=True),
    sa.Column("partition", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("offset", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("tenant_id", sa.String(64), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("chat_id", sa.String(200), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("error_code", sa.String(100)),
    sa.Column("error_message", sa.Text),
    sa.Column("salesforce_error_code", sa.String(100)),
    sa.Column("api_calls", sa.Float, nullable=False),
    sa.Column("batch_size", sa.Integer, nullable=False),
    sa.Column("at", sa.DateTime, nullable=False),
)

dead_letters = sa.Table(
    "dead_letters",
    metadata,
    sa.Column("id", sa.String(300), primary_key=True),
    sa.Column("topic", sa.String(249), nullable=False),
    sa.Column("partition", sa.Integer, nullable=False),
    sa.Column("offset", sa.BigInteger, nullable=False),
    sa.Column("tenant_id", sa.String(64), nullable=False),
    sa.Column("reason", sa.String(64), nullable=False),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("error_code", sa.String(100)),
    sa.Column("error_fields", sa.Text),
    sa.Column("service", sa.String(64), nullable=False),
    sa.Column("chat_id", sa.String(200)),
    sa.Column("replayable", sa.Boolean, nullable=False),
    sa.Column("failed_at", sa.DateTime, nullable=False),
    sa.Column("replay_requested_at", sa.DateTime),
)

connections = sa.Table(
    "connections",
    metadata,
    sa.Column("tenant_id", sa.String(64), primary_key=True),
    sa.Column("state", sa.String(32), nullable=False),
    sa.Column("detail", sa.Text),
    sa.Column("instance_url", sa.String(300)),
    sa.Column("at", sa.DateTime, nullable=False),
    sa.Column("offset", sa.BigInteger, nullable=False),
)

audit = sa.Table(
    "audit",
    metadata,
    sa.Column("message_id", sa.String(64), primary_key=True),
    sa.Column("tenant_id", sa.String(64), nullable=False),
    sa.Column("at", sa.DateTime, nullable=False),
    sa.Column("service", sa.String(64), nullable=False),
    sa.Column("actor", sa.String(320), nullable=False),
    sa.Column("action", sa.String(100), nullable=False),
    sa.Column("target", sa.Text),
    sa.Column("outcome", sa.String(16), nullable=False),
    sa.Column("changes", sa.Text, nullable=False),
    sa.Column("source_ip", sa.String(64)),
)

commands = sa.Table(
    "commands",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("tenant_id", sa.String(64), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("requested_by", sa.String(320), nullable=False),
    sa.Column("summary", sa.Text, nullable=False),
    sa.Column("sent_at", sa.DateTime, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("requeued", sa.Integer),
    sa.Column("skipped", sa.Integer),
    sa.Column("error", sa.Text),
    sa.Column("replied_at", sa.DateTime),
)

consumer_offsets = sa.Table(
    "consumer_offsets",
    metadata,
    sa.Column("topic", sa.String(249), primary_key=True),
    sa.Column("partition", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("next_offset", sa.BigInteger, nullable=False),
)

INDEXES = (
    sa.Index("chats_by_time", chats.c.tenant_id, chats.c.updated_at.desc()),
    sa.Index("chats_by_status", chats.c.tenant_id, chats.c.status, chats.c.updated_at.desc()),
    # Equality filters carry the sort column too: the planner then takes them over
    # chats_by_time (which satisfies the ORDER BY ... LIMIT and would scan a big tenant).
    sa.Index("chats_by_email", chats.c.tenant_id, chats.c.visitor_email, chats.c.updated_at.desc()),
    sa.Index("chats_by_id", chats.c.tenant_id, chats.c.chat_id, chats.c.updated_at.desc()),
    sa.Index("attempts_by_chat", attempts.c.tenant_id, attempts.c.chat_id, attempts.c.at),
    sa.Index("attempts_by_time", attempts.c.tenant_id, attempts.c.at),
    sa.Index("letters_by_time", dead_letters.c.tenant_id, dead_letters.c.failed_at.desc()),
    sa.Index("letters_by_reason", dead_letters.c.tenant_id, dead_letters.c.reason),
    sa.Index("audit_by_time", audit.c.tenant_id, audit.c.at.desc()),
    sa.Index("commands_by_time", commands.c.tenant_id, commands.c.sent_at.desc()),
)


def _v1(conn: Connection) -> None:
    # The indexes above belong to their tables: create_all makes them with the tables.
    metadata.create_all(
        conn,
        tables=[
            tenants,
            chats,
            attempts,
            dead_letters,
            connections,
            audit,
            commands,
            consumer_offsets,
        ],
    )


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    description: str
    apply: Callable[[Connection], None]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "history: chats, attempts, dead letters, connections, audit, commands", _v1),
)
"""Every step, oldest first. Append only."""


def current_version(engine: Engine) -> int:
    """The newest step applied (0 for an empty database)."""
    with engine.connect() as conn:
        if not sa.inspect(conn).has_table(schema_version.name):
            return 0
        found = conn.execute(sa.select(sa.func.max(schema_version.c.version))).scalar()
        return int(found or 0)


def migrate(engine: Engine, *, attempts_left: int = 5) -> list[int]:
    """Apply the steps the database lacks; the versions applied now."""
    applied: list[int] = []
    schema_version.create(engine, checkfirst=True)
    for step in MIGRATIONS:
        if step.version <= current_version(engine):
            continue
        try:
            with engine.begin() as conn:
                conn.execute(
                    schema_version.insert().values(
                        version=step.version,
                        description=step.description,
                        applied_at=datetime.now(UTC).replace(tzinfo=None),
                    )
                )
                step.apply(conn)
        except (IntegrityError, OperationalError):
            # Another replica is applying (or applied) this step: look again.
            if attempts_left <= 1:
                raise
            time.sleep(0.5)
            return applied + migrate(engine, attempts_left=attempts_left - 1)
        applied.append(step.version)
    return applied
