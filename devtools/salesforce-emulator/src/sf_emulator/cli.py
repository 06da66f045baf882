"""`salesforce-emulator`: serve the emulator over HTTPS on loopback.

Prints one JSON line on stdout once it accepts connections:
`{"event": "ready", "url", "ca_file", "ca_bundle", "seeded": [org ids]}`; test fixtures and
`make run` wait for it (with `--port 0` it is how they learn the port).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import sys
from pathlib import Path
from typing import Any

import uvicorn

from sf_emulator.app import create_app
from sf_emulator.config import EmulatorConfig
from sf_emulator.emulator import build
from sf_emulator.seed import apply_seed
from sf_emulator.tls import ensure_tls


def _default_tls_dir() -> Path:
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "salesforce-emulator" / "tls"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="salesforce-emulator", description=__doc__.splitlines()[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8800, help="0 picks a free port")
    p.add_argument("--data", default=":memory:", help="SQLite file (default: in memory)")
    p.add_argument("--seed", type=Path, help="JSON file of orgs to create at start")
    p.add_argument(
        "--tls-dir",
        type=Path,
        default=None,
        help="where ca.pem/server.pem/server.key live (created if missing); "
        "default: the user cache directory",
    )
    p.add_argument(
        "--no-tls",
        action="store_true",
        help="plain HTTP (simple-salesforce cannot use it: it always says https)",
    )
    p.add_argument(
        "--session-timeout",
        type=int,
        default=7200,
        help="default session timeout of new orgs, in seconds",
    )
    p.add_argument("--log-level", default="warning")
    return p.parse_args(argv)


class _Server(uvicorn.Server):
    """Announces readiness once the socket is served, not merely bound."""

    def __init__(self, config: uvicorn.Config, ready: dict[str, Any]) -> None:
        super().__init__(config)
        self.ready = ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        print(json.dumps({"event": "ready", **self.ready}), flush=True)


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto must be IPPROTO_TCP: asyncio sets TCP_NODELAY only on such sockets, and
    # without it every response waits ~40 ms for a delayed ACK (Nagle).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.listen(1024)
    sock.set_inheritable(True)
    return sock


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sock = _bind(args.host, args.port)
    port = sock.getsockname()[1]
    shown = f"[{args.host}]" if ":" in args.host else args.host
    scheme = "http" if args.no_tls else "https"
    url = f"{scheme}://{shown}:{port}"
    emu = build(EmulatorConfig(data=args.data, session_timeout=args.session_timeout))
    seeded = [o["org_id"] for o in apply_seed(emu, args.seed, url)] if args.seed else []
    ssl: dict[str, Any] = {}
    ready: dict[str, Any] = {"url": url, "ca_file": None, "ca_bundle": None, "seeded": seeded}
    if not args.no_tls:
        files = ensure_tls(args.tls_dir or _default_tls_dir())
        ssl = {"ssl_certfile": str(files.cert), "ssl_keyfile": str(files.key)}
        ready.update(ca_file=str(files.ca), ca_bundle=str(files.bundle))
    config = uvicorn.Config(
        create_app(emulator=emu),
        log_level=args.log_level,
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=1,
        # h11 would refuse a head over 16 KiB itself (400); let the emulator answer it as
        # Salesforce does (414/431, see http/request_size.py).
        h11_max_incomplete_event_size=256 * 1024,
        **ssl,
    )
    server = _Server(config, ready)
    try:
        asyncio.run(server.serve(sockets=[sock]))
    except KeyboardInterrupt:
        pass
    finally:
        emu.store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
