"""The conformance tests run against the emulator, or against a real org when
`SF_CONFORMANCE_INSTANCE_URL` and `SF_CONFORMANCE_ACCESS_TOKEN` name one (see
`tests.conformance_target`)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.conformance_target import API_VERSION, RealOrgTarget, is_conformance, real_target
from tests.emulator_fixtures import SalesforceEmulator


@pytest.fixture
def sf_emulator(
    request: pytest.FixtureRequest, sf_emulator: SalesforceEmulator
) -> Iterator[SalesforceEmulator | RealOrgTarget]:
    target = real_target() if is_conformance(request.node) else None
    if target is None:
        yield sf_emulator
        return
    real = RealOrgTarget(*target, version=os.environ.get(API_VERSION, "59.0"))
    try:
        yield real
    finally:
        real.cleanup()
