"""Request/reply over Kafka: the asking client and the answering responder.

- `client`: `RequestReplyClient` (and `LazyRequestReplyClient` for services), the caller;
- `responder` + `consumer` + `window` + `replies`: the answering side every responder of
  the suite runs (`RequestConsumer`);
- `protocol`: header names, deadlines, the reply value and the caller's errors;
- `topics`: reply topics per principal, heartbeats and the pruner (`chat-reply-topics`).
"""

from chat_runtime.request_reply.client import LazyRequestReplyClient, RequestReplyClient
from chat_runtime.request_reply.metrics import RequestReplyMetrics, ResponderMetrics
from chat_runtime.request_reply.protocol import (
    ClientClosed,
    Reply,
    RequestError,
    RequestNotSent,
    RequestTimeout,
    deadline_of,
    is_expired,
    is_reply_topic,
)
from chat_runtime.request_reply.topics import ReplyTopicOptions

__all__ = [
    "ClientClosed",
    "LazyRequestReplyClient",
    "Reply",
    "ReplyTopicOptions",
    "RequestError",
    "RequestNotSent",
    "RequestReplyClient",
    "RequestReplyMetrics",
    "RequestTimeout",
    "ResponderMetrics",
    "deadline_of",
    "is_expired",
    "is_reply_topic",
]
