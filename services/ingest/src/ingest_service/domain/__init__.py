"""ingest's pure logic: signatures, webhook checks, normalisation, dead letters, dedupe.

Nothing here does I/O or imports FastStream or aiokafka; handlers feed it bytes and
records and publish what it returns.
"""
