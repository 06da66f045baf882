"""chat_runtime."""
