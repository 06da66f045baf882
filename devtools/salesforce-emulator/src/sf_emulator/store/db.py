"""The SQLite connection, its schema, and nestable transactions (savepoints)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

SCHEMA = """
CREATE TABLE IF NOT EXISTS apps (
    client_id TEXT PRIMARY KEY, client_secret TEXT NOT NULL, redirect_uris TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS orgs (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, is_sandbox INTEGER NOT NULL,
    client_id TEXT NOT NULL, settings TEXT NOT NULL, created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS credentials (
    user_id TEXT PRIMARY KEY, org_id TEXT NOT NULL,
    username TEXT NOT NULL UNIQUE COLLATE NOCASE, password_hash TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tokens (
    token_hash TEXT PRIMARY KEY, kind TEXT NOT NULL, org_id TEXT NOT NULL,
    user_id TEXT NOT NULL, client_id TEXT, parent_hash TEXT, issued_at REAL NOT NULL,
    expires_at REAL, revoked INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS tokens_by_user ON tokens(org_id, user_id, kind);
CREATE TABLE IF NOT EXISTS auth_codes (
    code_hash TEXT PRIMARY KEY, org_id TEXT NOT NULL, user_id TEXT NOT NULL,
    client_id TEXT NOT NULL, redirect_uri TEXT NOT NULL, code_challenge TEXT,
    scope TEXT NOT NULL, login_base TEXT NOT NULL, expires_at REAL NOT NULL,
    used INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS records (
    seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, org_id TEXT NOT NULL,
    sobject TEXT NOT NULL, deleted INTEGER NOT NULL DEFAULT 0, data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS records_by_object ON records(org_id, sobject, seq);
CREATE TABLE IF NOT EXISTS record_keys (
    org_id TEXT NOT NULL, sobject TEXT NOT NULL, field TEXT NOT NULL, value TEXT NOT NULL,
    id TEXT NOT NULL, PRIMARY KEY (org_id, sobject, field, value, id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS record_keys_by_id ON record_keys(id);
CREATE TABLE IF NOT EXISTS counters (
    org_id TEXT NOT NULL, name TEXT NOT NULL, value INTEGER NOT NULL,
    PRIMARY KEY (org_id, name));
CREATE TABLE IF NOT EXISTS api_usage (
    org_id TEXT NOT NULL, hour INTEGER NOT NULL, resource TEXT NOT NULL,
    calls INTEGER NOT NULL, PRIMARY KEY (org_id, hour, resource));
CREATE TABLE IF NOT EXISTS api_bursts (
    org_id TEXT NOT NULL, hour INTEGER NOT NULL, PRIMARY KEY (org_id, hour)) WITHOUT ROWID;
"""


class Rollback(Exception):
    """Raised inside `Database.transaction()` to undo it without reporting a failure."""


class Database:
    """One SQLite connection with explicit transactions that nest as savepoints."""

    def __init__(self, path: str = ":memory:") -> None:
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        if path != ":memory:":
            # WAL + NORMAL: a commit is not an fsync, and a crash loses at most the tail.
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.executescript(SCHEMA)
        self._depth = 0

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """A transaction, or a savepoint inside the enclosing one."""
        depth = self._depth
        self.conn.execute("BEGIN" if depth == 0 else f"SAVEPOINT sp{depth}")
        self._depth += 1
        try:
            yield
        except BaseException:
            self._depth = depth
            if depth == 0:
                self.conn.execute("ROLLBACK")
            else:
                self.conn.execute(f"ROLLBACK TO sp{depth}")
                self.conn.execute(f"RELEASE sp{depth}")
            raise
        self._depth = depth
        self.conn.execute("COMMIT" if depth == 0 else f"RELEASE sp{depth}")

    def close(self) -> None:
        self.conn.close()
