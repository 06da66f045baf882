"""Builds a service's app from the environment, as its Deployment would, and describes it.

    python tests/unit/deploy/app_probe.py <import name>   # prints one JSON object

Run in a subprocess by the deploy tests, with the environment a Deployment gives its
container: the settings are loaded exactly as in the pod, and the app is created (nothing
is started, no broker is contacted). Prints the settings the manifests must agree with,
the subscribers the broker holds (topics, consumer group) and the metric names the app's
/metrics serves.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import sys
from typing import Any

import httpx


def _subscribers(app: Any) -> list[dict[str, Any]]:
    """The broker's subscribers and the consumers the service declared it runs itself."""
    from chat_runtime.app import OWN_CONSUMERS

    found = []
    for sub in app.broker.subscribers:
        names = getattr(sub, "topic_names", None) or [t.name for t in sub.topics]
        found.append({"topics": sorted(names), "group": sub.group_id})
    return found + list(app.context.get(OWN_CONSUMERS) or [])


async def _metric_names(app: Any) -> list[str]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://probe") as client:
        response = await client.get("/metrics")
    response.raise_for_status()
    return sorted(
        {line.split()[2] for line in response.text.splitlines() if line.startswith("# TYPE ")}
    )


def main(module: str) -> None:
    config = importlib.import_module(f"{module}.config")
    app_module = importlib.import_module(f"{module}.app")
    from chat_runtime.settings import load_settings

    settings = load_settings(config.Settings)
    app = app_module.create_app(settings)
    description = {
        "service_name": settings.service_name,
        "group_id": settings.group_id,
        "http_port": settings.http_port,
        "shutdown_timeout_s": settings.shutdown_timeout_s,
        "env_prefix": config.Settings.model_config.get("env_prefix", ""),
        "subscribers": _subscribers(app),
        "metrics": asyncio.run(_metric_names(app)),
    }
    # Logging may write to stdout; the description is the last line.
    print("\n" + json.dumps(description))


if __name__ == "__main__":
    main(sys.argv[1])
