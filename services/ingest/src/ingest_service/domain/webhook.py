"""The webhook's decision: which status a request gets, and the raw record it stores.

Order of checks: signature headers and timestamp (401), JSON (400: no tenant can be told
from it), tenant and signature (401), then the event's shape (400). Only an authenticated
request learns whether its body is a valid event. The body is decoded once, by the same
JSON parser the normaliser uses, so what is accepted here parses there.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import pydantic_core
from pydantic import TypeAdapter, ValidationError

from chat_contracts.chat_raw import ChatEndedEvent, ChatPlatformEvent, OfflineMessageSubmittedEvent
from chat_contracts.keys import raw_event_key
from ingest_service.domain.errors import describe_errors
from ingest_service.domain.signature import is_fresh, parse_timestamp, signature_matches
from ingest_service.domain.times import as_utc

PlatformEvent = ChatEndedEvent | OfflineMessageSubmittedEvent
_EVENT: Final[TypeAdapter[PlatformEvent]] = TypeAdapter(ChatPlatformEvent)


@dataclass(frozen=True, slots=True)
class Refused:
    """The request is not stored: `status` with a JSON body `{"error": code, ...}`."""

    status: int
    error: str
    detail: str | list[str] | None = None

    def body(self) -> dict[str, Any]:
        """The JSON response body."""
        body: dict[str, Any] = {"error": self.error}
        if self.detail is not None:
            body["detail"] = self.detail
        return body


@dataclass(frozen=True, slots=True)
class Verified:
    """An authenticated, well-formed event, ready to be stored in `chat.raw.v1`."""

    tenant_id: str
    event: PlatformEvent
    body: bytes


UNAUTHORIZED: Final = Refused(401, "unauthorized")
STALE: Final = Refused(401, "unauthorized", "timestamp outside the replay window")


def check_request(
    body: bytes,
    timestamp: bytes | None,
    signature: bytes | None,
    secrets: Mapping[str, Sequence[bytes]],
    now: float,
    replay_window_s: int,
) -> Verified | Refused:
    """Decide on one webhook request. `secrets` maps tenant (site id) to its secrets."""
    if not timestamp or not signature:
        return UNAUTHORIZED
    seconds = parse_timestamp(timestamp)
    if seconds is None or not is_fresh(seconds, now, replay_window_s):
        return STALE
    try:
        document = pydantic_core.from_json(body)
    except ValueError:
        return Refused(400, "malformed_json", "the body is not UTF-8 JSON")
    if not isinstance(document, dict):
        return Refused(400, "invalid_event", "the body must be a JSON object")
    site_id = document.get("site_id")
    tenant_secrets = secrets.get(str(site_id)) if isinstance(site_id, str | int) else None
    # An unknown tenant looks exactly like a wrong signature from outside.
    if not tenant_secrets or not signature_matches(tenant_secrets, timestamp, body, signature):
        return UNAUTHORIZED
    try:
        event = _EVENT.validate_python(document)
    except ValidationError as exc:
        return Refused(400, "invalid_event", describe_errors(exc))
    return Verified(tenant_id=event.site_id, event=event, body=body)


def raw_record(verified: Verified, received_at: datetime) -> tuple[bytes, bytes]:
    """(key, value) of the `chat.raw.v1` record of `verified`: a `RawChatEvent` whose
    payload is the body exactly as signed, spliced in rather than re-encoded (one decode
    per event, and fields a newer platform adds are kept for replay)."""
    event = verified.event
    envelope = (
        '{"schema_version":1'
        f',"message_id":"{uuid.uuid4()}"'
        f',"tenant_id":"{verified.tenant_id}"'
        f',"occurred_at":"{_iso(as_utc(event.occurred_at))}"'
        ',"source":"webhook"'
        f',"received_at":"{_iso(received_at.astimezone(UTC))}"'
        ',"payload":'
    ).encode()
    return raw_event_key(verified.tenant_id, event.event_id), envelope + verified.body + b"}"


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")
