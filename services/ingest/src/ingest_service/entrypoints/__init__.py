"""Wire to use case: the HTTP webhook endpoint and the `chat.raw.v1` batch subscriber."""
