"""auth's pure logic: no I/O, no FastStream, no HTTP clients.

`keyring` (AES-GCM key ring), `state` (OAuth state and PKCE), `links` (platform-signed
links), `tokens` (access-token cache policy and failure cool-down),
`permissions` (what describe says is missing), `connection` (identity and status).
"""
