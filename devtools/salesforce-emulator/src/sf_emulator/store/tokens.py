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

    def add_refresh(
        self,
        token: str,
        org_id: str,
        user_id: str,
        client_id: str,
        idle_s: float | None = None,
        family: str | None = None,
    ) -> None:
        """A refresh token. `expires_at` is when it expires unused (None: never);
        `parent_hash` names its family's first token (rotation), NULL for that first one."""
        now = time.time()
        self.db.conn.execute(
            "INSERT INTO tokens VALUES (?, 'refresh', ?, ?, ?, ?, ?, ?, 0)",
            (
                secret_hash(token),
                org_id,
                user_id,
                client_id,
                family,
                now,
                now + idle_s if idle_s else None,
            ),
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
        """(org_id, user_id, client_id) of a live, unexpired refresh token."""
        row = self.db.conn.execute(
            "SELECT org_id, user_id, client_id, expires_at FROM tokens "
            "WHERE token_hash = ? AND kind = 'refresh' AND revoked = 0",
            (secret_hash(token),),
        ).fetchone()
        if row is None or (row[3] is not None and row[3] <= time.time()):
            return None
        return (row[0], row[1], row[2])

    def rotate(self, used: str, new: str, idle_s: float | None) -> None:
        """Replace a refresh token by a new one of the same family; the used one is kept,
        marked rotated (`revoked = 2`), so that a reuse can be told from an unknown token."""
        key = secret_hash(used)
        row = self.db.conn.execute(
            "SELECT org_id, user_id, client_id, parent_hash FROM tokens WHERE token_hash = ?",
            (key,),
        ).fetchone()
        assert row is not None
        self.db.conn.execute("UPDATE tokens SET revoked = 2 WHERE token_hash = ?", (key,))
        self.add_refresh(new, row[0], row[1], row[2], idle_s, family=row[3] or key)

    def touch_refresh(self, token: str, idle_s: float | None) -> None:
        """A refresh token was used: its idle time starts again."""
        if idle_s:
            self.db.conn.execute(
                "UPDATE tokens SET expires_at = ? WHERE token_hash = ?",
                (time.time() + idle_s, secret_hash(token)),
            )

    def revoke_family_of_rotated(self, token: str) -> None:
        """If `token` is a rotated refresh token, revoke its whole family and sessions."""
        key = secret_hash(token)
        row = self.db.conn.execute(
            "SELECT parent_hash FROM tokens WHERE token_hash = ? AND kind = 'refresh' "
            "AND revoked = 2",
            (key,),
        ).fetchone()
        if row is None:
            return
        root = row[0] or key
        members = self.db.conn.execute(
            "SELECT token_hash FROM tokens WHERE kind = 'refresh' AND "
            "(token_hash = ? OR parent_hash = ?)",
            (root, root),
        ).fetchall()
        for (member,) in members:
            self.db.conn.execute("UPDATE tokens SET revoked = 1 WHERE token_hash = ?", (member,))
            self.db.conn.execute(
                "UPDATE tokens SET revoked = 1 WHERE kind = 'access' AND parent_hash = ?",
                (member,),
            )

    def age_refresh_tokens(self, org_id: str, seconds: float) -> int:
        """Move the org's refresh tokens' idle expiry `seconds` closer (tests)."""
        return self.db.conn.execute(
            "UPDATE tokens SET expires_at = expires_at - ? WHERE org_id = ? AND "
            "kind = 'refresh' AND expires_at IS NOT NULL",
            (seconds, org_id),
        ).rowcount

    def revoke(self, token: str) -> bool:
        """Revoke an access or refresh token; a refresh token takes its sessions along."""
        return self._revoke_hash(secret_hash(token))

    def _revoke_hash(self, key: str) -> bool:
        cur = self.db.conn.execute(
            "UPDATE tokens SET revoked = 1 WHERE token_hash = ? AND revoked = 0", (key,)
        )
        self.db.conn.execute(
            "UPDATE tokens SET revoked = 1 WHERE kind = 'access' AND parent_hash = ?", (key,)
        )
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

    def code_used(self, code: str) -> bool:
        """Whether the code was issued and has been exchanged already."""
        row = self.db.conn.execute(
            "SELECT used FROM auth_codes WHERE code_hash = ?", (secret_hash(code),)
        ).fetchone()
        return bool(row and row[0])

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
