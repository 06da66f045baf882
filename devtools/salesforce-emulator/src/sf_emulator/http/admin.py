"""The admin API under `/__admin`: orgs, sessions, usage, faults, bulk load, lead
conversion. For tests, benchmarks and demos only; it has no authentication and the
emulator should listen on loopback. Documented in the package README."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sf_emulator import credentials
from sf_emulator.dml.convert import convert_lead
from sf_emulator.dml.writer import Writer
from sf_emulator.emulator import Emulator
from sf_emulator.errors import SalesforceError
from sf_emulator.faults import FaultSettings
from sf_emulator.http.responses import base_url, json_response
from sf_emulator.provisioning import ProvisioningError, create_org, login_url, settings_from
from sf_emulator.store.orgs import Org

Endpoint = Callable[[Request], Awaitable[Response]]


def _guard(fn: Endpoint) -> Endpoint:
    async def run(request: Request) -> Response:
        try:
            return await fn(request)
        except ProvisioningError as exc:
            return json_response(exc.status, {"error": str(exc)})
        except (ValueError, TypeError) as exc:
            return json_response(400, {"error": str(exc)})
        except SalesforceError as exc:
            return json_response(exc.status, exc.body())

    return run


async def _json(request: Request) -> Any:
    raw = await request.body()
    return json.loads(raw) if raw.strip() else {}


class AdminEndpoints:
    def __init__(self, emulator: Emulator) -> None:
        self.emu = emulator

    def routes(self) -> list[Route]:
        org = "/__admin/orgs/{org_id}"
        table: list[tuple[str, Endpoint, list[str]]] = [
            ("/__admin/health", self.health, ["GET"]),
            ("/__admin/orgs", self.list_orgs, ["GET"]),
            ("/__admin/orgs", self.create, ["POST"]),
            (org, self.show, ["GET"]),
            (org, self.change, ["PATCH"]),
            (org + "/sessions", self.session, ["POST"]),
            (org + "/usage", self.usage, ["GET", "DELETE"]),
            (org + "/faults", self.faults, ["GET", "POST"]),
            (org + "/expire-sessions", self.expire, ["POST"]),
            (org + "/revoke-refresh-tokens", self.revoke, ["POST"]),
            (org + "/age-refresh-tokens", self.age, ["POST"]),
            (org + "/sobjects/{sobject}/bulk-load", self.bulk_load, ["POST"]),
            (org + "/leads/{lead_id}/convert", self.convert, ["POST"]),
        ]
        return [Route(path, _guard(fn), methods=methods) for path, fn, methods in table]

    def _org(self, request: Request) -> Org:
        org = self.emu.store.orgs.get(request.path_params["org_id"])
        if org is None:
            raise ProvisioningError(f"no org {request.path_params['org_id']}", 404)
        return org

    def _summary(self, request: Request, org: Org) -> dict[str, Any]:
        instance = base_url(request)
        return {
            "org_id": org.id,
            "name": org.name,
            "sandbox": org.is_sandbox,
            "instance_url": instance,
            "login_url": login_url(self.emu, org, instance),
            "client_id": org.client_id,
            "users": [u for _, u in self.emu.store.orgs.users(org.id)],
        }

    async def health(self, request: Request) -> Response:
        return json_response(200, {"status": "ok"})

    async def list_orgs(self, request: Request) -> Response:
        return json_response(200, [self._summary(request, o) for o in self.emu.store.orgs.all()])

    async def create(self, request: Request) -> Response:
        return json_response(201, create_org(self.emu, await _json(request), base_url(request)))

    async def show(self, request: Request) -> Response:
        org = self._org(request)
        settings = {k: v for k, v in vars(org.settings).items() if k != "faults"}
        return json_response(200, {**self._summary(request, org), "settings": settings})

    async def change(self, request: Request) -> Response:
        org = self._org(request)
        org.settings = settings_from(
            await _json(request), org.settings.session_timeout, org.settings
        )
        with self.emu.store.db.transaction():
            self.emu.store.orgs.save_settings(org)
        return await self.show(request)

    async def session(self, request: Request) -> Response:
        org = self._org(request)
        wanted = (await _json(request)).get("username")
        users = self.emu.store.orgs.users(org.id)
        match = [u for u in users if wanted is None or u[1].lower() == str(wanted).lower()]
        if not match:
            raise ProvisioningError(f"no user {wanted} in org {org.id}", 404)
        with self.emu.store.db.transaction():
            token = credentials.start_session(self.emu.store, org, match[0][0])
        return json_response(
            200,
            {
                "access_token": token,
                "instance_url": base_url(request),
                "user_id": match[0][0],
                "username": match[0][1],
            },
        )

    async def usage(self, request: Request) -> Response:
        org = self._org(request)
        meter = self.emu.store.usage
        if request.method == "DELETE":
            meter.reset(org.id)
        return json_response(
            200,
            {
                "total": meter.used(org.id),
                "limit": org.settings.api_limit,
                "by_resource": meter.by_resource(org.id),
            },
        )

    async def faults(self, request: Request) -> Response:
        org = self._org(request)
        if request.method == "POST":
            parsed = FaultSettings.parse(await _json(request))
            org.settings.faults = {
                k: v for k, v in parsed.as_dict().items() if v != getattr(FaultSettings(), k)
            }
            with self.emu.store.db.transaction():
                self.emu.store.orgs.save_settings(org)
            self.emu.faults.reset(org.id, parsed.seed)
        return json_response(200, FaultSettings.parse(org.settings.faults).as_dict())

    async def expire(self, request: Request) -> Response:
        org = self._org(request)
        with self.emu.store.db.transaction():
            n = self.emu.store.tokens.expire_sessions(org.id)
        return json_response(200, {"expired": n})

    async def revoke(self, request: Request) -> Response:
        org = self._org(request)
        with self.emu.store.db.transaction():
            n = self.emu.store.tokens.revoke_refresh_tokens(org.id)
        return json_response(200, {"revoked": n})

    async def age(self, request: Request) -> Response:
        org = self._org(request)
        body = await request.json()
        days = body.get("days") if isinstance(body, dict) else None
        if not isinstance(days, int | float) or days < 0:
            raise ProvisioningError("days must be a number of days, 0 or more")
        with self.emu.store.db.transaction():
            n = self.emu.store.tokens.age_refresh_tokens(org.id, float(days) * 86400)
        return json_response(200, {"aged": n})

    def _writer(self, org: Org) -> Writer:
        return Writer(
            self.emu.store, org, self.emu.store.orgs.users(org.id)[0][0], "59.0", allow_save=True
        )

    async def bulk_load(self, request: Request) -> Response:
        """Insert many records in one transaction, skipping duplicate rules and API usage."""
        org = self._org(request)
        obj = org.catalog.require(request.path_params["sobject"])
        rows = (await _json(request)).get("records")
        if not isinstance(rows, list):
            raise ProvisioningError('the body is {"records": [...]}')
        writer = self._writer(org)
        with self.emu.store.db.transaction():
            records = [writer.build(obj, dict(r)) for r in rows]
            self.emu.store.records.insert_many(org.id, obj, records)
        return json_response(201, {"ids": [r["Id"] for r in records]})

    async def convert(self, request: Request) -> Response:
        org = self._org(request)
        body = await _json(request)
        with self.emu.store.db.transaction():
            result = convert_lead(
                self._writer(org),
                request.path_params["lead_id"],
                body.get("account_id"),
                body.get("contact_id"),
            )
        return json_response(200, result)
