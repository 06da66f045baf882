"""Pure helpers of the request/reply protocol."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from chat_runtime.request_reply import Reply, deadline_of, is_expired, is_reply_topic


def test_deadline_is_read_from_epoch_milliseconds() -> None:
    assert deadline_of({"deadline": "1700000000123"}) == 1700000000.123
    assert deadline_of({}) is None
    with pytest.raises(ValueError, match="soon"):
        deadline_of({"deadline": "soon"})


def test_expired_only_past_the_deadline() -> None:
    headers = {"deadline": "1000000"}  # 1000 s after the epoch
    assert is_expired(headers, now=1000.0)
    assert not is_expired(headers, now=999.9)
    assert not is_expired({}, now=1e12)  # no deadline: the responder's default applies
    # 0 is a deadline (the epoch), not "no deadline": long expired
    assert is_expired({"deadline": "0"}, now=1.0)


def test_only_reply_topics_take_replies() -> None:
    assert is_reply_topic("replies.crm-sync.host-1")
    for topic in ("chat.conversations.v1", "replies.", "replies", "xreplies.a", ""):
        assert not is_reply_topic(topic), topic


def test_reply_parses_into_models() -> None:
    class Answer(BaseModel):
        status: str

    reply = Reply(value=b'{"status": "ok"}', headers={}, correlation_id="c")
    assert reply.json() == {"status": "ok"}
    assert reply.parse(Answer) == Answer(status="ok")
