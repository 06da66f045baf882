"""`ActionError`: a bot action that fails with one of the contract's codes."""

from __future__ import annotations

from collections.abc import Sequence

from chat_contracts.bot_replies import BotErrorCode, BotErrorReply


class ActionError(Exception):
    """The action cannot be done; becomes a `BotErrorReply` with this code and message."""

    def __init__(self, code: BotErrorCode, message: str, fields: Sequence[str] = ()) -> None:
        self.code = code
        self.message = message or code.value
        self.fields = tuple(fields)
        super().__init__(f"{code.value}: {self.message}")

    def reply(self, tenant_id: str) -> BotErrorReply:
        """The error reply for a request of `tenant_id`."""
        return BotErrorReply(
            tenant_id=tenant_id,
            code=self.code,
            message=self.message[:2000],
            fields=self.fields or None,
        )


def validation(message: str, fields: Sequence[str] = ()) -> ActionError:
    """A `validation` error: the request itself is wrong."""
    return ActionError(BotErrorCode.VALIDATION, message, fields)


def unknown_fields(object_name: str, names: Sequence[str]) -> ActionError:
    """An `unknown_field` error naming the fields `object_name` does not have."""
    return ActionError(
        BotErrorCode.UNKNOWN_FIELD, f"{object_name} has no field {', '.join(names)}", names
    )
