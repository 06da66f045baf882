"""ingest's use cases: `events` (webhook events and raw records in, conversations and
dead letters out)."""
