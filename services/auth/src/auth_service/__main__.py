"""`python -m auth_service`: serve auth (see `auth_service.app`)."""

from auth_service.app import main

main()
