"""The outside world of crm-sync: Salesforce, Kafka, the settings topic, attachment URLs."""
