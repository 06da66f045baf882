"""`chat-admin` against a running console: the on-call's list, replay and health."""

from __future__ import annotations

import asyncio
import contextlib
import io
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from console_service.entrypoints.cli import run

from tests.integration.console.support import (
    ADMIN_TOKEN,
    ConsoleTopics,
    console_settings,
    console_topics,
    eventually,
    produce,
    result,
    running,
)
from tests.integration.console.test_service import letter


@pytest.fixture
async def topics(kafka_bootstrap: str) -> AsyncIterator[ConsoleTopics]:
    async with console_topics(kafka_bootstrap) as made:
        yield made


async def cli(url: str, *argv: str, token: str = ADMIN_TOKEN) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()

    def call() -> int:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            return run(["--url", url, "--token", token, *argv])

    code = await asyncio.to_thread(call)
    return code, out.getvalue(), err.getvalue()


async def test_on_call_lists_failures_replays_and_reads_health(
    kafka_bootstrap: str, topics: ConsoleTopics, tmp_path: Path
) -> None:
    await produce(
        kafka_bootstrap, topics.results, result("acme", "c-1"), result("acme", "c-2", "failed")
    )
    await produce(kafka_bootstrap, topics.crm_dlq, letter())
    settings = console_settings(kafka_bootstrap, topics, f"sqlite:///{tmp_path / 'c.sqlite'}")
    async with running(settings) as console:

        async def listed() -> str | None:
            code, out, _ = await cli(console.url, "failures", "acme")
            return out if code == 0 and "c-2" in out else None

        out = await eventually(listed)
        assert "REQUIRED" not in out  # our code, not Salesforce's, in the code column
        assert "required_field_missing" in out
        assert "c-1" not in out
        code, out, _ = await cli(console.url, "dead-letters", "acme")
        assert code == 0
        assert "c-2" in out
        code, out, _ = await cli(console.url, "replay", "acme", "--all")
        assert code == 0
        assert "(1 dead letters)" in out
        code, out, _ = await cli(console.url, "health", "acme")
        assert code == 0
        assert "30d: ok 1, deduped 0, parked 0, failed 1" in out
        code, _, err = await cli(console.url, "health", "acme", token="wrong")
        assert code == 1
        assert "401" in err
        code, _, err = await cli(
            console.url, "backfill", "acme", "--from", "2026-12-02", "--to", "2026-12-01"
        )
        assert code == 1
        assert "400" in err
        code, _, err = await cli(console.url, "resync", "nobody", "c-1")
        assert (code, "404" in err) == (1, True)

        # The replay is on the audit trail as the CLI's (read back from the audit topic).
        async with console.admin() as admin:

            async def audited() -> list[tuple[str, str]]:
                items = (await admin.get("/api/tenants/acme/audit")).json()["items"]
                return [(a["actor"], a["action"]) for a in items]

            assert await eventually(audited) == [("cli", "console.replay")]
