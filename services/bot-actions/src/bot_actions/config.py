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
        "Not much lower either: each idle poll takes the event loop (and the GIL) from the "
        "threads calling Salesforce.",
    )
    gil_switch_interval_ms: float = Field(
        1.0,
        gt=0,
        description="`sys.setswitchinterval` of the process (`python -m bot_actions`). "
        "Salesforce calls run on worker threads beside the event loop; when both want the "
        "GIL, the waiting one gets it only when the holder blocks or after this interval. "
        "Python's 5 ms default made a find at 1 in flight ~1.3 ms slower on a quiet machine "
        "(5.5 ms against 4.2). Not much lower: at 500 in flight each switch costs CPU "
        "(0.5 ms: ~10% more CPU per request than 5 ms).",
    )
    commit_interval_ms: int = Field(
        200, gt=0, description="How often offsets of finished requests are committed."
    )
    revoke_drain_s: float = Field(
        5.0, ge=0, description="At a rebalance, how long requests of revoked partitions may finish."
    )
    token_timeout_s: float = Field(5.0, gt=0, description="How long to wait for auth's token.")
    access_log: bool = Field(
        False, description="FastStream's per-message Received/Processed lines at INFO."
    )

    salesforce_ca_file: Path | None = Field(
        None, description="PEM CA file to trust for Salesforce (the emulator's ca.pem)."
    )
    salesforce_api_version: str = Field("59.0", pattern=r"^\d{2}\.0$")
    salesforce_threads: int = Field(32, gt=0, description="Worker threads for Salesforce calls.")
    salesforce_per_tenant: int = Field(
        8, gt=0, description="Salesforce calls one tenant may have running at once."
    )
    salesforce_timeout_s: float = Field(30.0, gt=0, description="Timeout of one HTTP call.")
    describe_ttl_s: float = Field(600.0, ge=0, description="How long describe results are kept.")

    def gateway_options(self) -> GatewayOptions:
        """The Salesforce gateway's options from these settings."""
        return GatewayOptions(
            api_version=self.salesforce_api_version,
            threads=self.salesforce_threads,
            per_tenant=self.salesforce_per_tenant,
            http=HttpOptions(
                ca_file=str(self.salesforce_ca_file) if self.salesforce_ca_file else None,
                timeout_s=self.salesforce_timeout_s,
                pool_size=self.salesforce_threads,
            ),
        )
