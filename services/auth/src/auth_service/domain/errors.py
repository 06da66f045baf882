"""What can go wrong talking to Salesforce's OAuth endpoints, as the use cases see it,
and the reason no token could be issued.

Messages are written for people and never carry a token: adapters build them from
Salesforce's `error`/`error_description` or the transport failure's class name only.
"""

from __future__ import annotations

from chat_contracts.auth import TokenErrorCode


class SalesforceAuthError(Exception):
    """Base: a Salesforce OAuth or REST call did not give what was asked."""

    def __init__(self, code: str, message: str = "") -> None:
        self.code = code
        self.message = message
        super().__init__(f"{code}: {message}" if message else code)


class InvalidGrant(SalesforceAuthError):
    """`invalid_grant`: the refresh token (or the code) is dead. Reconnecting is the fix."""


class TransientError(SalesforceAuthError):
    """5xx, timeout or connection failure: may pass, so it is retried and never revokes."""


class Rejected(SalesforceAuthError):
    """Any other refusal (`invalid_client`, 4xx): will not pass by retrying."""


class TokenUnavailable(Exception):
    """No access token for the tenant; `code` and `message` go into the error reply."""

    def __init__(self, code: TokenErrorCode, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(f"{code}: {message}")


class ConnectionChanged(Exception):
    """A refresh failed with a token that is no longer the tenant's: the admin connected
    again (or disconnected) while it ran. The newer connection wins; nothing is written."""


class NotOwned(Exception):
    """This replica does not own the tenant (any more): only its owner may refresh it,
    or two replicas could spend the same rotating refresh token."""
