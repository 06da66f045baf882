"""The topic registry: every topic of the suite, its partitions, cleanup policy and retention.

Services, the provisioning command, the tests and the Kubernetes manifests all read this
registry; no topic name appears as a string literal anywhere else.
"""

from __future__ import annotations

from dataclasses import dataclass, field

DAY_MS = 24 * 60 * 60 * 1000
LARGE_MESSAGE_BYTES = 4 * 1024 * 1024
"""`max.message.bytes` of the topics that carry a chat or a copy of one: a webhook body may
be 1 MiB, and its raw record, its conversation, its dead letter (base64, a third larger;
an original too large for that is not copied, see `dlq.original_copy`) must all fit."""
ENVELOPE_BYTES = 256 * 1024
"""What a record wrapping a whole conversation (a parked chat) may add to it."""
_LARGE = {"max.message.bytes": str(LARGE_MESSAGE_BYTES)}
_WRAPPED = {"max.message.bytes": str(LARGE_MESSAGE_BYTES + ENVELOPE_BYTES)}


@dataclass(frozen=True, slots=True)
class TopicSpec:
    """One Kafka topic as the suite expects it to exist."""

    name: str
    partitions: int
    description: str
    key: str
    compacted: bool = False
    retention_ms: int | None = 7 * DAY_MS
    extra_configs: dict[str, str] = field(default_factory=dict)

    def configs(self) -> dict[str, str]:
        """Topic-level configs to create the topic with (Kafka config names)."""
        configs = {"cleanup.policy": "compact" if self.compacted else "delete"}
        if self.retention_ms is not None:
            configs["retention.ms"] = str(self.retention_ms)
        if self.compacted:
            # Tombstones must outlive the slowest replica's restart, or a deleted key reappears.
            configs["delete.retention.ms"] = str(DAY_MS)
            configs["min.compaction.lag.ms"] = "0"
        configs.update(self.extra_configs)
        return configs


CHAT_RAW = TopicSpec(
    name="chat.raw.v1",
    partitions=12,
    description=(
        "Chat platform events as received (webhooks and direct producers), before validation."
    ),
    key="tenant_id + event_id",
    extra_configs=dict(_LARGE),
)
CHAT_CONVERSATIONS = TopicSpec(
    name="chat.conversations.v1",
    partitions=12,
    description="One normalised conversation per ended chat or offline message.",
    key="tenant_id + visitor identity (email, else E.164 phone, else visitor id)",
    extra_configs=dict(_LARGE),
)
CHAT_DLQ = TopicSpec(
    name="chat.dlq.v1",
    partitions=3,
    description="Raw events ingest could not accept, with the reason and the original bytes.",
    key="tenant_id when known",
    retention_ms=30 * DAY_MS,
    extra_configs=dict(_LARGE),
)
CRM_COMMANDS = TopicSpec(
    name="crm.commands.v1",
    partitions=6,
    description="Manual create requests from the agent console (request/reply).",
    key="tenant_id",
    retention_ms=DAY_MS,
)
CRM_SYNC_RESULTS = TopicSpec(
    name="crm.sync.results.v1",
    partitions=6,
    description="What crm-sync wrote to Salesforce for each conversation.",
    key="tenant_id + chat id",
)
CRM_SYNC_RETRY = TopicSpec(
    name="crm.sync.retry.v1",
    partitions=6,
    description="Conversations parked with a not-before time (non-blocking retries).",
    key="same key as chat.conversations.v1",
    extra_configs=dict(_WRAPPED),
)
CRM_DLQ = TopicSpec(
    name="crm.dlq.v1",
    partitions=3,
    description="Conversations and commands crm-sync gave up on, with the reason.",
    key="tenant_id when known",
    retention_ms=30 * DAY_MS,
    extra_configs=dict(_LARGE),
)
BOT_ACTIONS = TopicSpec(
    name="bot.actions.v1",
    partitions=12,
    description="The chatbot's Salesforce actions (request/reply).",
    key="tenant_id",
    retention_ms=DAY_MS,
)
AUTH_TOKEN_REQUESTS = TopicSpec(
    name="auth.token-requests.v1",
    partitions=6,
    description="Requests for a tenant's Salesforce access token (request/reply).",
    key="tenant_id",
    retention_ms=DAY_MS,
)
AUTH_REFRESH_TOKENS = TopicSpec(
    name="auth.refresh-tokens.v1",
    partitions=3,
    description="Each tenant's encrypted Salesforce refresh token; a tombstone on disconnect.",
    key="tenant_id",
    compacted=True,
    retention_ms=None,
)
AUTH_CONNECTIONS = TopicSpec(
    name="auth.connections.v1",
    partitions=3,
    description="Connection lifecycle events: connected, refresh failed, revoked, disconnected.",
    key="tenant_id",
    retention_ms=30 * DAY_MS,
)
TENANT_SETTINGS = TopicSpec(
    name="tenant.settings.v1",
    partitions=3,
    description="Each tenant's settings (mode, update policy, field mapping, owner fallback).",
    key="tenant_id",
    compacted=True,
    retention_ms=None,
)
AUDIT_EVENTS = TopicSpec(
    name="audit.events.v1",
    partitions=3,
    description="Admin, settings and console actions: who, which tenant, what changed.",
    key="tenant_id",
    retention_ms=365 * DAY_MS,
)

TOPICS: tuple[TopicSpec, ...] = (
    CHAT_RAW,
    CHAT_CONVERSATIONS,
    CHAT_DLQ,
    CRM_COMMANDS,
    CRM_SYNC_RESULTS,
    CRM_SYNC_RETRY,
    CRM_DLQ,
    BOT_ACTIONS,
    AUTH_TOKEN_REQUESTS,
    AUTH_REFRESH_TOKENS,
    AUTH_CONNECTIONS,
    TENANT_SETTINGS,
    AUDIT_EVENTS,
)

# Reply topics are not in the registry: each request/reply client instance creates its own
# (see chat_runtime.request_reply). They share this prefix so ACLs and cleanup can match them.
REPLY_TOPIC_PREFIX = "replies."


def topic(name: str) -> TopicSpec:
    """Look a topic up by name; raises KeyError for a name the registry does not hold."""
    for spec in TOPICS:
        if spec.name == name:
            return spec
    raise KeyError(f"unknown topic {name!r}")
