"""`create_app()`: the Starlette application over one emulator."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route

from sf_emulator.config import EmulatorConfig
from sf_emulator.emulator import Emulator, build
from sf_emulator.http.admin import AdminEndpoints
from sf_emulator.http.data_api import DataEndpoint
from sf_emulator.http.oauth import OAuthEndpoints
from sf_emulator.http.request_size import RequestHeadLimit

METHODS = ["GET", "POST", "PATCH", "PUT", "DELETE", "HEAD"]


def create_app(config: EmulatorConfig | None = None, emulator: Emulator | None = None) -> Starlette:
    emu = emulator or build(config or EmulatorConfig())
    data = DataEndpoint(emu)
    routes = [
        Route("/services/data", data.handle, methods=METHODS),
        Route("/services/data/{rest:path}", data.handle, methods=METHODS),
        *OAuthEndpoints(emu).routes(),
        *AdminEndpoints(emu).routes(),
    ]
    app = Starlette(routes=routes, middleware=[Middleware(RequestHeadLimit)])
    app.state.emulator = emu
    return app
