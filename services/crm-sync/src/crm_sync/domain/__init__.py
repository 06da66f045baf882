"""crm-sync's rules, free of I/O: matching, update policy, records, owners, planning,
error sorting, retries. Nothing here imports Kafka, HTTP or simple-salesforce."""
