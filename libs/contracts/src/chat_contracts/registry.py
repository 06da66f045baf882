"""Which models travel on which topic: one `TopicContract` per topic of `topics.TOPICS`.

`value_type` is what a consumer validates a value against (a model, or a discriminated
union of models); `reply_type` is what a request/reply topic's responder answers with on
the caller's reply topic. Compacted topics use a null value as a tombstone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType
from typing import Any, get_args, get_origin

from pydantic import TypeAdapter

from chat_contracts import topics
from chat_contracts.audit import AuditEvent
from chat_contracts.auth import RefreshTokenRecord, TokenReply, TokenRequest
from chat_contracts.auth_events import ConnectionEvent
from chat_contracts.base import Envelope
from chat_contracts.bot import BotActionRequest
from chat_contracts.bot_replies import BotActionReply
from chat_contracts.chat import Conversation
from chat_contracts.chat_raw import RawChatEvent
from chat_contracts.crm import CrmCommand, CrmCommandReply
from chat_contracts.dlq import DeadLetter
from chat_contracts.rr import ErrorReply
from chat_contracts.settings import TenantSettings
from chat_contracts.sync import SyncResult, SyncRetry


def members(type_: Any) -> tuple[type[Envelope], ...]:
    """The model classes a value type stands for (flattening `Annotated` and unions)."""
    if isinstance(type_, type) and issubclass(type_, Envelope):
        return (type_,)
    args = get_args(type_)
    if get_origin(type_) is not None and args:
        if hasattr(type_, "__metadata__"):  # Annotated[X, ...]: only X counts
            return members(args[0])
        return tuple(m for arg in args for m in members(arg))
    raise TypeError(f"not a model or a union of models: {type_!r}")


@dataclass(frozen=True, slots=True)
class TopicContract:
    """The value (and, for request/reply topics, reply) types of one topic."""

    topic: topics.TopicSpec
    value_type: Any
    reply_type: Any = None

    @property
    def models(self) -> tuple[type[Envelope], ...]:
        """Every model class a value on this topic may be."""
        return members(self.value_type)

    @property
    def reply_models(self) -> tuple[type[Envelope], ...]:
        """Every model class a reply may be (empty for topics without replies)."""
        return () if self.reply_type is None else members(self.reply_type)

    @property
    def tombstones(self) -> bool:
        """Whether a null value (delete) is meaningful: compacted topics only."""
        return self.topic.compacted


_CONTRACTS = (
    TopicContract(topics.CHAT_RAW, RawChatEvent),
    TopicContract(topics.CHAT_CONVERSATIONS, Conversation),
    TopicContract(topics.CHAT_DLQ, DeadLetter),
    TopicContract(topics.CRM_COMMANDS, CrmCommand, CrmCommandReply),
    TopicContract(topics.CRM_SYNC_RESULTS, SyncResult),
    TopicContract(topics.CRM_SYNC_RETRY, SyncRetry),
    TopicContract(topics.CRM_DLQ, DeadLetter),
    TopicContract(topics.BOT_ACTIONS, BotActionRequest, BotActionReply),
    TopicContract(topics.AUTH_TOKEN_REQUESTS, TokenRequest, TokenReply),
    TopicContract(topics.AUTH_REFRESH_TOKENS, RefreshTokenRecord),
    TopicContract(topics.AUTH_CONNECTIONS, ConnectionEvent),
    TopicContract(topics.TENANT_SETTINGS, TenantSettings),
    TopicContract(topics.AUDIT_EVENTS, AuditEvent),
)

CONTRACTS: Mapping[str, TopicContract] = MappingProxyType({c.topic.name: c for c in _CONTRACTS})
"""Topic name to its contract, for every topic of the registry."""

MODELS_BY_TOPIC: Mapping[str, tuple[type[Envelope], ...]] = MappingProxyType(
    {name: c.models for name, c in CONTRACTS.items()}
)
"""Topic name to the model classes its values may be."""

REPLY_MODELS_BY_TOPIC: Mapping[str, tuple[type[Envelope], ...]] = MappingProxyType(
    {name: c.reply_models for name, c in CONTRACTS.items() if c.reply_type is not None}
)
"""Request topic name to the model classes of the replies its responder sends."""


def contract(topic_name: str) -> TopicContract:
    """The contract of a topic; KeyError for a topic the registry does not hold."""
    return CONTRACTS[topic_name]


@cache
def value_adapter(topic_name: str) -> TypeAdapter[Any]:
    """A (cached) validator for values of a topic: `value_adapter(t).validate_json(raw)`."""
    return TypeAdapter(CONTRACTS[topic_name].value_type)


@cache
def reply_adapter(topic_name: str) -> TypeAdapter[Any]:
    """A (cached) validator for replies to a request topic."""
    reply_type = CONTRACTS[topic_name].reply_type
    if reply_type is None:
        raise KeyError(f"{topic_name} is not a request/reply topic")
    return TypeAdapter(reply_type)


def all_models() -> tuple[type[Envelope], ...]:
    """Every message model of every topic (values and replies, plus the generic error
    reply), each once, sorted by name: what the JSON Schema snapshots cover."""
    found: dict[str, type[Envelope]] = {ErrorReply.__name__: ErrorReply}
    for c in CONTRACTS.values():
        for model in (*c.models, *c.reply_models):
            found[model.__name__] = model
    return tuple(found[name] for name in sorted(found))
