"""bot-actions: the chatbot's Salesforce actions over Kafka request/reply.

`app.create_app()` builds the service; `client.BotActionsClient` is the typed SDK the bot
runtime calls it with. See the package README for the wire protocol.
"""
