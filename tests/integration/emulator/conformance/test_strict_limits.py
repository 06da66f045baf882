"""Conformance: request size and the daily API allocation.

- [S21] Help KB 000386264: the URI and headers of a REST call together are at most 16,384
  bytes; past that 431 Request Header Fields Too Large, or 414 URI Too Long when the URI
  alone is over. The 414 body is the front end's HTML page as captured in
  dxatscale/sfpowerscripts #860; the 431 body is inferred from it.
- [S28] REST API Developer Guide, "Limit Info Header": usage can pass the allocation
  (`api-usage=110018/100000; api-bursts=1/750`). Help "System Overview: API Usage": an
  org over its limit "can be temporarily blocked" until the last 24 hours drop below it;
  when the block starts is not documented, so it is an org switch (`api_limit_blocks`).
"""

# ruff: noqa: S608 - these strings are SOQL built from test constants, not SQL
from __future__ import annotations

import httpx
import pytest
from simple_salesforce.exceptions import SalesforceRefusedRequest

from tests.emulator_fixtures import EmulatorOrg, SalesforceEmulator, error_content, sobject

LEAD = {"LastName": "Doe", "Company": "Acme"}
QUERY = "/services/data/v59.0/query"


def _get(emu: SalesforceEmulator, org: EmulatorOrg, soql: str, **headers: str) -> httpx.Response:
    return emu.admin.get(
        QUERY,
        params={"q": soql},
        headers={"Authorization": f"Bearer {org.access_token}", **headers},
    )


def _in_list(n: int) -> str:
    return "SELECT Id FROM Lead WHERE Email IN ({})".format(
        ",".join(f"'l{i:05d}@example.com'" for i in range(n))
    )


def test_uri_and_headers_share_16384_bytes(
    sf_emulator: SalesforceEmulator, sf_org: EmulatorOrg
) -> None:
    """[S21]: 414 for a URI over the limit, 431 for URI and headers over it together."""
    long_ok = _in_list(500)  # about 14,600 bytes once encoded: still answered
    answer = _get(sf_emulator, sf_org, long_ok)
    assert len(str(answer.request.url.raw_path)) < 16_384
    assert answer.status_code == 200
    too_long = _get(sf_emulator, sf_org, _in_list(600))
    assert too_long.status_code == 414
    assert "URI Too Long" in too_long.text
    padded = _get(sf_emulator, sf_org, _in_list(400), **{"X-Padding": "p" * 7_000})
    assert padded.status_code == 431
    assert "Request Header Fields Too Large" in padded.text
    small = _get(sf_emulator, sf_org, "SELECT Id FROM Lead", **{"X-Padding": "p" * 7_000})
    assert small.status_code == 200


def test_the_daily_allocation_is_soft_by_default(sf_emulator: SalesforceEmulator) -> None:
    """[S28]: calls past the allocation are answered; the header shows the overage and the
    hours spent over it (`api-bursts`)."""
    org = sf_emulator.create_org(api_limit=3)
    leads = sobject(sf_emulator.client(org), "Lead")
    for _ in range(2):
        leads.create(LEAD)
    at_limit = _get(sf_emulator, org, "SELECT Id FROM Lead")
    assert at_limit.headers["Sforce-Limit-Info"] == "api-usage=3/3"
    assert leads.create(LEAD)["success"]
    assert leads.api_usage["api-usage"] == (4, 3)
    answer = _get(sf_emulator, org, "SELECT Id FROM Lead")
    assert answer.status_code == 200
    assert answer.headers["Sforce-Limit-Info"] == "api-usage=5/3; api-bursts=1/750"
    assert sf_emulator.usage(org.org_id)["total"] == 5


def test_an_org_may_block_calls_past_its_allocation(sf_emulator: SalesforceEmulator) -> None:
    """Help "System Overview: API Usage": blocked until the last 24 hours drop below the
    limit; the answer is 403 REQUEST_LIMIT_EXCEEDED (switch `api_limit_blocks`)."""
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
    assert sf_emulator.usage(org.org_id)["total"] == 3  # a refused call is not counted
