"""JSON responses and request helpers shared by the endpoints."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response

JSON = "application/json;charset=UTF-8"


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    content = b"" if body is None else json.dumps(body).encode()
    return Response(content, status, headers, JSON if body is not None else None)


async def form(request: Request) -> dict[str, str]:
    """A url-encoded form, parsed without python-multipart (Starlette's form() needs it)."""
    return dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))


def base_url(request: Request) -> str:
    """The scheme and authority clients reached us at: the instance URL of every org."""
    return f"{request.url.scheme}://{request.url.netloc}"
