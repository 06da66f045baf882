"""auth's use cases: token issuing, connect/disconnect, permission checks, status."""
