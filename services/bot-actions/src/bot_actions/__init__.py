"""bot_actions."""
