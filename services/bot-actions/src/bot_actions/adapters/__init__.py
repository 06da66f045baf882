"""bot-actions' outside world: Salesforce (through chat_salesforce) and Kafka."""
