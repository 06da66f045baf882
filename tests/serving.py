"""A service's ASGI app served by uvicorn inside the test's event loop, its logs into a
stream the test can read (what auth's and the console's integration tests run)."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable
from typing import Self

import uvicorn
from faststream.asgi import AsgiFastStream

from chat_runtime.app import make_server
from chat_runtime.logging import configure_logging
from chat_runtime.settings import ServiceSettings

WAIT_S = 30.0


class Served:
    """`make_app()` served on `settings`' host and port until `stop()`."""

    def __init__(
        self,
        make_app: Callable[[], AsgiFastStream],
        settings: ServiceSettings,
        logs: io.StringIO,
    ) -> None:
        self._make_app = make_app
        self._settings = settings
        self.url = f"http://127.0.0.1:{settings.http_port}"
        self.logs = logs
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> Self:
        app = self._make_app()
        name = self._settings.service_name
        configure_logging(name, self._settings.log_level, True, stream=self.logs)
        self._server = make_server(app, self._settings)
        self._task = asyncio.create_task(self._server.serve())
        async with asyncio.timeout(WAIT_S):
            while not self._server.started:
                assert not self._task.done(), f"{name} stopped while starting"
                await asyncio.sleep(0.02)
        return self

    async def stop(self) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            await asyncio.wait_for(self._task, WAIT_S)
