"""Starlette endpoints: the data API, OAuth, and the admin API."""
