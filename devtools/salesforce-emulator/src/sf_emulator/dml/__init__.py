"""Record writes (create, update, upsert, delete) with Salesforce's validation rules."""
