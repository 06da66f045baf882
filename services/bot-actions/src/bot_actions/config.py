"""bot-actions' settings: environment variables prefixed `BOT_ACTIONS_`.

Every setting has a local default; nothing here is secret (tokens come from auth at run
time). For the local emulator set `BOT_ACTIONS_SALESFORCE_CA_FILE` to its `ca.pem`
(`make run` does).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from chat_contracts.topics import AUTH_TOKEN_REQUESTS, BOT_ACTIONS
from chat_runtime.settings import ServiceSettings
from chat_salesforce import GatewayOptions, HttpOptions


class Settings(ServiceSettings):
    """Everything bot-actions reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="BOT_ACTIONS_", extra="ignore", frozen=True)

    service_name: str = "bot-actions"
    http_port: int = Field(default=8003, ge=0, le=65535)

    # Registry names by default; tests and benches point bot-actions at throwaway topics.
    request_topic: str = BOT_ACTIONS.name
    token_topic: str = AUTH_TOKEN_REQUESTS.name

    default_deadline_s: float = Field(
        10.0, gt=0, description="Deadline of a request that carries no `deadline` header."
    )
    reply_margin_ms: int = Field(
        50,
        ge=0,
        description="An action still running this long before its deadline is "
        "abandoned and answered `deadline_exceeded`, so the answer still reaches the caller.",
    )
    max_in_flight: int = Field(
        512, gt=0, description="Requests handled at once per process; beyond it, reading pauses."
    )
    fetch_max_wait_ms: int = Field(
        25,
        gt=0,
        description="Longest wait of one fetch. aiokafka fetches a broker's partitions in one "
        "request at a time, and leaves out a partition whose records are still being handed "
        "over, so while one tenant's partition is busy that request long-polls the idle ones: "
        "Kafka's 500 ms default would delay the busy partition's next records by as much. "
        "Not much lower either: each idle poll takes the event loop from the requests in "
        "flight.",
    )
    commit_interval_ms: int = Field(
        200, gt=0, description="How often offsets of finished requests are committed."
    )
    revoke_drain_s: float = Field(
        5.0, ge=0, description="At a rebalance, how long requests of revoked partitions may finish."
    )
    token_timeout_s: float = Field(5.0, gt=0, description="How long to wait for auth's token.")

    salesforce_ca_file: Path | None = Field(
        None, description="PEM CA file to trust for Salesforce (the emulator's ca.pem)."
    )
    salesforce_api_version: str = Field("59.0", pattern=r"^\d{2}\.0$")
    salesforce_connections: int = Field(
        32, gt=0, description="HTTP connections to Salesforce for all tenants together."
    )
    salesforce_per_tenant: int = Field(
        8, gt=0, description="Salesforce calls one tenant may have running at once."
    )
    salesforce_timeout_s: float = Field(30.0, gt=0, description="Timeout of one HTTP call.")
    describe_ttl_s: float = Field(600.0, ge=0, description="How long describe results are kept.")

    def gateway_options(self) -> GatewayOptions:
        """The Salesforce gateway's options from these settings."""
        return GatewayOptions(
            api_version=self.salesforce_api_version,
            per_tenant=self.salesforce_per_tenant,
            http=HttpOptions(
                ca_file=str(self.salesforce_ca_file) if self.salesforce_ca_file else None,
                timeout_s=self.salesforce_timeout_s,
                connections=self.salesforce_connections,
            ),
        )
