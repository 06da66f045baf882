"""chat_bot_client: the typed SDK a bot runtime calls bot-actions with, over Kafka.

It needs only the message contracts and the request/reply client; no service, no
Salesforce library. See `client.BotActionsClient`, and `python -m chat_bot_client.call`
for one request from the command line.
"""

from chat_bot_client.client import BotActionFailed, BotActionsClient

__all__ = ["BotActionFailed", "BotActionsClient"]
