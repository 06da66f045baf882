"""Where the outside world comes in: the token-request subscriber and the HTTP routes."""
