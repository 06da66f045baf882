"""Who reads and writes what on Kafka: one entry per workload, the source of its KafkaUser.

Each workload (a Deployment, named like its KafkaUser, its ServiceAccount and its Secret of
Kafka credentials) is granted exactly the topics and consumer groups listed here, by
registry constant, never by a topic name typed again. `generate.py` turns this table into
`base/kafka/users.yaml`; `tests/unit/deploy` checks it against the code (the groups and
subscribers each service builds) and against the ScaledObjects.

ACLs, in Kafka's terms: a consumer needs Read on its topics and on its groups; a group-less
reader (a compacted state topic read whole, a partition replayed) Read on the topic; a
producer Write. Read and Write imply Describe; it is listed anyway, as Strimzi's examples
do, so the YAML says what clients do. An idempotent producer needs no IdempotentWrite on
the cluster since Kafka 3.0 (KIP-679): Write on a topic is enough.

Reply topics: a workload that answers requests may write to any `replies.` topic; one that
asks (a request/reply client acting as its user) may create, read, write (heartbeats) and
delete only under its own `replies.<user>.` prefix (`chat_runtime.request_reply.topics`).
Replies to crm-sync carry every tenant's access token: the bot runtime must not read them.
"""

from __future__ import annotations

from dataclasses import dataclass

from chat_contracts.topics import (
    AUDIT_EVENTS,
    AUTH_CONNECTIONS,
    AUTH_REFRESH_TOKENS,
    AUTH_TOKEN_REQUESTS,
    BOT_ACTIONS,
    CHAT_CONVERSATIONS,
    CHAT_DLQ,
    CHAT_RAW,
    CRM_COMMANDS,
    CRM_DLQ,
    CRM_SYNC_RESULTS,
    CRM_SYNC_RETRY,
    REPLY_TOPIC_PREFIX,
    TENANT_SETTINGS,
    TopicSpec,
)
from chat_runtime.request_reply.topics import principal_prefix

Acl = dict[str, object]


@dataclass(frozen=True, slots=True)
class Group:
    """A consumer group and the topics it consumes."""

    name: str
    topics: tuple[TopicSpec, ...]
    scales: bool = True
    """Its lag is work waiting for capacity, so the workload scales on it. Not so for parked
    work, which waits for its time, not for replicas."""


@dataclass(frozen=True, slots=True)
class KafkaAccess:
    """What one workload does on Kafka."""

    user: str
    """The KafkaUser, and the name of the Deployment that authenticates as it."""
    groups: tuple[Group, ...] = ()
    """Its consumer groups (named from the service's `group_id`), each with its topics."""
    reads: tuple[TopicSpec, ...] = ()
    """Topics read without a group (state loaded whole, partitions replayed)."""
    produces: tuple[TopicSpec, ...] = ()
    answers_requests: bool = False
    """Replies to request/reply callers: writes to any topic under the reply prefix."""
    asks_requests: bool = False
    """A request/reply client: creates, reads and deletes its own reply topics."""
    prunes_reply_topics: bool = False
    """Deletes reply topics whose owner is gone, deciding from offsets and timestamps."""
    external: bool = False
    """Not one of the suite's services (no Deployment here): its user is generated for the
    platform team that runs it."""

    @property
    def reply_prefix(self) -> str:
        """The reply topics this workload's client owns: `replies.<user>.`."""
        return principal_prefix(self.user)

    @property
    def consumes(self) -> tuple[TopicSpec, ...]:
        """Every topic read in one of its groups."""
        return tuple(spec for group in self.groups for spec in group.topics)

    def acls(self) -> list[Acl]:
        """The KafkaUser's ACL rules, one per resource, in a stable order."""
        topic_ops: dict[str, set[str]] = {}
        for spec in (*self.consumes, *self.reads):
            topic_ops.setdefault(spec.name, set()).update({"Describe", "Read"})
        for spec in self.produces:
            topic_ops.setdefault(spec.name, set()).update({"Describe", "Write"})
        rules = [_rule("topic", name, "literal", ops) for name, ops in sorted(topic_ops.items())]
        every_reply_topic: set[str] = set()
        if self.answers_requests:
            every_reply_topic |= {"Describe", "Write"}
        if self.prunes_reply_topics:
            # ListOffsets (timestamps included) needs Describe only: it reads no reply.
            every_reply_topic |= {"Describe", "Delete"}
        if every_reply_topic:
            rules.append(_rule("topic", REPLY_TOPIC_PREFIX, "prefix", every_reply_topic))
        if self.asks_requests:
            # The client creates `replies.<user>.<instance>` at start, reads it from its end,
            # writes its heartbeats there and deletes it at a clean stop.
            own = {"Create", "Delete", "Describe", "Read", "Write"}
            rules.append(_rule("topic", self.reply_prefix, "prefix", own))
        for group in sorted(self.groups, key=lambda g: g.name):
            rules.append(_rule("group", group.name, "literal", {"Read"}))
        return rules


# Kafka's own order of operations reads better than the alphabet.
_OPERATION_ORDER = ("Describe", "Read", "Write", "Create", "Delete")


def _rule(kind: str, name: str, pattern: str, operations: set[str]) -> Acl:
    return {
        "resource": {"type": kind, "name": name, "patternType": pattern},
        "operations": [op for op in _OPERATION_ORDER if op in operations],
    }


WORKLOADS: tuple[KafkaAccess, ...] = (
    # ingest runs as two Deployments (INGEST_WEBHOOK_ENABLED / INGEST_NORMALISER_ENABLED):
    # the webhook half scales with HTTP load, the normaliser with chat.raw.v1's lag.
    KafkaAccess(user="ingest-webhook", produces=(CHAT_RAW,)),
    KafkaAccess(
        user="ingest-normaliser",
        groups=(Group("ingest", (CHAT_RAW,)),),
        # tenant settings: phone regions; chat.raw.v1 replayed to rebuild the dedupe memory
        reads=(TENANT_SETTINGS, CHAT_RAW),
        produces=(CHAT_CONVERSATIONS, CHAT_DLQ),
    ),
    KafkaAccess(
        user="crm-sync",
        # One group per input, so parked chats and manual commands never wait behind a
        # backlog of conversations.
        groups=(
            Group("crm-sync", (CHAT_CONVERSATIONS,)),
            Group("crm-sync.retry", (CRM_SYNC_RETRY,), scales=False),
            Group("crm-sync.commands", (CRM_COMMANDS,)),
        ),
        # The console's repairs read chats back: a conversation (resync, backfill) or a
        # dead letter (replay), by position or by time, without a group.
        reads=(TENANT_SETTINGS, CHAT_CONVERSATIONS, CRM_DLQ, CHAT_DLQ),
        # chat.conversations.v1: a parked or replayed chat goes back to it;
        # chat.raw.v1: a replayed ingest dead letter goes back to where it came from.
        produces=(
            CRM_SYNC_RESULTS,
            CRM_SYNC_RETRY,
            CRM_DLQ,
            CHAT_CONVERSATIONS,
            CHAT_RAW,
            AUTH_TOKEN_REQUESTS,
            AUDIT_EVENTS,
        ),
        answers_requests=True,  # crm.commands.v1 is request/reply
        asks_requests=True,  # tokens from auth
    ),
    KafkaAccess(
        user="bot-actions",
        groups=(Group("bot-actions", (BOT_ACTIONS,)),),
        produces=(AUTH_TOKEN_REQUESTS,),
        answers_requests=True,
        asks_requests=True,  # tokens from auth
    ),
    KafkaAccess(
        user="auth",
        groups=(Group("auth", (AUTH_TOKEN_REQUESTS,)),),
        # the token store and the tenant settings, each read whole at start, then followed
        reads=(AUTH_REFRESH_TOKENS, TENANT_SETTINGS),
        # tenant.settings.v1: the settings page and API write each tenant's settings;
        # auth.token-requests.v1: a replica not owning a tenant asks the one that does
        # audit.events.v1: every connect, disconnect and settings change, with who did it
        produces=(
            AUTH_REFRESH_TOKENS,
            AUTH_CONNECTIONS,
            TENANT_SETTINGS,
            AUTH_TOKEN_REQUESTS,
            AUDIT_EVENTS,
        ),
        answers_requests=True,
        asks_requests=True,  # tokens from the replica owning the tenant
    ),
    KafkaAccess(
        user="console",
        # The history: every outcome, dead letter, connection event and admin action.
        groups=(
            Group(
                "console",
                (CRM_SYNC_RESULTS, CRM_DLQ, CHAT_DLQ, AUTH_CONNECTIONS, AUDIT_EVENTS),
                scales=False,
            ),
        ),
        # crm.commands.v1: resync, replay and backfill go to crm-sync, the only writer.
        produces=(CRM_COMMANDS, AUDIT_EVENTS),
        asks_requests=True,  # crm-sync's answer to each repair
    ),
    # The chatbot runtime, run by the platform team beside the suite: it calls bot-actions
    # with chat_bot_client and reads only its own replies.
    KafkaAccess(user="bot-runtime", produces=(BOT_ACTIONS,), asks_requests=True, external=True),
    # The CronJob running `chat-reply-topics prune`.
    KafkaAccess(user="reply-topic-pruner", prunes_reply_topics=True),
)


def workload(user: str) -> KafkaAccess:
    """The table's entry for `user`; KeyError when there is none."""
    for entry in WORKLOADS:
        if entry.user == user:
            return entry
    raise KeyError(user)
