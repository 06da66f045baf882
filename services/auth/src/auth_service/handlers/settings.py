"""Tenant settings: read them (or the defaults), and save them after checking the body
with the contract and then against the connected org's describe.

The page's form and `PUT /admin/settings` both end here, so both check the same way.
Saving writes the whole value to `tenant.settings.v1` (acks=all) and answers it. Each save
asked by a `caller` is an `AuditEvent` (`settings.update`): saved, with what changed field
by field; refused, naming the fields at fault; or failed (the org could not be described).
"""

from __future__ import annotations

from auth_service.adapters.ports import AuditTrail, SalesforceOAuth, SettingsStore
from auth_service.domain import audit
from auth_service.domain.audit import Caller, Outcome
from auth_service.domain.errors import Rejected, SalesforceAuthError, TokenUnavailable
from auth_service.domain.settings import (
    SettingsProblem,
    objects_to_describe,
    parse_settings,
    problems_with,
)
from auth_service.handlers.tokens import TokenService
from chat_contracts.audit import AuditChange
from chat_contracts.auth import TokenErrorCode
from chat_contracts.settings import TenantSettings
from chat_runtime.logging import get_logger

log = get_logger(__name__)

DESCRIBE_TIMEOUT_S = 10.0


class SettingsInvalid(Exception):
    """The body breaks the contract or asks for what the org cannot take."""

    def __init__(self, problems: tuple[SettingsProblem, ...]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{p.field}: {p.message}" for p in problems))


class SettingsUnchecked(Exception):
    """The org could not be described: not connected, revoked, or Salesforce failed.

    `connected` is False when reconnecting the tenant is the fix."""

    def __init__(self, code: str, message: str, *, connected: bool) -> None:
        self.code = code
        self.message = message
        self.connected = connected
        super().__init__(f"{code}: {message}")


class TenantSettingsEditor:
    def __init__(
        self,
        *,
        store: SettingsStore,
        tokens: TokenService,
        salesforce: SalesforceOAuth,
        audit: AuditTrail | None = None,
    ) -> None:
        self._store = store
        self._tokens = tokens
        self._sf = salesforce
        self._audit = audit

    def current(self, tenant_id: str) -> TenantSettings:
        """The tenant's stored settings, or the contract's defaults when it has none."""
        return self._store.get(tenant_id) or TenantSettings(tenant_id=tenant_id)

    def stored(self, tenant_id: str) -> bool:
        return self._store.get(tenant_id) is not None

    async def save(
        self,
        tenant_id: str,
        body: object,
        *,
        updated_by: str | None = None,
        caller: Caller | None = None,
    ) -> TenantSettings:
        """Check `body` and write it; raises SettingsInvalid or SettingsUnchecked. Recorded
        on the audit trail when a `caller` asked."""
        before = self.current(tenant_id)
        try:
            saved = await self._save(tenant_id, body, updated_by)
        except SettingsInvalid as exc:
            fields = ", ".join(p.field for p in exc.problems)[:500]
            await self._record(tenant_id, caller, "refused", f"settings ({fields})")
            raise
        except SettingsUnchecked:
            await self._record(tenant_id, caller, "failed")
            raise
        await self._record(tenant_id, caller, "ok", changes=audit.settings_changes(before, saved))
        return saved

    async def _record(
        self,
        tenant_id: str,
        caller: Caller | None,
        outcome: Outcome,
        target: str = "settings",
        changes: tuple[AuditChange, ...] = (),
    ) -> None:
        if caller is None or self._audit is None:
            return
        await self._audit.record(
            audit.event(
                tenant_id,
                caller,
                "settings.update",
                outcome=outcome,
                target=target,
                changes=changes,
            )
        )

    async def _save(self, tenant_id: str, body: object, updated_by: str | None) -> TenantSettings:
        parsed = parse_settings(tenant_id, body, updated_by=updated_by)
        if not isinstance(parsed, TenantSettings):
            raise SettingsInvalid(parsed)
        describes = await self._describe(tenant_id, objects_to_describe(parsed))
        problems = problems_with(parsed, describes)
        if problems:
            log.info(
                "tenant settings refused",
                tenant_id=tenant_id,
                fields=[p.field for p in problems],
            )
            raise SettingsInvalid(problems)
        await self._store.put(parsed)
        log.info(
            "tenant settings saved",
            tenant_id=tenant_id,
            mode=parsed.mode,
            update_policy=str(parsed.update_policy),
            mapped=len(parsed.field_mapping),
        )
        return parsed

    async def _describe(
        self, tenant_id: str, objects: tuple[str, ...]
    ) -> dict[str, dict[str, object] | None]:
        try:
            grant = await self._tokens.access(tenant_id, timeout=DESCRIBE_TIMEOUT_S)
            describes: dict[str, dict[str, object] | None] = {}
            for name in objects:
                try:
                    body = await self._sf.describe_sobject(
                        tenant_id=tenant_id,
                        instance_url=grant.instance_url,
                        access_token=grant.access_token.get_secret_value(),
                        sobject=name,
                    )
                except Rejected as exc:
                    if exc.code != "INVALID_SESSION_ID":
                        raise
                    grant = await self._tokens.access(
                        tenant_id,
                        rejected_fingerprint=grant.fingerprint,
                        timeout=DESCRIBE_TIMEOUT_S,
                    )
                    body = await self._sf.describe_sobject(
                        tenant_id=tenant_id,
                        instance_url=grant.instance_url,
                        access_token=grant.access_token.get_secret_value(),
                        sobject=name,
                    )
                describes[name] = dict(body) if body is not None else None
            return describes
        except TokenUnavailable as exc:
            connected = exc.code not in (TokenErrorCode.NOT_CONNECTED, TokenErrorCode.REVOKED)
            raise SettingsUnchecked(str(exc.code), exc.message, connected=connected) from None
        except SalesforceAuthError as exc:
            message = exc.message or "Salesforce did not answer the describe"
            raise SettingsUnchecked(exc.code, message, connected=True) from None
