"""API usage, the daily limit, and the admin API's fault injection."""

from __future__ import annotations

import time

import pytest
import requests
from simple_salesforce.exceptions import (
    SalesforceExpiredSession,
    SalesforceGeneralError,
    SalesforceMalformedRequest,
    SalesforceRefusedRequest,
)

from tests.emulator_fixtures import EmulatorOrg, SalesforceEmulator, error_content, rest, sobject

LEAD = {"LastName": "Doe", "Company": "Acme"}


def test_every_call_is_counted_and_reported(sf_emulator: SalesforceEmulator) -> None:
    org = sf_emulator.create_org(api_limit=500)
    sf = sf_emulator.client(org)
    leads = sobject(sf, "Lead")  # simple-salesforce keeps api_usage per SFType instance
    leads.create(LEAD)
    assert leads.api_usage["api-usage"] == (1, 500)
    sf.query("SELECT Id FROM Lead")
    assert sf.api_usage["api-usage"] == (2, 500)
    assert sf.limits()["DailyApiRequests"] == {"Max": 500, "Remaining": 497}
    usage = sf_emulator.usage(org.org_id)
    assert usage["total"] == 3
    assert usage["by_resource"] == {"create": 1, "limits": 1, "query": 1}


def test_request_limit_exceeded_is_403(sf_emulator: SalesforceEmulator) -> None:
    org = sf_emulator.create_org(api_limit=3, api_limit_blocks=True)
    leads = sobject(sf_emulator.client(org), "Lead")
    for _ in range(3):
        leads.create(LEAD)
    with pytest.raises(SalesforceRefusedRequest) as exc:
        leads.create(LEAD)
    assert exc.value.status == 403
    assert error_content(exc.value) == [
        {"errorCode": "REQUEST_LIMIT_EXCEEDED", "message": "TotalRequests Limit exceeded."}
    ]
    sf_emulator.call("PATCH", f"/__admin/orgs/{org.org_id}", json={"api_limit": 10})
    assert leads.create(LEAD)["success"]


def test_injected_503s_and_lock_errors(
    sf_emulator: SalesforceEmulator, sf_org: EmulatorOrg
) -> None:
    sf = sf_emulator.client(sf_org)
    leads = sobject(sf, "Lead")
    sf_emulator.set_faults(sf_org.org_id, error_503_rate=1.0)
    with pytest.raises(SalesforceGeneralError) as exc:
        sf.query("SELECT Id FROM Lead")
    assert exc.value.status == 503
    sf_emulator.set_faults(sf_org.org_id, lock_row_rate=1.0)
    assert sf.query("SELECT Id FROM Lead")["totalSize"] == 0  # reads never lock
    with pytest.raises(SalesforceMalformedRequest) as lock:
        leads.create(LEAD)
    assert error_content(lock.value)[0]["errorCode"] == "UNABLE_TO_LOCK_ROW"
    results = rest(
        sf,
        "composite/sobjects",
        method="POST",
        json={"records": [{"attributes": {"type": "Lead"}, **LEAD}] * 2},
    )
    assert [r["errors"][0]["statusCode"] for r in results] == ["UNABLE_TO_LOCK_ROW"] * 2
    sf_emulator.set_faults(sf_org.org_id)
    assert leads.create(LEAD)["success"]


def test_seeded_fault_rates_are_reproducible(sf_emulator: SalesforceEmulator) -> None:
    outcomes = []
    for _ in range(2):
        org = sf_emulator.create_org()
        sf = sf_emulator.client(org)
        sf_emulator.set_faults(org.org_id, error_503_rate=0.5, seed=7)
        run = []
        for _ in range(20):
            try:
                sf.limits()
                run.append(True)
            except SalesforceGeneralError:
                run.append(False)
        outcomes.append(run)
    assert outcomes[0] == outcomes[1]
    assert 0 < sum(outcomes[0]) < 20


def test_latency_and_hangs(sf_emulator: SalesforceEmulator, sf_org: EmulatorOrg) -> None:
    sf = sf_emulator.client(sf_org)
    sf_emulator.set_faults(sf_org.org_id, latency_ms=200)
    start = time.perf_counter()
    sf.limits()
    assert time.perf_counter() - start >= 0.2
    sf_emulator.set_faults(sf_org.org_id, hang_rate=1.0, hang_seconds=1.5)
    with pytest.raises(requests.exceptions.ReadTimeout):
        sf.session.post(sf.base_url + "sobjects/Lead", headers=sf.headers, json=LEAD, timeout=0.3)
    sf_emulator.set_faults(sf_org.org_id)
    time.sleep(1.3)
    # The hung write was committed: exactly the ambiguity a client's retry must survive.
    assert sf.query("SELECT COUNT() FROM Lead")["totalSize"] == 1


def test_session_timeout_and_admin_sessions(sf_emulator: SalesforceEmulator) -> None:
    org = sf_emulator.create_org(session_timeout=1)
    leads = sobject(sf_emulator.client(org), "Lead")
    assert leads.create(LEAD)["success"]
    time.sleep(1.1)
    with pytest.raises(SalesforceExpiredSession):
        leads.create(LEAD)
    faults = sf_emulator.call("GET", f"/__admin/orgs/{org.org_id}/faults").json()
    assert faults["error_503_rate"] == 0.0
    listed = sf_emulator.call("GET", "/__admin/orgs").json()
    assert org.org_id in {o["org_id"] for o in listed}
