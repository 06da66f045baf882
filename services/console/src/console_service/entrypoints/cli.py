"""`chat-admin`: the console's JSON API from a terminal, for on-call.

    chat-admin failures TENANT [--limit N]
    chat-admin dead-letters TENANT [--reason R]
    chat-admin replay TENANT (--id ID ... | --all [--reason R])
    chat-admin resync TENANT CHAT_ID
    chat-admin backfill TENANT --from ISO --to ISO
    chat-admin health TENANT

`--url` (or `CONSOLE_URL`, default http://127.0.0.1:8005) and `--token` (or
`CONSOLE_ADMIN_TOKEN`) say where and as whom; `--json` prints the API's answer as it is.
Exit status: 0 done, 1 the API refused (its message on stderr), 2 bad usage.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import Any, TextIO

import httpx

DEFAULT_URL = "http://127.0.0.1:8005"
CLI_HEADER = {"X-Chat-Admin-Client": "cli"}


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="chat-admin", description=__doc__.splitlines()[0])
    top.add_argument("--url", default=os.environ.get("CONSOLE_URL", DEFAULT_URL))
    top.add_argument("--token", default=os.environ.get("CONSOLE_ADMIN_TOKEN"))
    top.add_argument("--json", action="store_true", help="print the API's answer as is")
    commands = top.add_subparsers(dest="command", required=True)
    failures = commands.add_parser("failures", help="chats that failed")
    failures.add_argument("tenant")
    failures.add_argument("--limit", type=int, default=50)
    letters = commands.add_parser("dead-letters", help="the tenant's dead letters")
    letters.add_argument("tenant")
    letters.add_argument("--reason")
    replay = commands.add_parser("replay", help="replay dead letters")
    replay.add_argument("tenant")
    which = replay.add_mutually_exclusive_group(required=True)
    which.add_argument("--id", action="append", dest="ids", help="a dead letter's id")
    which.add_argument("--all", action="store_true", help="every dead letter (of --reason)")
    replay.add_argument("--reason")
    resync = commands.add_parser("resync", help="write one chat again")
    resync.add_argument("tenant")
    resync.add_argument("chat_id")
    backfill = commands.add_parser("backfill", help="write again the chats of a window")
    backfill.add_argument("tenant")
    backfill.add_argument("--from", dest="start", required=True)
    backfill.add_argument("--to", dest="end", required=True)
    health = commands.add_parser("health", help="connection, counts, budget")
    health.add_argument("tenant")
    return top


def request(args: argparse.Namespace) -> tuple[str, str, dict[str, Any]]:
    """The API call a command is: method, path, and params or JSON body."""
    base = f"/api/tenants/{args.tenant}"
    if args.command == "failures":
        return "GET", f"{base}/chats", {"params": {"status": "failed", "limit": args.limit}}
    if args.command == "dead-letters":
        params = {"reason": args.reason} if args.reason else {}
        return "GET", f"{base}/dead-letters", {"params": params}
    if args.command == "replay":
        body: dict[str, Any] = {"all": True} if args.all else {"ids": args.ids}
        if args.reason:
            body["reason"] = args.reason
        return "POST", f"{base}/dead-letters/replay", {"json": body}
    if args.command == "resync":
        return "POST", f"{base}/chats/{args.chat_id}/resync", {}
    if args.command == "backfill":
        return "POST", f"{base}/backfill", {"json": {"from": args.start, "to": args.end}}
    return "GET", f"{base}/health", {}


def render(command: str, body: dict[str, Any], out: TextIO) -> None:
    """A plain table (lists) or key: value lines (the rest)."""
    if command == "failures":
        for c in body["items"]:
            error = c.get("error") or {}
            print(
                f"{c['chat_id']}\t{c['updated_at']}\t{error.get('code')}\t{error.get('message')}",
                file=out,
            )
    elif command == "dead-letters":
        for d in body["items"]:
            print(f"{d['id']}\t{d['reason']}\t{d['chat_id']}\t{d['message']}", file=out)
    elif command == "health":
        counts = body["counts"]
        print(f"connection: {body['connection']['state']}", file=out)
        for window in ("24h", "30d"):
            print(
                f"{window}: " + ", ".join(f"{k} {v}" for k, v in counts[window].items()), file=out
            )
        print(
            f"api calls 24h: {body['api_calls']['24h']:.0f} of {body['api_calls']['daily_limit']}",
            file=out,
        )
        print(f"dead letters: {body['dead_letters']}", file=out)
    else:
        ids = body.get("command_ids", [])
        extra = f" ({body['letters']} dead letters)" if body.get("letters") else ""
        print(f"requested: {', '.join(ids)}{extra}", file=out)


def run(argv: Sequence[str] | None = None, *, transport: httpx.BaseTransport | None = None) -> int:
    args = parser().parse_args(argv)
    if not args.token:
        print("chat-admin: give --token or set CONSOLE_ADMIN_TOKEN", file=sys.stderr)
        return 2
    method, path, options = request(args)
    headers = {"Authorization": f"Bearer {args.token}", **CLI_HEADER}
    try:
        with httpx.Client(
            base_url=args.url, headers=headers, timeout=30, transport=transport
        ) as api:
            response = api.request(method, path, **options)
    except httpx.HTTPError as exc:
        print(f"chat-admin: {args.url} did not answer: {exc}", file=sys.stderr)
        return 1
    try:
        body = response.json()
    except ValueError:
        body = {"error": response.text[:500]}
    if response.status_code >= 400:
        print(f"chat-admin: {response.status_code}: {body.get('error')}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(body, indent=2))
    else:
        render(args.command, body, sys.stdout)
    return 0


def main() -> None:
    sys.exit(run())
