"""Access tokens, refresh tokens and authorization codes (stored hashed)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from sf_emulator.store.db import Database
from sf_emulator.store.orgs import secret_hash

# Salesforce revokes the oldest refresh token at a user's sixth approval of one app.
MAX_REFRESH_TOKENS_PER_APP = 5


@dataclass(frozen=True)
class Session:
    org_id: str
    user_id: str


@dataclass(frozen=True)
class AuthCode:
    org_id: str
    user_id: str
    client_id: str
    redirect_uri: str
    code_challenge: str | None
    scope: str
    login_base: str


class TokenStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def add_access(
        self,
        token: str,
        org_id: str,
        user_id: str,
        timeout: int,
        client_id: str | None = None,
        parent: str | None = None,
    ) -> None:
        now = time.time()
        self.db.conn.execute(
            "INSERT INTO tokens VALUES (?, 'access', ?, ?, ?, ?, ?, ?, 0)",
            (
                secret_hash(token),
                org_id,
                user_id,
                client_id,
                secret_hash(parent) if parent else None,
                now,
                now + timeout,
            ),
        )

    def add_refresh(self, token: str, org_id: str, user_id: str, client_id: str) -> None:
        self.db.conn.execute(
            "INSERT INTO tokens VALUES (?, 'refresh', ?, ?, ?, NULL, ?, NULL, 0)",
            (secret_hash(token), org_id, user_id, client_id, time.time()),
        )
        live = self.db.conn.execute(
            "SELECT token_hash FROM tokens WHERE kind = 'refresh' AND revoked = 0 AND "
            "org_id = ? AND user_id = ? AND client_id = ? ORDER BY issued_at DESC, rowid DESC",
            (org_id, user_id, client_id),
        ).fetchall()
        for (old,) in live[MAX_REFRESH_TOKENS_PER_APP:]:
            self._revoke_hash(old)

    def session(self, token: str, timeout_of: Callable[[str], int]) -> Session | None:
        """The live session of an access token; activity extends it, as in Salesforce.

        `timeout_of(org_id)` is the org's session timeout in seconds.
        """
        key = secret_hash(token)
        row = self.db.conn.execute(
            "SELECT org_id, user_id, expires_at FROM tokens "
            "WHERE token_hash = ? AND kind = 'access' AND revoked = 0",
            (key,),
        ).fetchone()
        now = time.time()
        if row is None or row[2] <= now:
            return None
        timeout = timeout_of(row[0])
        # Salesforce extends a session only in the second half of its timeout window.
        if row[2] - now < timeout / 2:
            self.db.conn.execute(
                "UPDATE tokens SET expires_at = ? WHERE token_hash = ?", (now + timeout, key)
            )
        return Session(row[0], row[1])

    def refresh(self, token: str) -> tuple[str, str, str] | None:
        """(org_id, user_id, client_id) of a live refresh token."""
        row = self.db.conn.execute(
            "SELECT org_id, user_id, client_id FROM tokens "
            "WHERE token_hash = ? AND kind = 'refresh' AND revoked = 0",
            (secret_hash(token),),
        ).fetchone()
        return (row[0], row[1], row[2]) if row else None

    def revoke(self, token: str) -> bool:
        """Revoke an access or refresh token; a refresh token takes its sessions along."""
        return self._revoke_hash(secret_hash(token))

    def _revoke_hash(self, key: str) -> bool:
        cur = self.db.conn.execute(
            "UPDATE tokens SET revoked = 1 WHERE token_hash = ? AND revoked = 0", (key,)
        )
        self.db.conn.execute("UPDATE tokens SET revoked = 1 WHERE parent_hash = ?", (key,))
        return cur.rowcount > 0

    def expire_sessions(self, org_id: str) -> int:
        return self.db.conn.execute(
            "UPDATE tokens SET expires_at = 0 WHERE org_id = ? AND kind = 'access' "
            "AND expires_at > 0",
            (org_id,),
        ).rowcount

    def revoke_refresh_tokens(self, org_id: str) -> int:
        keys = self.db.conn.execute(
            "SELECT token_hash FROM tokens WHERE org_id = ? AND kind = 'refresh' AND revoked = 0",
            (org_id,),
        ).fetchall()
        return sum(self._revoke_hash(k) for (k,) in keys)

    def add_code(self, code: str, grant: AuthCode, ttl: float = 900) -> None:
        self.db.conn.execute(
            "INSERT INTO auth_codes VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0)",
            (
                secret_hash(code),
                grant.org_id,
                grant.user_id,
                grant.client_id,
                grant.redirect_uri,
                grant.code_challenge,
                grant.scope,
                grant.login_base,
                time.time() + ttl,
            ),
        )

    def take_code(self, code: str) -> AuthCode | None:
        """The grant of an unused, unexpired code, marking it used (codes are one-shot)."""
        key = secret_hash(code)
        row = self.db.conn.execute(
            "SELECT org_id, user_id, client_id, redirect_uri, code_challenge, scope, "
            "login_base, expires_at, used FROM auth_codes WHERE code_hash = ?",
            (key,),
        ).fetchone()
        if row is None or row[8] or row[7] <= time.time():
            return None
        self.db.conn.execute("UPDATE auth_codes SET used = 1 WHERE code_hash = ?", (key,))
        return AuthCode(*row[:7])
