"""`python -m ingest_service`: serve ingest (see `ingest_service.app`)."""

from ingest_service.app import main

main()
