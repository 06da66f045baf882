"""Every model survives JSON both ways, and every topic parses what its producers write."""

from __future__ import annotations

import pytest

from chat_contracts import MODELS_BY_TOPIC, REPLY_MODELS_BY_TOPIC, TOPICS, Envelope
from chat_contracts.registry import all_models, reply_adapter, value_adapter
from tests.unit.contracts.samples import all_samples

SAMPLES = all_samples()


def test_samples_cover_every_model() -> None:
    assert {type(s) for s in SAMPLES} == set(all_models())


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: type(s).__name__)
def test_json_round_trip(sample: Envelope) -> None:
    wire = sample.model_dump_json()
    again = type(sample).model_validate_json(wire)
    assert again == sample
    assert again.model_dump_json() == wire


def test_registry_covers_every_topic() -> None:
    assert set(MODELS_BY_TOPIC) == {t.name for t in TOPICS}
    assert all(MODELS_BY_TOPIC.values())


def test_request_topics_have_replies() -> None:
    assert set(REPLY_MODELS_BY_TOPIC) == {
        "crm.commands.v1",
        "bot.actions.v1",
        "auth.token-requests.v1",
    }


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: type(s).__name__)
def test_topic_adapters_parse_their_models(sample: Envelope) -> None:
    wire = sample.model_dump_json()
    for topic_name, models in MODELS_BY_TOPIC.items():
        if type(sample) in models:
            assert value_adapter(topic_name).validate_json(wire) == sample
    for topic_name, models in REPLY_MODELS_BY_TOPIC.items():
        if type(sample) in models:
            assert reply_adapter(topic_name).validate_json(wire) == sample


def test_every_model_pins_an_integer_schema_version() -> None:
    for model in all_models():
        assert isinstance(model.version(), int)
        assert model.model_config.get("frozen") is True
        assert model.model_config.get("extra") == "forbid"


def test_reply_adapter_refuses_a_topic_without_replies() -> None:
    with pytest.raises(KeyError):
        reply_adapter("chat.conversations.v1")
