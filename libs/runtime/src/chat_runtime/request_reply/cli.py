"""`chat-reply-topics prune`: delete reply topics whose owner is gone.

    chat-reply-topics prune [--idle-minutes 15] [--dry-run]

A client deletes its reply topic when it stops cleanly; one killed (OOM, a node lost)
leaves it behind. Each running client writes a heartbeat on its topic every minute, so a
topic with no record for `--idle-minutes` has no owner (`topics.prune`). Kubernetes runs
this as a CronJob; it connects with the `KAFKA_*` variables every service uses and needs
only Describe and Delete on the `replies.` prefix. Prints one line per topic, exit 0.
"""

from __future__ import annotations

import argparse
import asyncio

from chat_runtime.logging import configure_logging
from chat_runtime.request_reply.topics import prune
from chat_runtime.settings import ServiceSettings, load_settings_or_exit


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and prune."""
    parser = argparse.ArgumentParser(prog="chat-reply-topics", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    pruning = commands.add_parser("prune", help="delete reply topics whose owner is gone")
    pruning.add_argument("--idle-minutes", type=float, default=15.0)
    pruning.add_argument("--dry-run", action="store_true", help="list, delete nothing")
    args = parser.parse_args(argv)
    settings = load_settings_or_exit(ServiceSettings)
    configure_logging("reply-topic-pruner", settings.log_level, settings.log_json)
    kit = settings.kafka().named("reply-topic-pruner")
    gone = asyncio.run(prune(kit, args.idle_minutes * 60, dry_run=args.dry_run))
    for topic in gone:
        print(("idle " if args.dry_run else "deleted ") + topic)


if __name__ == "__main__":
    main()
