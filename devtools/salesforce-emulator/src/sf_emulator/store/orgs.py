"""Orgs, their connected apps and their users' credentials."""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from sf_emulator.schema.catalog import Catalog
from sf_emulator.store.db import Database


def secret_hash(value: str) -> str:
    """Secrets at rest are hashed: the data file holds no usable token or password."""
    return hashlib.sha256(value.encode()).hexdigest()


@dataclass
class OrgSettings:
    """What the admin API may set on an org (see README)."""

    api_limit: int = 100_000
    duplicate_rules: str = "alert"  # off | alert | block; a new org's standard rules alert
    session_timeout: int = 7200
    custom_fields: list[dict[str, Any]] = field(default_factory=list)
    faults: dict[str, Any] = field(default_factory=dict)
    refresh_token_rotation: bool = True
    """Refresh Token Rotation on the connected app: single-use refresh tokens [S4]."""
    refresh_token_idle_days: int = 30
    """A refresh token unused this long expires (0: never) [S5]."""
    require_pkce: bool = True
    """The connected app requires PKCE, as apps used by several orgs must [S5, S26]."""
    require_client_secret: bool = True
    """A confidential client sends its secret with the code verifier [S26]."""
    string_length_utf16: bool = False
    """Text lengths count UTF-16 code units, as formulas and Apex do [S19]; inferred for DML."""
    assignment_rule_owner: str = ""
    """The User (id or username) the org's active Lead and Case assignment rules route to;
    "" for no active rule. Applied unless a request sends `Sforce-Auto-Assign: FALSE`."""
    api_limit_blocks: bool = False
    """Calls past `api_limit` answer 403 until the last 24 hours drop below it. Off, the
    limit is soft, as documented [S28]; when Salesforce starts blocking is inferred."""
    api_burst_entitlement: int = 750
    """The second figure of `api-bursts` in `Sforce-Limit-Info` (the documented example's)."""
    soql_desc_nulls_first: bool = False
    """`ORDER BY x DESC` puts nulls first, as "null values are sorted first" reads [S24];
    off, DESC puts them last (the real default for DESC is inferred)."""
    soql_strict_datetimes: bool = False
    """Datetime literals only in the documented forms (`Z`, `+hh:mm`, `-hh:mm`) [S31]."""
    person_accounts: bool = False
    """Person Accounts are on [P1]: Account has the person fields and record types. Set when
    the org is created (Salesforce cannot turn them off once on)."""

    @property
    def refresh_idle_s(self) -> float | None:
        return self.refresh_token_idle_days * 86400.0 if self.refresh_token_idle_days else None


@dataclass
class Org:
    id: str
    name: str
    is_sandbox: bool
    client_id: str
    settings: OrgSettings
    created_at: float
    catalog: Catalog = field(repr=False, compare=False, default_factory=Catalog)


@dataclass(frozen=True)
class App:
    """A connected app: consumer key and secret, and its allowed callback URLs."""

    client_id: str
    client_secret: str
    redirect_uris: tuple[str, ...]


class OrgStore:
    """Orgs are read on every request, so they are cached after the first read."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._cache: dict[str, Org] = {}

    def add_app(self, app: App) -> None:
        self.db.conn.execute(
            "INSERT INTO apps VALUES (?, ?, ?) ON CONFLICT (client_id) DO UPDATE SET "
            "client_secret = excluded.client_secret, redirect_uris = excluded.redirect_uris",
            (app.client_id, app.client_secret, json.dumps(list(app.redirect_uris))),
        )

    def app(self, client_id: str) -> App | None:
        row = self.db.conn.execute(
            "SELECT client_id, client_secret, redirect_uris FROM apps WHERE client_id = ?",
            (client_id,),
        ).fetchone()
        return App(row[0], row[1], tuple(json.loads(row[2]))) if row else None

    def add(self, org: Org) -> None:
        self.db.conn.execute(
            "INSERT INTO orgs VALUES (?, ?, ?, ?, ?, ?)",
            (
                org.id,
                org.name,
                int(org.is_sandbox),
                org.client_id,
                json.dumps(asdict(org.settings)),
                time.time(),
            ),
        )
        self._cache.pop(org.id, None)

    def save_settings(self, org: Org) -> None:
        self.db.conn.execute(
            "UPDATE orgs SET settings = ? WHERE id = ?", (json.dumps(asdict(org.settings)), org.id)
        )
        self._cache.pop(org.id, None)

    def get(self, org_id: str) -> Org | None:
        if org_id in self._cache:
            return self._cache[org_id]
        row = self.db.conn.execute(
            "SELECT id, name, is_sandbox, client_id, settings, created_at FROM orgs WHERE id = ?",
            (org_id,),
        ).fetchone()
        if row is None:
            return None
        settings = OrgSettings(**json.loads(row[4]))
        org = Org(
            row[0],
            row[1],
            bool(row[2]),
            row[3],
            settings,
            row[5],
            Catalog(settings.custom_fields, settings.person_accounts),
        )
        self._cache[org_id] = org
        return org

    def all(self) -> list[Org]:
        ids = [r[0] for r in self.db.conn.execute("SELECT id FROM orgs ORDER BY created_at")]
        return [o for o in (self.get(i) for i in ids) if o is not None]

    def add_credentials(self, org_id: str, user_id: str, username: str, password: str) -> None:
        self.db.conn.execute(
            "INSERT INTO credentials VALUES (?, ?, ?, ?)",
            (user_id, org_id, username, secret_hash(password)),
        )

    def check_password(self, username: str, password: str) -> tuple[str, str] | None:
        """(org_id, user_id) when the username and password match."""
        row = self.db.conn.execute(
            "SELECT org_id, user_id, password_hash FROM credentials WHERE username = ?",
            (username,),
        ).fetchone()
        if row is None or row[2] != secret_hash(password):
            return None
        return row[0], row[1]

    def users(self, org_id: str) -> list[tuple[str, str]]:
        """(user_id, username) of the org's users, first created first."""
        return list(
            self.db.conn.execute(
                "SELECT user_id, username FROM credentials WHERE org_id = ? ORDER BY rowid",
                (org_id,),
            )
        )
