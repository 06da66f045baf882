"""The AsyncAPI document: generated from the code, committed, and checked against it."""

from __future__ import annotations

from typing import Any

from chat_contracts.registry import CONTRACTS, all_models
from deploy import asyncapi


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def _resolve(doc: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = doc
    for part in ref[2:].split("/"):
        node = node[part]
    return node


def test_the_committed_document_is_the_codes() -> None:
    # `make test` fails here when a contract changes without the document changing with it
    # (regenerate with `python -m deploy.asyncapi`).
    assert asyncapi.main(["--check"]) == 0


def test_every_topic_message_and_operation_is_in_it_and_every_ref_resolves() -> None:
    doc = asyncapi.document()
    assert doc["asyncapi"] == "3.0.0"
    addresses = {c["address"] for c in doc["channels"].values()}
    assert {name for name in CONTRACTS} <= addresses
    assert {m.__name__ for m in all_models()} <= set(doc["components"]["messages"])
    for ref in _refs(doc):
        _resolve(doc, ref)  # KeyError when a reference points nowhere
    operations = doc["operations"]
    assert operations["crm-sync.receive.chat_conversations_v1"]["action"] == "receive"
    assert operations["ingest-webhook.send.chat_raw_v1"]["action"] == "send"


def test_request_reply_operations_name_their_reply() -> None:
    doc = asyncapi.document()
    answered = doc["operations"]["bot-actions.receive.bot_actions_v1"]
    assert answered["reply"]["address"]["location"] == "$message.header#/reply_to"
    replies = _resolve(doc, answered["reply"]["channel"]["$ref"])
    assert "ErrorReply" in replies["messages"]
    asked = doc["operations"]["bot-runtime.send.bot_actions_v1"]
    assert "reply" in asked
    for ref in doc["channels"]["bot_actions_v1"]["messages"].values():
        request = _resolve(doc, ref["$ref"])
        assert "reply_to" in request["headers"]["properties"]


def test_the_html_page_names_every_topic() -> None:
    doc = asyncapi.document()
    page = asyncapi.render_html(doc)
    for name in CONTRACTS:
        assert f"<code>{name}</code>" in page
