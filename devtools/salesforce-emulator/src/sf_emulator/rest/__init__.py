"""The REST resources under `/services/data/vXX.X`, as plain functions over a context.

They know nothing of HTTP servers: `http/data_api.py` authenticates, counts and
injects faults, then dispatches here; Composite dispatches its subrequests here too.
"""
