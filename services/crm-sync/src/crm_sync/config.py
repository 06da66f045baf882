"""crm-sync's settings: environment variables prefixed `CRM_SYNC_`.

Every value has a local default. Topic names default to the contracts' registry; tests
and benches point them at throwaway topics. Salesforce is reached through the tokens auth
hands out, so crm-sync holds no Salesforce secret of its own.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from chat_contracts.topics import (
    AUDIT_EVENTS,
    AUTH_TOKEN_REQUESTS,
    CHAT_CONVERSATIONS,
    CHAT_DLQ,
    CHAT_RAW,
    CRM_COMMANDS,
    CRM_DLQ,
    CRM_SYNC_RESULTS,
    CRM_SYNC_RETRY,
    TENANT_SETTINGS,
)
from chat_runtime.settings import ServiceSettings


class Settings(ServiceSettings):
    """Everything crm-sync reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="CRM_SYNC_", extra="ignore", frozen=True)

    service_name: str = "crm-sync"
    http_port: int = Field(default=8002, ge=0, le=65535)

    conversations_topic: str = CHAT_CONVERSATIONS.name
    retry_topic: str = CRM_SYNC_RETRY.name
    results_topic: str = CRM_SYNC_RESULTS.name
    dlq_topic: str = CRM_DLQ.name
    commands_topic: str = CRM_COMMANDS.name
    settings_topic: str = TENANT_SETTINGS.name
    token_topic: str = AUTH_TOKEN_REQUESTS.name
    chat_dlq_topic: str = CHAT_DLQ.name
    raw_topic: str = CHAT_RAW.name
    audit_topic: str = AUDIT_EVENTS.name

    poll_max_records: int = Field(2000, gt=0, description="Records taken per consumer poll.")
    poll_timeout_ms: int = Field(100, gt=0, description="Longest wait of an empty poll.")
    max_in_flight_records: int = Field(
        10_000, gt=0, description="Chats read and not yet written; past it, reading pauses."
    )
    latency_target_s: float = Field(
        3.0,
        ge=0,
        le=60,
        description=(
            "A chat's result is due this long after it was produced: a tenant's lane waits for "
            "more of its chats until then, less the expected write time, so that they share a "
            "batch's API calls (0: each tenant's own `batch_linger_ms` only)."
        ),
    )
    backlog_linger_ms: int = Field(
        1000,
        ge=0,
        description=(
            "Under a backlog (the reader a poll or more behind), how long a tenant's lane "
            "waits for more of its chats after the first was read, so batches grow."
        ),
    )
    max_in_flight_bytes: int = Field(
        32 * 1024 * 1024, gt=0, description="Their bytes as read; past it, reading pauses."
    )
    command_deadline_s: float = Field(
        30.0, gt=0, description="Deadline of a command that carries no `deadline` header."
    )
    repair_max_s: float = Field(
        600.0,
        gt=0,
        description="Longest a repair command (resync, replay, backfill) runs, whatever its "
        "deadline; one stopped answers `deadline_exceeded` with what it had put back.",
    )
    command_max_in_flight: int = Field(
        64, gt=0, description="Manual creates handled at once (one at a time per tenant)."
    )
    tenant_deadline_s: float = Field(
        60.0, gt=0, description="A tenant's batch taking longer is parked."
    )

    sf_api_version: str = "59.0"
    sf_ca_file: str | None = Field(
        None, description="CA file to trust for Salesforce (the emulator's ca.pem locally)."
    )
    sf_timeout_s: float = Field(30.0, gt=0, description="Timeout of one Salesforce call.")
    sf_connections: int = Field(
        32, gt=0, description="HTTP connections to Salesforce for all tenants together."
    )
    sf_per_tenant: int = Field(4, gt=0, description="Concurrent Salesforce calls per tenant.")
    token_timeout_s: float = Field(5.0, gt=0, description="How long auth may take to answer.")
    chat_id_field: str = Field(
        "Chat_Id__c",
        description="External-id field on Task/Case holding the chat id, when the org has it; "
        "without it the Subject (which names the chat id) is the dedupe key.",
    )
    legacy_chat_keys: bool = Field(
        True,
        description="Also find chats by the `chat:<id>` key earlier versions wrote (the "
        "key is now `chat:<tenant>:<id>`), so a chat synced before an upgrade is not written "
        "again. Turn off once the conversations topic holds nothing older than the upgrade.",
    )
    describe_ttl_s: float = Field(3600.0, gt=0)
    owner_cache_ttl_s: float = Field(900.0, gt=0)
    visitor_cache_ttl_s: float = Field(
        900.0,
        gt=0,
        description="How long the person a visitor matched or became is remembered, so that "
        "a round of returning visitors needs no persons query (tenants that do not update "
        "existing persons only).",
    )
    visitor_cache_size: int = Field(
        50_000,
        gt=0,
        description="Visitors remembered for all tenants together (about 0.7 kB each).",
    )

    max_rounds: int = Field(5, ge=1, description="Write rounds per batch before parking.")
    round_backoff_s: float = Field(0.2, ge=0, description="First pause between rounds.")
    round_backoff_max_s: float = Field(3.0, ge=0)
    park_backoff_s: float = Field(10.0, gt=0, description="First not-before delay of a park.")
    park_backoff_max_s: float = Field(900.0, gt=0)
    budget_backoff_s: float = Field(
        600.0, gt=0, description="Over its API budget share, a tenant writes once per this."
    )
    retry_max_age_s: float = Field(
        3 * 24 * 3600.0, gt=0, description="Parked longer than this: dead-lettered."
    )
    retry_hold_max_bytes: int = Field(
        64 * 1024 * 1024,
        gt=0,
        description="Parked chats the retry consumer holds in memory until due; when full "
        "it reads no more of the retry topic until some are due.",
    )
    retry_hold_max_wait_s: float = Field(
        3600.0,
        gt=0,
        description="A parked chat's not-before further away than this counts as this far.",
    )

    attachment_max_bytes: int = Field(10 * 1024 * 1024, gt=0)
    attachment_max_count: int = Field(10, ge=0, description="Attachments fetched per chat.")
    attachment_round_max_bytes: int = Field(
        64 * 1024 * 1024, gt=0, description="Attachment bytes held in memory per write round."
    )
    attachment_concurrency: int = Field(4, gt=0, description="Attachments fetched at once.")
    attachment_allow_private: bool = Field(
        False,
        description="Fetch attachments from loopback, private and link-local addresses too "
        "(a chat platform inside the deployment's own network).",
    )
    attachment_timeout_s: float = Field(10.0, gt=0)
    attachment_schemes: tuple[str, ...] = ("https",)
    attachment_hosts: tuple[str, ...] = Field(
        (), description="Hosts attachments may be fetched from; empty = any."
    )
