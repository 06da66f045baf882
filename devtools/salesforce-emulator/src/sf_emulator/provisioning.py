"""Creating orgs (admin API and seed files): users, connected app, first tokens, records."""

from __future__ import annotations

import re
import time
from typing import Any

from sf_emulator import credentials, ids, values
from sf_emulator.dml.writer import Writer
from sf_emulator.emulator import Emulator
from sf_emulator.errors import SalesforceError
from sf_emulator.schema.catalog import Catalog
from sf_emulator.schema.person_accounts import ACCOUNT_RECORD_TYPES
from sf_emulator.store.orgs import App, Org, OrgSettings

DUPLICATE_MODES = {
    "off": "off",
    "false": "off",
    "true": "alert",
    "alert": "alert",
    "block": "block",
}


class ProvisioningError(ValueError):
    """A bad org declaration; the admin API answers 400 (409 for conflicts)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "org"


def settings_from(
    spec: dict[str, Any], default_timeout: int, base: OrgSettings | None = None
) -> OrgSettings:
    s = base or OrgSettings(session_timeout=default_timeout)
    dup = str(spec.get("duplicate_rules", s.duplicate_rules)).lower()
    if dup not in DUPLICATE_MODES:
        raise ProvisioningError("duplicate_rules is one of off, alert, block (or a boolean)")
    custom = list(spec.get("custom_fields", s.custom_fields))
    person_accounts = bool(spec.get("person_accounts", s.person_accounts))
    if base is not None and person_accounts != base.person_accounts:
        raise ProvisioningError("person_accounts is set when an org is created, not changed")
    try:
        Catalog(custom)
    except ValueError as exc:
        raise ProvisioningError(str(exc)) from None
    return OrgSettings(
        api_limit=int(spec.get("api_limit", s.api_limit)),
        duplicate_rules=DUPLICATE_MODES[dup],
        session_timeout=int(spec.get("session_timeout", s.session_timeout)),
        custom_fields=custom,
        faults=s.faults,
        refresh_token_rotation=bool(spec.get("refresh_token_rotation", s.refresh_token_rotation)),
        refresh_token_idle_days=int(spec.get("refresh_token_idle_days", s.refresh_token_idle_days)),
        require_pkce=bool(spec.get("require_pkce", s.require_pkce)),
        require_client_secret=bool(spec.get("require_client_secret", s.require_client_secret)),
        string_length_utf16=bool(spec.get("string_length_utf16", s.string_length_utf16)),
        assignment_rule_owner=str(spec.get("assignment_rule_owner", s.assignment_rule_owner)),
        api_limit_blocks=bool(spec.get("api_limit_blocks", s.api_limit_blocks)),
        api_burst_entitlement=int(spec.get("api_burst_entitlement", s.api_burst_entitlement)),
        soql_desc_nulls_first=bool(spec.get("soql_desc_nulls_first", s.soql_desc_nulls_first)),
        soql_strict_datetimes=bool(spec.get("soql_strict_datetimes", s.soql_strict_datetimes)),
        person_accounts=person_accounts,
    )


def _app(emu: Emulator, spec: dict[str, Any]) -> App:
    client_id = spec.get("client_id") or credentials.new_client_id()
    existing = emu.store.orgs.app(client_id)
    secret = spec.get("client_secret") or (
        existing.client_secret if existing else credentials.new_client_secret()
    )
    if existing and existing.client_secret != secret:
        raise ProvisioningError(f"client_id {client_id} exists with another secret", 409)
    uris = tuple(spec.get("redirect_uris", existing.redirect_uris if existing else ()))
    app = App(client_id, secret, uris)
    emu.store.orgs.add_app(app)
    return app


def _user(emu: Emulator, org: Org, spec: dict[str, Any], slug: str, n: int) -> dict[str, Any]:
    username = spec.get("username") or f"user{n}@{slug}.example"
    user_id = spec.get("id") or ids.new_id("005")
    if not ids.is_id(user_id) or not user_id.startswith("005"):
        raise ProvisioningError(f"user id {user_id!r} is not a User id (005...)")
    password = spec.get("password") or credentials.new_password()
    last = spec.get("last_name") or username.split("@")[0].title()
    first = spec.get("first_name")
    stamp = values.now()
    record: dict[str, Any] = {
        "Id": ids.to18(user_id),
        "IsDeleted": False,
        "CreatedDate": stamp,
        "CreatedById": ids.to18(user_id),
        "LastModifiedDate": stamp,
        "LastModifiedById": ids.to18(user_id),
        "SystemModstamp": stamp,
        "Username": username,
        "Email": spec.get("email") or username,
        "FirstName": first,
        "LastName": last,
        "Name": " ".join(p for p in (first, last) if p),
        "Alias": spec.get("alias") or last[:8].lower(),
        "Title": spec.get("title"),
        "IsActive": bool(spec.get("active", True)),
    }
    try:
        emu.store.orgs.add_credentials(org.id, record["Id"], username, password)
    except Exception as exc:  # sqlite3.IntegrityError: a username is unique across orgs
        raise ProvisioningError(f"username {username} is taken", 409) from exc
    emu.store.records.insert(org.id, org.catalog.objects["user"], record)
    return {
        "id": record["Id"],
        "username": username,
        "email": record["Email"],
        "password": password,
    }


def create_org(emu: Emulator, spec: dict[str, Any], instance_url: str) -> dict[str, Any]:
    """Create an org from its declaration (README: `POST /__admin/orgs`)."""
    name = str(spec.get("name") or "Emulated Org")
    org_id = ids.to18(spec["org_id"]) if spec.get("org_id") else ids.new_id("00D")
    if not ids.is_id(org_id) or not org_id.startswith("00D"):
        raise ProvisioningError("org_id must be an Organization id (00D...)")
    if emu.store.orgs.get(org_id):
        raise ProvisioningError(f"org {org_id} exists", 409)
    settings = settings_from(spec, emu.config.session_timeout)
    with emu.store.db.transaction():
        app = _app(emu, spec)
        org = Org(
            org_id,
            name,
            bool(spec.get("sandbox", False)),
            app.client_id,
            settings,
            time.time(),
            Catalog(settings.custom_fields, settings.person_accounts),
        )
        emu.store.orgs.add(org)
        emu.store.records.insert(
            org_id,
            org.catalog.objects["organization"],
            {
                "Id": org_id,
                "Name": name,
                "IsSandbox": org.is_sandbox,
                "OrganizationType": "Developer Edition" if org.is_sandbox else "Enterprise Edition",
                "InstanceName": "EMU1",
            },
        )
        # Usernames are unique across orgs (as in Salesforce): defaults carry the org id.
        slug = f"{_slug(name)}-{org_id[5:15].lower()}"
        declared = spec.get("users") or [{"username": f"admin@{slug}.example"}]
        users = [_user(emu, org, u, slug, n) for n, u in enumerate(declared, start=1)]
        first = users[0]["id"]
        if settings.person_accounts:
            _record_types(emu, org, first)
        refresh = spec.get("refresh_token") or credentials.new_refresh_token()
        emu.store.tokens.add_refresh(
            refresh, org_id, first, app.client_id, org.settings.refresh_idle_s
        )
        access = credentials.start_session(
            emu.store, org, first, spec.get("access_token"), app.client_id, refresh
        )
        _seed_records(emu, org, first, spec.get("records") or {})
    return {
        "org_id": org_id,
        "name": name,
        "sandbox": org.is_sandbox,
        "instance_url": instance_url,
        "login_url": login_url(emu, org, instance_url),
        "username": users[0]["username"],
        "password": users[0]["password"],
        "user_id": first,
        "access_token": access,
        "refresh_token": refresh,
        "client_id": app.client_id,
        "client_secret": app.client_secret,
        "users": users,
    }


def _record_types(emu: Emulator, org: Org, user_id: str) -> None:
    """The Account record types of an org with Person Accounts [P1]."""
    stamp = values.now()
    for declared in ACCOUNT_RECORD_TYPES:
        record = {
            "Id": ids.new_id("012"),
            "IsDeleted": False,
            "CreatedDate": stamp,
            "CreatedById": user_id,
            "LastModifiedDate": stamp,
            "LastModifiedById": user_id,
            "SystemModstamp": stamp,
            "SobjectType": "Account",
            "IsActive": True,
            "Description": None,
            "NamespacePrefix": None,
            **declared,
        }
        emu.store.records.insert(org.id, org.catalog.objects["recordtype"], record)


def login_url(emu: Emulator, org: Org, instance_url: str) -> str:
    return instance_url + (emu.config.sandbox_prefix if org.is_sandbox else "")


def _seed_records(emu: Emulator, org: Org, user_id: str, records: dict[str, Any]) -> None:
    writer = Writer(emu.store, org, user_id, "59.0", allow_save=True)
    for sobject, rows in records.items():
        obj = org.catalog.get(sobject)
        if obj is None:
            raise ProvisioningError(f"unknown sObject {sobject!r} in records")
        for row in rows:
            try:
                writer.create(obj, dict(row))
            except SalesforceError as exc:
                raise ProvisioningError(f"{sobject} record {row}: {exc.message}") from None
