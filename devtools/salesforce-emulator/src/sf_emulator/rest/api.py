"""The route table of `/services/data/vXX.X` and the dispatcher over it."""

from __future__ import annotations

from sf_emulator.errors import SalesforceError
from sf_emulator.rest import collections, composite, misc, query, sobjects
from sf_emulator.rest.router import (
    Ctx,
    RestRequest,
    RestResponse,
    Route,
    Router,
    error_response,
    route,
)

_OBJ = r"/sobjects/(?P<obj>[A-Za-z0-9_]+)"


def routes() -> list[Route]:
    return [
        route("GET", "", misc.resources, "resources"),
        route("GET", "/limits", misc.limits, "limits"),
        route("GET", "/sobjects", sobjects.global_describe, "describeGlobal"),
        route("GET", _OBJ, sobjects.metadata, "sobject"),
        route("POST", _OBJ, sobjects.create, "create", dml=True),
        route("GET", _OBJ + "/describe", sobjects.describe, "describe"),
        route("GET", _OBJ + r"/(?P<id>[A-Za-z0-9]+)", sobjects.get, "retrieve"),
        route("PATCH", _OBJ + r"/(?P<id>[A-Za-z0-9]+)", sobjects.update, "update", dml=True),
        route("DELETE", _OBJ + r"/(?P<id>[A-Za-z0-9]+)", sobjects.delete, "delete", dml=True),
        route("GET", _OBJ + r"/(?P<a>[A-Za-z0-9_]+)/(?P<b>[^/]+)", sobjects.get_by_key, "retrieve"),
        route(
            "PATCH",
            _OBJ + r"/(?P<a>[A-Za-z0-9_]+)/(?P<b>[^/]+)",
            sobjects.upsert,
            "upsert",
            dml=True,
        ),
        route("GET", r"/query(?:All)?", query.query, "query"),
        route("GET", r"/query(?:All)?/(?P<locator>[A-Za-z0-9]+-\d+)", query.query_more, "query"),
        route("POST", "/composite/sobjects", collections.create, "composite/sobjects", dml=True),
        route("PATCH", "/composite/sobjects", collections.update, "composite/sobjects", dml=True),
        route("DELETE", "/composite/sobjects", collections.delete, "composite/sobjects", dml=True),
        route(
            "GET",
            r"/composite/sobjects/(?P<obj>[A-Za-z0-9_]+)",
            collections.retrieve,
            "composite/sobjects",
        ),
        route(
            "PATCH",
            r"/composite/sobjects/(?P<obj>[A-Za-z0-9_]+)/(?P<field>[A-Za-z0-9_]+)",
            collections.upsert,
            "composite/sobjects",
            dml=True,
        ),
        route("POST", "/composite", composite.composite, "composite", dml=True),
    ]


class DataApi:
    """Matches a request to its resource and runs it in one transaction."""

    def __init__(self) -> None:
        self.router = Router(routes())

    def match(self, method: str, path: str) -> Route:
        return self.router.match(method, path)[0]

    def dispatch(self, ctx: Ctx, req: RestRequest) -> RestResponse:
        """Run one request; a Salesforce error rolls its writes back and becomes the body."""
        ctx.dispatch = self.dispatch
        try:
            r, m = self.router.match(req.method, req.path)
            with ctx.store.db.transaction():
                return r.handler(ctx, req, m)
        except SalesforceError as exc:
            return error_response(exc)
