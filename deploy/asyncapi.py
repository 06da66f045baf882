"""The suite's AsyncAPI 3.0 document, generated from the topic registry, the pydantic
contracts and the Kafka access table, for consumers outside Python.

    python -m deploy.asyncapi            # write docs/asyncapi/asyncapi.json
    python -m deploy.asyncapi --check    # exit 1 when the committed document is stale
    python -m deploy.asyncapi --html     # also render docs/asyncapi/index.html

Every topic is a channel (address, partitions, cleanup and retention, the key, each message
it may carry); every workload's reads and writes are operations; a request/reply topic's
operation names its reply (on the caller's reply topic, from the `reply_to` header). Message
payloads are the contracts' JSON Schemas; the headers are the wire protocol's.
`make test` fails when a contract changes and the committed document does not
(`tests/unit/deploy/test_asyncapi.py`).
"""

from __future__ import annotations

import argparse
import html
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from chat_contracts.base import Envelope
from chat_contracts.registry import CONTRACTS, TopicContract
from chat_contracts.rr import ErrorReply
from chat_contracts.topics import REPLY_TOPIC_PREFIX, TopicSpec
from chat_runtime.request_reply.protocol import (
    CONTENT_TYPE,
    CORRELATION_ID,
    DEADLINE,
    JSON_CONTENT_TYPE,
    REPLY_TO,
)
from deploy.k8s.access import WORKLOADS, KafkaAccess

ROOT = Path(__file__).resolve().parent.parent
DOCUMENT = ROOT / "docs" / "asyncapi" / "asyncapi.json"
HTML = DOCUMENT.with_name("index.html")
KAFKA_BINDING = "0.5.0"
REF = "#/components/schemas/{model}"


def _channel_id(topic: TopicSpec) -> str:
    return topic.name.replace(".", "_").replace("-", "_")


def _headers(request: bool, reply: bool) -> dict[str, Any]:
    properties: dict[str, Any] = {
        CONTENT_TYPE: {"type": "string", "const": JSON_CONTENT_TYPE},
    }
    if request:
        properties |= {
            CORRELATION_ID: {"type": "string", "description": "Echoed on the reply."},
            REPLY_TO: {
                "type": "string",
                "description": f"The caller's reply topic (under `{REPLY_TOPIC_PREFIX}`).",
            },
            DEADLINE: {
                "type": "string",
                "description": "Epoch milliseconds after which the caller no longer waits.",
            },
        }
    if reply:
        properties[CORRELATION_ID] = {"type": "string", "description": "The request's."}
    return {"type": "object", "properties": properties}


def _schemas(models: Sequence[type[Envelope]]) -> dict[str, Any]:
    """Each model's JSON Schema, with the definitions it refers to hoisted beside it."""
    out: dict[str, Any] = {}
    for model in models:
        schema = model.model_json_schema(ref_template=REF)
        for name, definition in schema.pop("$defs", {}).items():
            out.setdefault(name, definition)
        out[model.__name__] = schema
    return dict(sorted(out.items()))


def _message(model: type[Envelope], *, request: bool = False, reply: bool = False) -> Any:
    doc = (model.__doc__ or "").strip().split("\n\n")[0]
    return {
        "name": model.__name__,
        "title": model.__name__,
        "summary": " ".join(doc.split()),
        "contentType": JSON_CONTENT_TYPE,
        "headers": _headers(request, reply),
        "payload": {"$ref": REF.format(model=model.__name__)},
    }


def _channel(contract: TopicContract) -> dict[str, Any]:
    topic = contract.topic
    configs: dict[str, Any] = {"cleanup.policy": [topic.configs()["cleanup.policy"]]}
    if topic.retention_ms is not None:
        configs["retention.ms"] = topic.retention_ms
    if "max.message.bytes" in topic.configs():
        configs["max.message.bytes"] = int(topic.configs()["max.message.bytes"])
    description = f"{topic.description} Key: {topic.key}."
    if contract.tombstones:
        description += " Compacted: a null value deletes the key."
    return {
        "address": topic.name,
        "description": description,
        "messages": {
            m.__name__: {"$ref": f"#/components/messages/{m.__name__}"} for m in contract.models
        },
        "bindings": {
            "kafka": {
                "topic": topic.name,
                "partitions": topic.partitions,
                "topicConfiguration": configs,
                "bindingVersion": KAFKA_BINDING,
            }
        },
    }


def _replies(contract: TopicContract) -> tuple[type[Envelope], ...]:
    """What a request topic's responder may answer: its replies and the generic error."""
    return (*contract.reply_models, ErrorReply)


def _reply_channel(contract: TopicContract) -> dict[str, Any]:
    models = _replies(contract)
    return {
        "address": None,
        "description": (
            f"Replies to requests on {contract.topic.name}: the caller's own reply topic "
            f"(under `{REPLY_TOPIC_PREFIX}`), named by the request's `{REPLY_TO}` header."
        ),
        "messages": {
            f"{m.__name__}": {"$ref": f"#/components/messages/{m.__name__}"} for m in models
        },
    }


def _operations(workload: KafkaAccess) -> dict[str, Any]:
    out: dict[str, Any] = {}
    consumed = [t.name for g in workload.groups for t in g.topics]
    consumed += [t.name for t in workload.reads]
    produced = [t.name for t in workload.produces]
    for action, names in (("receive", consumed), ("send", produced)):
        for name in dict.fromkeys(names):
            contract = CONTRACTS[name]
            topic = contract.topic
            channel = _channel_id(topic)
            operation: dict[str, Any] = {
                "action": action,
                "channel": {"$ref": f"#/channels/{channel}"},
                "summary": f"{workload.user} {'reads' if action == 'receive' else 'writes'} "
                f"{topic.name}",
            }
            if contract.reply_type is not None and (
                (action == "receive" and workload.answers_requests)
                or (action == "send" and workload.asks_requests)
            ):
                operation["reply"] = {
                    "address": {"location": f"$message.header#/{REPLY_TO}"},
                    "channel": {"$ref": f"#/channels/{channel}_replies"},
                }
            out[f"{workload.user}.{action}.{channel}"] = operation
    return out


def document() -> dict[str, Any]:
    """The AsyncAPI 3.0 document of the suite, as the code says it is now."""
    contracts = list(CONTRACTS.values())
    models: dict[str, type[Envelope]] = {}
    messages: dict[str, Any] = {}
    for contract in contracts:
        request = contract.reply_type is not None
        for model in contract.models:
            models[model.__name__] = model
            messages[model.__name__] = _message(model, request=request)
        for model in _replies(contract) if request else ():
            models[model.__name__] = model
            messages[model.__name__] = _message(model, reply=True)
    channels: dict[str, Any] = {}
    for contract in contracts:
        channels[_channel_id(contract.topic)] = _channel(contract)
        if contract.reply_type is not None:
            channels[f"{_channel_id(contract.topic)}_replies"] = _reply_channel(contract)
    operations: dict[str, Any] = {}
    for workload in WORKLOADS:
        operations |= _operations(workload)
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Chat-to-Salesforce suite",
            "version": "1",
            "description": (
                "Kafka topics of the chat-to-Salesforce microservices: chat events in, "
                "conversations, Salesforce sync results, dead letters, retries, tenant "
                "settings, OAuth connections, and the request/reply calls (bot actions, "
                "manual creates, access tokens). Generated from the code; do not edit."
            ),
        },
        "defaultContentType": JSON_CONTENT_TYPE,
        "servers": {
            "kafka": {
                "host": "kafka:9092",
                "protocol": "kafka",
                "description": "The deployment's brokers (SASL/SCRAM over TLS in production).",
            }
        },
        "channels": dict(sorted(channels.items())),
        "operations": dict(sorted(operations.items())),
        "components": {
            "messages": dict(sorted(messages.items())),
            "schemas": _schemas([models[n] for n in sorted(models)]),
        },
    }


def render_json(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def render_html(doc: dict[str, Any]) -> str:
    """A static page of the document: channels with their messages, operations, schemas."""
    esc = html.escape
    parts = [
        "<!doctype html><html lang=en><meta charset=utf-8>",
        f"<title>{esc(doc['info']['title'])} - AsyncAPI</title>",
        "<style>body{font:14px/1.5 system-ui,sans-serif;margin:2em auto;max-width:70em}"
        "code,pre{background:#f4f4f4;padding:0 .2em}pre{padding:.5em;overflow:auto}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .5em;"
        "vertical-align:top;text-align:left}</style>",
        f"<h1>{esc(doc['info']['title'])}</h1><p>{esc(doc['info']['description'])}</p>",
        "<h2>Channels</h2><table><tr><th>topic</th><th>description</th><th>messages</th>"
        "<th>partitions</th></tr>",
    ]
    for channel_id, channel in doc["channels"].items():
        address = channel["address"] or "(the caller's reply topic)"
        names = ", ".join(
            f"<a href='#m-{esc(m)}'>{esc(m)}</a>" for m in channel.get("messages", {})
        )
        partitions = channel.get("bindings", {}).get("kafka", {}).get("partitions", "")
        parts.append(
            f"<tr id='c-{esc(channel_id)}'><td><code>{esc(address)}</code></td>"
            f"<td>{esc(channel['description'])}</td><td>{names}</td><td>{partitions}</td></tr>"
        )
    parts.append(
        "</table><h2>Operations</h2><table><tr><th>who</th><th>does</th>"
        "<th>channel</th><th>reply</th></tr>"
    )
    for op_id, op in doc["operations"].items():
        channel = op["channel"]["$ref"].rsplit("/", 1)[1]
        reply = "on the <code>reply_to</code> topic" if "reply" in op else ""
        parts.append(
            f"<tr><td>{esc(op_id.split('.')[0])}</td><td>{esc(op['action'])}</td>"
            f"<td><a href='#c-{esc(channel)}'>{esc(doc['channels'][channel]['address'] or channel)}"
            f"</a></td><td>{reply}</td></tr>"
        )
    parts.append("</table><h2>Messages</h2>")
    for name, message in doc["components"]["messages"].items():
        schema = doc["components"]["schemas"][name]
        headers = ", ".join(f"<code>{esc(h)}</code>" for h in message["headers"]["properties"])
        parts.append(
            f"<h3 id='m-{esc(name)}'>{esc(name)}</h3><p>{esc(message['summary'])}</p>"
            f"<p>Headers: {headers}</p>"
            f"<details><summary>JSON Schema</summary><pre>{esc(json.dumps(schema, indent=2))}"
            "</pre></details>"
        )
    parts.append("</html>\n")
    return "".join(parts)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The suite's AsyncAPI document.")
    parser.add_argument("--check", action="store_true", help="exit 1 when it is stale")
    parser.add_argument("--html", action="store_true", help="also render index.html")
    args = parser.parse_args(argv)
    text = render_json(document())
    if args.check:
        if not DOCUMENT.exists() or DOCUMENT.read_text() != text:
            print(
                f"{DOCUMENT.relative_to(ROOT)} is stale: run `python -m deploy.asyncapi`",
                file=sys.stderr,
            )
            return 1
        return 0
    DOCUMENT.parent.mkdir(parents=True, exist_ok=True)
    DOCUMENT.write_text(text)
    if args.html:
        HTML.write_text(render_html(json.loads(text)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
