"""`bot.actions.v1`: the request/reply protocol is the runtime's responder
(`chat_runtime.request_reply.consumer`); this is the one thing it calls per request.

The body arrives validated as a `BotActionRequest` (a request that does not parse, or
whose key names another tenant, was answered `validation` by the responder); the reply is
the action's, and `bot_actions_requests_total{action,outcome}` counts it.
"""

from __future__ import annotations

import time

from pydantic import BaseModel, TypeAdapter

from bot_actions.handlers.actions import BotActions, BotRequest
from bot_actions.metrics import BotMetrics
from chat_contracts.bot import BotActionRequest
from chat_runtime.request_reply.responder import Handler, Request, reply_outcome

REQUEST_TYPE: TypeAdapter[BotRequest] = TypeAdapter(BotActionRequest)


def bot_action_handler(actions: BotActions, metrics: BotMetrics) -> Handler[BotRequest]:
    """The responder's handler: run the action, count it by action and outcome."""

    async def handle(request: Request[BotRequest]) -> BaseModel:
        started = time.perf_counter()
        reply = await actions.handle(request.body)
        metrics.answered(request.body.action, reply_outcome(reply), time.perf_counter() - started)
        return reply

    return handle
