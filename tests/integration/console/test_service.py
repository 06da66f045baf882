"""The console against the real broker: its topics into the history, the API's access rules,
the repairs on crm.commands.v1, and a history rebuilt from the topics."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from chat_contracts.audit import AuditEvent
from chat_contracts.auth_events import ConnectedEvent, RevokedEvent
from chat_contracts.crm import CommandAcceptedReply, ReplayDeadLettersCommand, ResyncChatCommand
from chat_contracts.dlq import DeadLetter, DeadLetterReason
from chat_contracts.registry import value_adapter
from chat_contracts.topics import CRM_COMMANDS
from chat_runtime.request_reply.protocol import CORRELATION_ID, REPLY_TO
from tests.integration.console.support import (
    ConsoleTopics,
    console_settings,
    console_topics,
    eventually,
    link,
    produce,
    result,
    running,
)

CONVERSATION = (
    b'{"schema_version":1,"tenant_id":"acme","kind":"chat","chat_id":"c-2",'
    b'"visitor":{"email":"c-2@example.com"}}'
)


@pytest.fixture
async def topics(kafka_bootstrap: str) -> AsyncIterator[ConsoleTopics]:
    async with console_topics(kafka_bootstrap) as made:
        yield made


def letter(tenant: str = "acme") -> DeadLetter:
    return DeadLetter(
        tenant_id=tenant,
        reason=DeadLetterReason.REQUIRED_FIELD_MISSING,
        message="Required fields are missing: [Reason__c]",
        error_code="REQUIRED_FIELD_MISSING",
        service="crm-sync",
        original_value=CONVERSATION,
    )


async def feed(bootstrap: str, topics: ConsoleTopics) -> None:
    await produce(
        bootstrap,
        topics.results,
        result("acme", "c-1"),
        result("acme", "c-2", "failed"),
        result("globex", "g-1"),
    )
    await produce(bootstrap, topics.crm_dlq, letter())
    await produce(
        bootstrap,
        topics.connections,
        ConnectedEvent(
            tenant_id="acme",
            org_id="00D000000000001AAA",
            user_id="005000000000001AAA",
            username="admin@acme.test",
            instance_url="https://acme.my.salesforce.com",
            sandbox=False,
        ),
        RevokedEvent(tenant_id="globex", message="expired access/refresh token"),
    )
    await produce(
        bootstrap,
        topics.audit,
        AuditEvent(tenant_id="acme", service="auth", actor="admin", action="settings.update"),
    )


async def test_the_topics_land_in_the_history_and_the_api_shows_them(
    kafka_bootstrap: str, topics: ConsoleTopics, tmp_path: Path
) -> None:
    await feed(kafka_bootstrap, topics)
    settings = console_settings(kafka_bootstrap, topics, f"sqlite:///{tmp_path / 'c.sqlite'}")
    async with running(settings) as console, console.admin() as admin:

        async def chats() -> Any:
            response = await admin.get("/api/tenants/acme/chats")
            body = response.json()
            return body if len(body.get("items", [])) == 2 else None

        body = await eventually(chats)
        by_id = {c["chat_id"]: c for c in body["items"]}
        assert by_id["c-1"]["status"] == "ok"
        assert by_id["c-1"]["records"]["activity"] == {
            "object": "Task",
            "id": "00T000000000001AAA",
            "outcome": "created",
        }
        assert by_id["c-2"]["error"]["salesforce_error_code"] == "REQUIRED_FIELD_MISSING"
        assert "Reason__c" in by_id["c-2"]["error"]["message"]
        failed = (await admin.get("/api/tenants/acme/chats", params={"status": "failed"})).json()
        assert [c["chat_id"] for c in failed["items"]] == ["c-2"]
        letters = (await admin.get("/api/tenants/acme/dead-letters")).json()["items"]
        assert [(d["reason"], d["chat_id"]) for d in letters] == [("required_field_missing", "c-2")]
        health = (await admin.get("/api/tenants/acme/health")).json()
        assert health["connection"]["state"] == "connected"
        assert health["counts"]["30d"]["failed"] == 1
        assert (await admin.get("/api/tenants/globex/health")).json()["connection"][
            "state"
        ] == "revoked"
        audit = (await admin.get("/api/tenants/acme/audit")).json()["items"]
        assert [a["action"] for a in audit] == ["settings.update"]
        detail = (await admin.get("/api/tenants/acme/chats/c-2")).json()
        assert [a["status"] for a in detail["attempts"]] == ["failed"]

        async def counted() -> bool:
            metrics = (await admin.get("/metrics")).text
            # Three results, a dead letter, two connection events, an audit event.
            return "chat_console_history_records_total 7.0" in metrics

        assert await eventually(counted)


async def test_access_is_the_connect_pages_and_no_tenant_sees_another(
    kafka_bootstrap: str, topics: ConsoleTopics, tmp_path: Path
) -> None:
    await feed(kafka_bootstrap, topics)
    settings = console_settings(kafka_bootstrap, topics, f"sqlite:///{tmp_path / 'c.sqlite'}")
    async with running(settings) as console, console.anonymous() as web:
        async with console.admin() as admin:

            async def known() -> bool:
                response = await admin.get("/api/tenants/globex/chats")
                return response.status_code == 200 and bool(response.json()["items"])

            await eventually(known)
        assert (await web.get("/api/tenants/acme/chats")).status_code == 401
        bad = {"Authorization": "Bearer wrong"}
        assert (await web.get("/api/tenants/acme/chats", headers=bad)).status_code == 401
        # acme's link: acme's chats only; 403 on globex, even naming globex elsewhere.
        acme = link("acme")
        own = await web.get("/api/tenants/acme/chats", params=acme)
        assert own.status_code == 200
        assert {c["chat_id"] for c in own.json()["items"]} == {"c-1", "c-2"}
        assert (await web.get("/api/tenants/globex/chats", params=acme)).status_code == 403
        assert (
            await web.get("/api/tenants/globex/chats", params={**acme, "tenant": "globex"})
        ).status_code == 403
        assert (await web.post("/api/tenants/globex/backfill", params=acme)).status_code == 403
        tampered = {**acme, "expires": str(int(acme["expires"]) + 60)}
        assert (await web.get("/api/tenants/acme/chats", params=tampered)).status_code == 403
        async with console.admin() as admin:
            assert (await admin.get("/api/tenants/initech/chats")).status_code == 404
        # Pages: the same rules, a strict CSP, escaped values.
        page = await web.get("/console/acme/chats", params=acme)
        assert page.status_code == 200
        assert "script-src" not in page.headers["content-security-policy"]
        assert "default-src 'none'" in page.headers["content-security-policy"]
        assert "g-1" not in page.text
        assert "c-2" in page.text
        assert "https://acme.my.salesforce.com/00T000000000001AAA" in page.text
        assert (await web.get("/console/globex", params=acme)).status_code == 403
        overview = await web.get("/console/acme", params=acme)
        assert overview.text.count("<svg") == 3
        for caption in ("Chats per hour, last 24 h", "API calls per day against the daily limit"):
            assert f"<figcaption>{caption}</figcaption>" in overview.text
        revoked = await web.get("/console/globex", params=link("globex"))
        assert "revoked" in revoked.text
        assert 'class="banner bad"' in revoked.text
    logged = console.logs.getvalue()
    assert acme["sig"] not in logged


async def test_repairs_go_to_crm_sync_and_its_answer_is_recorded(
    kafka_bootstrap: str, topics: ConsoleTopics, tmp_path: Path
) -> None:
    await feed(kafka_bootstrap, topics)
    settings = console_settings(kafka_bootstrap, topics, f"sqlite:///{tmp_path / 'c.sqlite'}")
    reader = AIOKafkaConsumer(
        topics.commands, bootstrap_servers=kafka_bootstrap, auto_offset_reset="earliest"
    )
    await reader.start()
    adapter = value_adapter(CRM_COMMANDS.name)
    try:
        async with running(settings) as console, console.admin() as admin:

            async def landed() -> Any:
                response = await admin.get("/api/tenants/acme/dead-letters")
                return response.json()["items"] if response.status_code == 200 else None

            (dead,) = await eventually(landed)
            resync = await admin.post("/api/tenants/acme/chats/c-2/resync")
            assert resync.status_code == 202, resync.text
            replay = await admin.post(
                "/api/tenants/acme/dead-letters/replay", json={"ids": [dead["id"]]}
            )
            assert replay.status_code == 202, replay.text
            assert replay.json()["letters"] == 1
            other = await admin.post(
                "/api/tenants/globex/dead-letters/replay", json={"ids": [dead["id"]]}
            )
            assert other.status_code == 404
            bad = await admin.post(
                "/api/tenants/acme/backfill", json={"from": "2026-12-02", "to": "2026-12-01"}
            )
            assert bad.status_code == 400

            sent: list[Any] = []
            async with asyncio.timeout(30):
                while len(sent) < 2:
                    for messages in (await reader.getmany(timeout_ms=500)).values():
                        sent.extend(messages)
            commands = [adapter.validate_json(m.value) for m in sent]
            assert isinstance(commands[0], ResyncChatCommand)
            assert commands[0].chat_id == "c-2"
            assert commands[0].source is not None
            assert commands[0].source.offset == 3
            assert isinstance(commands[1], ReplayDeadLettersCommand)
            assert [p.offset for p in commands[1].letters] == [int(dead["id"].rsplit(":", 1)[1])]
            # crm-sync's part, played here: answer the replay on the console's reply topic.
            headers = dict(sent[1].headers)
            answer = CommandAcceptedReply(
                tenant_id="acme", command="replay_dead_letters", requeued=1
            )
            producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
            await producer.start()
            try:
                await producer.send_and_wait(
                    headers[REPLY_TO].decode(),
                    answer.model_dump_json().encode(),
                    headers=[(CORRELATION_ID, headers[CORRELATION_ID])],
                )
            finally:
                await producer.stop()

            async def answered() -> Any:
                items = (await admin.get("/api/tenants/acme/commands")).json()["items"]
                return [c for c in items if c["status"] == "accepted"]

            (accepted,) = await eventually(answered)
            assert accepted["kind"] == "replay_dead_letters"
            assert accepted["requeued"] == 1
            letters = (await admin.get("/api/tenants/acme/dead-letters")).json()["items"]
            assert letters[0]["replay_requested_at"] is not None
    finally:
        await reader.stop()


async def test_an_empty_database_rebuilds_the_same_history_from_the_topics(
    kafka_bootstrap: str, topics: ConsoleTopics, tmp_path: Path
) -> None:
    await feed(kafka_bootstrap, topics)

    async def snapshot(database: Path, group: str) -> Any:
        settings = console_settings(
            kafka_bootstrap, topics, f"sqlite:///{database}", group_id=group
        )
        async with running(settings) as console, console.admin() as admin:

            async def full() -> Any:
                body = (await admin.get("/api/tenants/acme/chats")).json()
                letters = (await admin.get("/api/tenants/acme/dead-letters")).json()
                done = len(body.get("items", [])) == 2 and letters.get("items")
                return (body, letters) if done else None

            return await eventually(full)

    first = await snapshot(tmp_path / "a.sqlite", "console-a")
    # The same group (its Kafka offsets committed at the end), a new database: the console
    # reads from where the database says, i.e. from the start.
    rebuilt = await snapshot(tmp_path / "b.sqlite", "console-a")
    again = await snapshot(tmp_path / "b.sqlite", "console-b")
    assert first == rebuilt == again
