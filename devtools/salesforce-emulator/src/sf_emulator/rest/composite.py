"""Composite: up to 25 subrequests in one call (one API call counted), at most 5 of them
sObject Collections or queries, `@{ref.path}` references to earlier results, and
`allOrNone` as one transaction.

Over a limit, Salesforce answers HTTP 200 with one `LIMIT_EXCEEDED` entry [S20, S14]; a
reference to a value that is null halts the subrequest [S16]; an injected lock fails each
write inside the 200 [S15].
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from sf_emulator.errors import SalesforceError, json_parser_error
from sf_emulator.rest.router import (
    Ctx,
    RestRequest,
    RestResponse,
    lock_failure,
    strip_path,
    supported_version,
)
from sf_emulator.store.db import Rollback

MAX_SUBREQUESTS = 25
MAX_HEAVY = 5
"""sObject Collections and query subrequests together [S14]."""
_REF = re.compile(r"@\{([A-Za-z0-9_]+)((?:\.[A-Za-z0-9_]+|\[\d+\])*)\}")
_URL = re.compile(r"^/services/data/v(\d+\.\d)(/.*)?$")
HALTED = "The transaction was rolled back since another operation in the same transaction failed."


class _Unresolved(Exception):
    pass


def _resolve(expr: str, refs: dict[str, Any]) -> str:
    def one(m: re.Match[str]) -> str:
        name = m[0][2:-1]
        if m[1] not in refs:
            raise _Unresolved(name)
        value: Any = refs[m[1]]
        for step in re.findall(r"\.([A-Za-z0-9_]+)|\[(\d+)\]", m[2]):
            try:
                value = value[step[0]] if step[0] else value[int(step[1])]
            except (KeyError, IndexError, TypeError):
                raise _Unresolved(name) from None
        if value is None:
            raise _Unresolved(name)
        return str(value)

    return _REF.sub(one, expr)


def _substitute(value: Any, refs: dict[str, Any]) -> Any:
    if isinstance(value, str):
        return _resolve(value, refs)
    if isinstance(value, dict):
        return {k: _substitute(v, refs) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, refs) for v in value]
    return value


def _halted(ref_id: str, message: str = HALTED) -> dict[str, Any]:
    return {
        "body": [{"errorCode": "PROCESSING_HALTED", "message": message}],
        "httpHeaders": {},
        "httpStatusCode": 400,
        "referenceId": ref_id,
    }


# Headers of the Composite call that apply to each subrequest (inferred from [S37]).
INHERITED_HEADERS = ("sforce-duplicate-rule-header", "sforce-auto-assign")


def _subrequest(
    ctx: Ctx, sub: dict[str, Any], refs: dict[str, Any], inherited: dict[str, str]
) -> RestResponse:
    url = urlsplit(_resolve(str(sub.get("url", "")), refs))
    m = _URL.match(url.path)
    if m is None or not supported_version(m[1]):
        raise SalesforceError(404, "NOT_FOUND", "The requested resource does not exist")
    path = strip_path(m[2] or "")
    if path.startswith("/composite") and not path.startswith("/composite/sobjects"):
        raise SalesforceError(400, "INVALID_API_INPUT", "Composite requests cannot be nested")
    own = {k.lower(): str(v) for k, v in (sub.get("httpHeaders") or {}).items()}
    headers = {**inherited, **own}
    method = str(sub.get("method", "GET")).upper()
    if ctx.lock and method != "GET":
        resource = "composite/sobjects" if path.startswith("/composite/sobjects") else "sobjects"
        return lock_failure(resource, sub.get("body"), dict(parse_qsl(url.query)))
    req = RestRequest(
        str(sub.get("method", "GET")).upper(),
        path,
        dict(parse_qsl(url.query)),
        _substitute(sub.get("body"), refs),
        headers,
    )
    sub_ctx = Ctx(ctx.store, ctx.engine, ctx.org, ctx.user_id, m[1], ctx.dispatch)
    assert ctx.dispatch is not None
    return ctx.dispatch(sub_ctx, req)


def _limit_exceeded(message: str) -> RestResponse:
    entry = {
        "body": [{"errorCode": "LIMIT_EXCEEDED", "message": message}],
        "httpHeaders": {},
        "httpStatusCode": 400,
        "referenceId": None,
    }
    return RestResponse(200, {"compositeResponse": [entry]})


def _heavy(sub: dict[str, Any]) -> bool:
    path = urlsplit(str(sub.get("url", ""))).path
    return "/composite/sobjects" in path or path.endswith(("/query", "/queryAll"))


def composite(ctx: Ctx, req: RestRequest, m: re.Match[str]) -> RestResponse:
    body = req.body
    if not isinstance(body, dict) or not isinstance(body.get("compositeRequest"), list):
        raise json_parser_error("The request body must have a compositeRequest array")
    subs: list[dict[str, Any]] = body["compositeRequest"]
    if len(subs) > MAX_SUBREQUESTS:
        return _limit_exceeded("The request can\u2019t contain more than 25 operations.")
    if sum(1 for s in subs if _heavy(s)) > MAX_HEAVY:
        # The code and shape are those of the 25 limit [S20]; the message is inferred.
        return _limit_exceeded(
            "The request can\u2019t contain more than 5 sObject Collections or query operations."
        )
    all_or_none = bool(body.get("allOrNone", False))
    inherited = {k: req.headers[k] for k in INHERITED_HEADERS if k in req.headers}
    out: list[dict[str, Any]] = []
    refs: dict[str, Any] = {}
    try:
        with ctx.store.db.transaction():
            for sub in subs:
                ref_id = str(sub.get("referenceId", ""))
                try:
                    with ctx.store.db.transaction():
                        resp = _subrequest(ctx, sub, refs, inherited)
                        if resp.status >= 400:
                            raise Rollback
                except _Unresolved as exc:
                    out.append(
                        _halted(
                            ref_id,
                            f"Invalid reference specified. No value for {exc} found in {ref_id}.",
                        )
                    )
                    continue
                except SalesforceError as exc:
                    resp = RestResponse(exc.status, exc.body())
                except Rollback:
                    pass
                out.append(
                    {
                        "body": resp.body,
                        "httpHeaders": resp.headers,
                        "httpStatusCode": resp.status,
                        "referenceId": ref_id,
                    }
                )
                if resp.status < 300:
                    refs[ref_id] = resp.body
            if all_or_none and any(r["httpStatusCode"] >= 400 for r in out):
                raise Rollback
    except Rollback:
        first_error = next(i for i, r in enumerate(out) if r["httpStatusCode"] >= 400)
        out = [r if i == first_error else _halted(r["referenceId"]) for i, r in enumerate(out)]
    return RestResponse(200, {"compositeResponse": out})
