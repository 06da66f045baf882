"""ingest's outside world: the Kafka producer, the read-back of recent raw keys, and the
tenant settings view. Each sits behind a small Protocol (see `ports`) so handlers run on
fakes in unit tests."""
