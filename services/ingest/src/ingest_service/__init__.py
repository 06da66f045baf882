"""ingest: signed chat-platform webhooks and `chat.raw.v1` in, one normalised
conversation per chat out (`chat.conversations.v1`), bad input to `chat.dlq.v1`."""
