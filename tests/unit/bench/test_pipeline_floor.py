"""The pipeline bench's floor of writes per chat (`bench/pipeline.py: write_floor`): the
figure its closing notes compare API calls per chat with, so it is held to by hand-made
cases here."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[3] / "bench"


@pytest.fixture(scope="module")
def pipeline() -> ModuleType:
    sys.path.insert(0, str(BENCH))  # the bench imports its siblings by name
    try:
        spec = importlib.util.spec_from_file_location("bench_pipeline", BENCH / "pipeline.py")
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(BENCH))


def chats(tenant: str, *times: float) -> list[tuple[str, str, str, float]]:
    return [(f"{tenant}-{n}", tenant, "v@x.example", t) for n, t in enumerate(times)]


def test_a_write_carries_only_chats_within_the_bound_of_its_first(pipeline: ModuleType) -> None:
    # 0, 4 and 5 share a write; 5.1 is more than 5 s after 0, so it needs another, which
    # 9 shares; 20 is alone.
    assert pipeline.write_floor(chats("a", 0, 4, 5, 5.1, 9, 20), "broken", 5.0) == 3


def test_tenants_never_share_a_write(pipeline: ModuleType) -> None:
    assert pipeline.write_floor(chats("a", 0, 1) + chats("b", 0.5, 1.5), "broken", 5.0) == 2


def test_a_write_carries_at_most_a_batch(pipeline: ModuleType) -> None:
    assert pipeline.write_floor(chats("a", *[0.0] * 401), "broken", 5.0, batch=200) == 3


def test_the_broken_tenants_chats_wait_for_its_org_and_go_in_full_batches(
    pipeline: ModuleType,
) -> None:
    spread = chats("down", *[i * 10.0 for i in range(250)])
    assert pipeline.write_floor(spread, "down", 5.0, batch=200) == 2
