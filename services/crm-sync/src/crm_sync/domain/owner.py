"""Who owns each record (the seed's rule): the active Salesforce User whose email is the
agent's, else the user set in the settings, else the user who connected the org."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from chat_contracts.chat import Conversation
from chat_contracts.settings import TenantSettings
from crm_sync.domain.salesforce import Row

OwnerSource = Literal["agent", "connected_user", "configured_user"]


@dataclass(frozen=True, slots=True)
class Owner:
    """The owner's user id and why it was chosen."""

    id: str
    source: OwnerSource


def agent_email(conversation: Conversation) -> str | None:
    """The agent's lower-cased email, if the chat names one."""
    agent = conversation.agent
    return agent.email if agent is not None and agent.email else None


def emails_to_look_up(
    conversations: Iterable[Conversation], settings: TenantSettings, known: Iterable[str]
) -> tuple[str, ...]:
    """Agent emails whose User is not cached yet (sorted, each once)."""
    if not settings.match_owner_by_agent_email:
        return ()
    seen = set(known)
    wanted = {e for c in conversations if (e := agent_email(c)) and e not in seen}
    return tuple(sorted(wanted))


def users_by_email(rows: Iterable[Row], asked: Iterable[str]) -> dict[str, str | None]:
    """Query rows as email -> user id, with None for each asked email no active User has
    (remembered too, so the miss is not asked again)."""
    found: dict[str, str | None] = dict.fromkeys(asked)
    for row in rows:
        email = row.get("Email")
        if isinstance(email, str) and email.lower() in found and found[email.lower()] is None:
            found[email.lower()] = str(row["Id"])
    return found


def resolve(
    conversation: Conversation,
    settings: TenantSettings,
    users: Mapping[str, str | None],
    connected_user_id: str,
    *,
    refused: Collection[str] = (),
) -> Owner:
    """The owner of the chat's records: the agent's user, else the configured one, else
    the connected user, skipping the users Salesforce `refused` as owner (inactive)."""
    email = agent_email(conversation)
    if settings.match_owner_by_agent_email and email is not None:
        user_id = users.get(email)
        if user_id and user_id not in refused:
            return Owner(user_id, "agent")
    fallback = settings.owner_fallback_user_id
    if fallback and fallback not in refused:
        return Owner(fallback, "configured_user")
    return Owner(connected_user_id, "connected_user")
