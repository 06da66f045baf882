"""`python -m crm_sync`: serve crm-sync until SIGTERM."""

from crm_sync.app import main

main()
