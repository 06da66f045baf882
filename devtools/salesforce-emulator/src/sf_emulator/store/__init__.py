"""SQLite state: orgs, users, tokens, records, API usage. One connection, one writer.

The emulator runs on one asyncio loop and never awaits while holding a transaction, so
a single connection gives every request serializable isolation for free.
"""

from __future__ import annotations

from sf_emulator.store.db import Database
from sf_emulator.store.orgs import OrgStore
from sf_emulator.store.records import RecordStore
from sf_emulator.store.tokens import TokenStore
from sf_emulator.store.usage import UsageMeter


class Store:
    """Every repository over one database; `path` is a file, or `:memory:`."""

    def __init__(self, path: str = ":memory:") -> None:
        self.db = Database(path)
        self.orgs = OrgStore(self.db)
        self.tokens = TokenStore(self.db)
        self.records = RecordStore(self.db)
        self.usage = UsageMeter(self.db)

    def close(self) -> None:
        self.db.close()
