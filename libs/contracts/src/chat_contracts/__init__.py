"""chat_contracts."""
