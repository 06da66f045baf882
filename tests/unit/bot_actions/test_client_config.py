"""The SDK against a fake request/reply client, and the settings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from bot_actions.config import Settings
from chat_bot_client.client import BotActionFailed, BotActionsClient
from chat_contracts.bot_replies import BotErrorReply, RecordFoundReply, RecordWrittenReply
from chat_runtime.request_reply.protocol import Reply


class FakeRR:
    def __init__(self, answer: Any) -> None:
        self.answer = answer
        self.sent: list[tuple[str, Any, bytes | None, float | None]] = []

    async def request(
        self,
        topic: str,
        value: Any,
        *,
        key: bytes | None = None,
        timeout: float | None = None,  # noqa: ASYNC109
        headers: Mapping[str, str] | None = None,
    ) -> Reply:
        self.sent.append((topic, value, key, timeout))
        return Reply(self.answer.model_dump_json().encode(), {}, "c")


async def test_methods_send_the_documented_requests() -> None:
    rr = FakeRR(
        RecordWrittenReply(tenant_id="t1", status="created", record_id="00Q000000000001AAA")
    )
    client = BotActionsClient(rr, topic="bot", timeout=3)
    reply = await client.create_record("t1", "Lead", {"LastName": "x"}, update_if_exists="Email")
    assert reply.record_id == "00Q000000000001AAA"
    topic, request, key, timeout = rr.sent[0]
    assert (topic, key, timeout) == ("bot", b"t1", 3)
    assert request.update_if_exists.match_field == "Email"


async def test_error_replies_raise() -> None:
    rr = FakeRR(BotErrorReply(tenant_id="t1", code="not_connected", message="no"))
    with pytest.raises(BotActionFailed) as exc:
        await BotActionsClient(rr).find_record("t1", "Lead", "Email", "x")
    assert exc.value.code == "not_connected"
    found = FakeRR(RecordFoundReply(tenant_id="t1", variables={"a": 1}))
    assert (
        await BotActionsClient(found).find_record_by_soql("t1", "SELECT Id FROM Lead")
    ).status == "found"
    with pytest.raises(TypeError):
        await BotActionsClient(found).list_objects("t1")


def test_settings_defaults_and_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT_ACTIONS_SALESFORCE_PER_TENANT", "3")
    settings = Settings()
    assert settings.http_port == 8003
    assert settings.request_topic == "bot.actions.v1"
    assert settings.token_topic == "auth.token-requests.v1"
    assert settings.group_id == "bot-actions"
    assert settings.gateway_options().per_tenant == 3
