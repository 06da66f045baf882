"""The HTTP session simple-salesforce runs on: CA trust, timeouts, pooling, no cookies.

CA trust, and the catch it avoids: requests lets `REQUESTS_CA_BUNDLE` (set on many
machines) replace a session's `verify` on every request, so `session.verify = ca.pem`
alone silently trusts the wrong CAs there. `SalesforceSession` reads the environment once
instead (requests re-reads it, and `~/.netrc`, on every call: a fifth of a query's CPU):
a CA file given here always wins; without one `REQUESTS_CA_BUNDLE`/`CURL_CA_BUNDLE` or
the system's CAs apply, as for a real org; proxy variables (and `NO_PROXY`) still apply,
looked up once per host.

For the local emulator point `ca_file` at its `ca.pem`, or at its `bundle.pem` (the
system's CAs plus the emulator's) to reach real hosts with the same session.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import dataclass
from http.cookiejar import DefaultCookiePolicy
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from requests.utils import get_environ_proxies


@dataclass(frozen=True, slots=True)
class HttpOptions:
    """How the gateway talks HTTP to Salesforce."""

    ca_file: str | None = None
    """PEM file of the CAs to trust instead of the system's (the emulator's `ca.pem`)."""
    timeout_s: float = 30.0
    """Connect and read timeout of one call; a call never waits longer."""
    pool_size: int = 32
    """Connections kept per host (at least the gateway's thread count)."""


class SalesforceSession(requests.Session):
    """A requests session with a default timeout, a pinned CA file and a response hook.

    Thread-safe for the way simple-salesforce uses it (urllib3's pool is; cookies are
    refused, so the jar is never written).
    """

    def __init__(
        self,
        options: HttpOptions,
        on_response: Callable[[requests.Response], None] | None = None,
    ) -> None:
        super().__init__()
        self._timeout = options.timeout_s
        if options.ca_file is not None and not Path(options.ca_file).is_file():
            raise FileNotFoundError(f"Salesforce CA file not found: {options.ca_file}")
        self.trust_env = False
        self.verify = (
            options.ca_file
            or os.environ.get("REQUESTS_CA_BUNDLE")
            or os.environ.get("CURL_CA_BUNDLE")
            or True
        )
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=options.pool_size, max_retries=0)
        self.mount("https://", adapter)
        self.mount("http://", adapter)
        # Bearer tokens authenticate every call; Salesforce's cookies would only be shared
        # state between threads and tenants.
        self.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
        if on_response is not None:
            self.hooks["response"].append(lambda response, *a, **kw: on_response(response))

    def request(self, method: str, url: Any, *args: Any, **kwargs: Any) -> requests.Response:
        """`Session.request` with the configured timeout unless the call passes one."""
        kwargs.setdefault("timeout", self._timeout)
        return super().request(method, url, *args, **kwargs)

    def merge_environment_settings(
        self,
        url: str,
        proxies: dict[str, str] | None,
        stream: bool | None,
        verify: Any,
        cert: Any,
    ) -> dict[str, Any]:
        """The session's settings, plus the environment's proxies for the URL's host."""
        settings = super().merge_environment_settings(url, proxies, stream, verify, cert)
        if not settings.get("proxies"):
            parts = urlsplit(url)
            settings["proxies"] = _environ_proxies(f"{parts.scheme}://{parts.netloc}")
        return settings


@functools.lru_cache(maxsize=256)
def _environ_proxies(origin: str) -> dict[str, str]:
    return dict(get_environ_proxies(origin))
