"""What the OAuth endpoints share: which login host (production or sandbox) was used."""

from __future__ import annotations

from starlette.requests import Request

from sf_emulator.emulator import Emulator
from sf_emulator.http.responses import base_url


class LoginHost:
    """Production orgs log in at the root (login.salesforce.com), sandboxes under the
    sandbox prefix (test.salesforce.com)."""

    def __init__(self, emulator: Emulator) -> None:
        self.emu = emulator

    def _sandbox(self, request: Request) -> bool:
        return request.url.path.startswith(self.emu.config.sandbox_prefix + "/")

    def _login_base(self, request: Request) -> str:
        prefix = self.emu.config.sandbox_prefix if self._sandbox(request) else ""
        return base_url(request) + prefix
