"""Where the outside world calls in: the `bot.actions.v1` subscriber."""
