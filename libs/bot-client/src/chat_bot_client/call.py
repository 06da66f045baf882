"""`python -m chat_bot_client.call '<request JSON>'`: send one bot action, print the reply.

    .venv/bin/python -m chat_bot_client.call '{"action": "list_objects", "tenant_id": "10000"}'

The request is sent as any caller would send it (keyed by its `tenant_id`, with
`reply_to`, `correlation_id` and `deadline` headers) on `--topic` (default
`bot.actions.v1`); the reply's JSON is printed. Exit status 1 on an error reply, 2 when
no reply came before `--timeout` seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Mapping

from chat_contracts.keys import tenant_key
from chat_contracts.topics import BOT_ACTIONS
from chat_runtime.request_reply import RequestReplyClient, RequestTimeout


async def call(
    bootstrap: str,
    topic: str,
    request: Mapping[str, object],
    timeout: float,  # noqa: ASYNC109 - the request's deadline, part of the protocol
) -> int:
    """Send `request`, print its reply; the process exit status."""
    async with RequestReplyClient(bootstrap, name="bot-actions-call") as client:
        try:
            reply = await client.request(
                topic, request, key=tenant_key(str(request["tenant_id"])), timeout=timeout
            )
        except RequestTimeout as exc:
            print(f"no reply: {exc}", file=sys.stderr)
            return 2
    body = reply.json()
    print(json.dumps(body, indent=2))
    return 1 if body.get("status") == "error" else 0


def main() -> None:
    """Parse the command line and send the request."""
    parser = argparse.ArgumentParser(prog="python -m chat_bot_client.call", description=__doc__)
    parser.add_argument("request", help="the request body, JSON")
    parser.add_argument("--topic", default=BOT_ACTIONS.name)
    parser.add_argument("--timeout", type=float, default=10.0)
    parser.add_argument(
        "--bootstrap", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    )
    args = parser.parse_args()
    request = json.loads(args.request)
    sys.exit(asyncio.run(call(args.bootstrap, args.topic, request, args.timeout)))


if __name__ == "__main__":
    main()
