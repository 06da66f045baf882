"""bot-actions' use cases: `actions.BotActions`, one handler per bot action."""
