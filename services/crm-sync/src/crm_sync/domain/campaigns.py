"""Campaign membership (`campaign` setting): the visitor becomes a member of the chat's
campaign, named by id or by name (a UTM campaign name, most often), once per person and
campaign.

Once is Salesforce's to keep: a second membership of one person in one campaign is refused
(`DUPLICATE_VALUE` "Already a campaign member."), which crm-sync takes as done; so neither
a redelivered chat nor the visitor's next chat costs a read to find out. A campaign that
cannot be found or joined never fails a chat.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from chat_contracts.chat import Conversation
from chat_contracts.settings import UTM_CAMPAIGN, CampaignRule
from crm_sync.domain.mapping import source_value
from crm_sync.domain.salesforce import RecordError

_ID = re.compile(r"^701[A-Za-z0-9]{12}(?:[A-Za-z0-9]{3})?$")
ALREADY_A_MEMBER = "DUPLICATE_VALUE"


def campaign_value(conversation: Conversation, rule: CampaignRule) -> str | None:
    """The chat's campaign as the rule finds it (an id or a name), or None."""
    if rule.source == UTM_CAMPAIGN:
        page = conversation.request_page or ""
        values = parse_qs(urlsplit(page).query).get("utm_campaign") if page else None
        value: object = values[0] if values else None
    else:
        value = source_value(conversation, rule.source)
    text = str(value).strip() if value is not None else ""
    if not text:
        return None
    if rule.match == "id" and not _ID.match(text):
        return None  # not a Campaign id: nothing Salesforce could take
    return text


def joined(error: RecordError | None) -> bool:
    """Whether a membership's answer means the person is a member (now or already)."""
    return error is None or error.code == ALREADY_A_MEMBER
