"""Hostile bot requests, generated (hypothesis), against bot-actions on the real broker and
the emulator: every request gets exactly one answer, and that answer is never a crash.

What a visitor types reaches bot-actions as `{!Visitor.X}` values and as field values:
SOQL and template metacharacters, numbers no field holds, control characters, long texts.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from faststream.asgi import AsgiFastStream
from hypothesis import given, settings
from hypothesis import strategies as st

from chat_runtime.request_reply import RequestReplyClient

NASTY_VALUES = [
    "' OR Id != null --",
    "\\' OR ''='",
    "%_\\",
    "{!Visitor.Email}",
    "{!Nope}",
    "@{x}",
    "<script>alert(1)</script>",
    "\u0000\u202e\ufeff\ud7ff",
    "nan",
    "-inf",
    "1e999999999",
    "-1e-999999999",
    "12",
    "2024-05-01",
    "2024-05-01T12:00:00Z",
    "true",
    "x" * 20_000,
]
NASTY = st.sampled_from(NASTY_VALUES)
TYPED = [("Account", "NumberOfEmployees"), ("Lead", "CreatedDate"), ("Lead", "IsConverted")]
TEXT = st.one_of(NASTY, st.text(max_size=60))
VALUE = st.one_of(TEXT, st.integers(), st.floats(allow_nan=False), st.booleans(), st.none())
OBJECT = st.sampled_from(["Lead", "lead", "Account", "Contact", "Lead' OR", "", "Nope__c"])
FIELD = st.sampled_from(["Email", "NumberOfEmployees", "Company", "CreatedDate", "Id", "x y"])
SOQL = st.builds(
    # A bot author's SOQL, hostile on purpose: bot-actions must refuse or escape it.
    lambda field, obj, tail: f"SELECT Id FROM {obj} WHERE {field} = '{{!Visitor.Email}}'{tail}",  # noqa: S608
    FIELD,
    OBJECT,
    st.sampled_from(["", " LIMIT 1", " OR Id != null", "; DELETE", " ORDER BY Name"]),
)


def requests(tenant: str) -> st.SearchStrategy[dict[str, Any]]:
    variables = st.dictionaries(st.sampled_from(["Visitor.Email", "Visitor.Name"]), VALUE)
    typed = st.sampled_from(TYPED)
    return st.one_of(
        # Typed fields, where a value becomes an unquoted literal once checked.
        typed.flatmap(
            lambda of: st.fixed_dictionaries(
                {
                    "action": st.just("find_record"),
                    "object": st.just(of[0]),
                    "field": st.just(of[1]),
                    "value": NASTY,
                }
            )
        ),
        st.fixed_dictionaries(
            {"action": st.just("find_record"), "object": OBJECT, "field": FIELD, "value": TEXT},
            optional={"variables": variables, "save": st.dictionaries(FIELD, st.text(max_size=8))},
        ),
        st.fixed_dictionaries(
            {"action": st.just("find_record_by_soql"), "soql": SOQL},
            optional={"variables": variables},
        ),
        st.fixed_dictionaries(
            {
                "action": st.just("create_record"),
                "object": OBJECT,
                "fields": st.dictionaries(FIELD, VALUE, max_size=3),
            },
            optional={"variables": variables},
        ),
        st.fixed_dictionaries(
            {"action": st.sampled_from(["describe_object", "drop"]), "object": OBJECT}
        ),
    ).map(lambda body: {"tenant_id": tenant, **body})


async def test_every_hostile_request_gets_one_answer_never_a_crash(
    bot_app: AsgiFastStream, rr: RequestReplyClient, request_topic: str, tenant: str
) -> None:
    bodies: list[dict[str, Any]] = []

    @settings(max_examples=120, derandomize=True, database=None, deadline=None)
    @given(requests(tenant))
    def collect(body: dict[str, Any]) -> None:
        bodies.append(body)

    collect()
    # Every hostile value against every typed field too, where a value that passes its
    # check is written unquoted: generated examples may miss a pair.
    bodies += [
        {"tenant_id": tenant, "action": "find_record", "object": o, "field": f, "value": v}
        for o, f in TYPED
        for v in NASTY_VALUES
    ]
    raw = [json.dumps(b).encode() for b in bodies]
    replies = await asyncio.gather(
        *(rr.request(request_topic, body, key=tenant.encode(), timeout=30) for body in raw)
    )
    for body, reply in zip(bodies, replies, strict=True):
        answer = reply.json()
        assert answer["status"] in {"created", "updated", "found", "not_found", "ok", "error"}
        if answer["status"] == "error":
            # A clear refusal, never a bug or a hang inside bot-actions.
            assert answer["code"] not in {"internal", "deadline_exceeded"}, (body, answer)
            assert answer["message"], body
