"""A small method + regex router for the data API, shared by HTTP and Composite."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sf_emulator.dml.writer import Writer
from sf_emulator.errors import SalesforceError, not_found
from sf_emulator.soql.engine import QueryEngine
from sf_emulator.store import Store
from sf_emulator.store.orgs import Org

OLDEST_VERSION = 31
"""Versions 21.0 to 30.0 were retired in Summer '25 and answer 410 GONE [S23]."""
RETIRED_FROM = 7
NEWEST_VERSION = 66


@dataclass
class RestRequest:
    method: str
    path: str  # below /services/data/vXX.X, without a trailing slash: "/sobjects/Lead"
    params: Mapping[str, str] = field(default_factory=dict)
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)  # lower-case names


@dataclass
class RestResponse:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None
    media_type: str = "application/json;charset=UTF-8"


@dataclass
class Ctx:
    """Who is calling, in which org, at which API version."""

    store: Store
    engine: QueryEngine
    org: Org
    user_id: str
    version: str
    # The data API's dispatcher, so that Composite can run its subrequests through it.
    dispatch: Callable[[Ctx, RestRequest], RestResponse] | None = None
    # An injected UNABLE_TO_LOCK_ROW for every write of this call (Composite applies it to
    # each write subrequest, inside its 200).
    lock: bool = False

    def writer(self, req: RestRequest) -> Writer:
        header = req.headers.get("sforce-duplicate-rule-header", "").replace(" ", "").lower()
        auto_assign = req.headers.get("sforce-auto-assign", "").strip().lower() != "false"
        return Writer(
            self.store,
            self.org,
            self.user_id,
            self.version,
            allow_save="allowsave=true" in header,
            auto_assign=auto_assign,
        )

    @property
    def base(self) -> str:
        return f"/services/data/v{self.version}"


Handler = Callable[[Ctx, RestRequest, "re.Match[str]"], RestResponse]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    resource: str  # the name usage is counted under
    dml: bool = False  # whether a lock-contention fault may hit it


def route(method: str, pattern: str, handler: Handler, resource: str, dml: bool = False) -> Route:
    return Route(method, re.compile(f"^{pattern}$"), handler, resource, dml)


class Router:
    def __init__(self, routes: list[Route]) -> None:
        self.routes = routes

    def match(self, method: str, path: str) -> tuple[Route, re.Match[str]]:
        allowed = []
        for r in self.routes:
            m = r.pattern.match(path)
            if m is None:
                continue
            if r.method == method:
                return r, m
            allowed.append(r.method)
        if allowed:
            raise SalesforceError(
                405,
                "METHOD_NOT_ALLOWED",
                f"HTTP Method '{method}' not allowed. Allowed are {','.join(sorted(set(allowed)))}",
            )
        raise not_found()


def error_response(exc: SalesforceError) -> RestResponse:
    return RestResponse(exc.status, exc.body())


def supported_version(text: str) -> bool:
    major, _, minor = text.partition(".")
    return major.isdigit() and minor == "0" and OLDEST_VERSION <= int(major) <= NEWEST_VERSION


def retired_version(text: str) -> bool:
    """A version Salesforce has retired: it answers 410 GONE [S23]."""
    major, _, minor = text.partition(".")
    return major.isdigit() and minor == "0" and RETIRED_FROM <= int(major) < OLDEST_VERSION


def strip_path(path: str) -> str:
    path = path.rstrip("/")
    return path if path.startswith("/") or not path else "/" + path


LOCK_MESSAGE = "unable to obtain exclusive access to this record or 1 records"


def lock_failure(resource: str, body: Any, params: dict[str, str]) -> RestResponse:
    """The answer of a write that could not lock its rows: a 400 for one record, a 200 with
    the error on every record for sObject Collections."""
    error = SalesforceError(400, "UNABLE_TO_LOCK_ROW", LOCK_MESSAGE, [])
    if resource != "composite/sobjects":
        return RestResponse(400, error.body())
    n = (
        len(body.get("records", []))
        if isinstance(body, dict)
        else len(params.get("ids", "").split(","))
    )
    return RestResponse(200, [{"success": False, "errors": [error.collection_item()]}] * n)
