"""Benchmark of the Salesforce emulator, so that it is never what limits later benches.

Starts the emulator as a subprocess (HTTPS on loopback, in-memory SQLite) and measures,
through simple-salesforce as the services use it:
  - single-record creates per second (sequential, one client),
  - a 200-record sObject Collections create (median ms),
  - a query matching 200 emails against 100,000 Leads (median ms; Email is indexed).
The 100,000 Leads go in through the admin bulk-load endpoint to keep the bench short.
Targets: >= 300 creates/s, Collections 200 < 150 ms, the 200-email query < 100 ms.
The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import itertools
import json
import ssl
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import cast

import httpx
import requests
from _common import start_emulator
from simple_salesforce.api import Salesforce, SFType
from simple_salesforce.format import format_soql

SINGLE_CREATES = 1000
COLLECTION_ROUNDS = 20
LEADS = 100_000
LOAD_CHUNK = 10_000
QUERY_ROUNDS = 20


def timed(fn: Callable[[], object], rounds: int) -> list[float]:
    out = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        proc, url, ca = start_emulator(Path(tmp))
        try:
            figures = run(url, ca)
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    print(json.dumps(figures))


def run(url: str, ca: str) -> dict[str, float | int | bool]:
    admin = httpx.Client(
        base_url=url, verify=ssl.create_default_context(cafile=ca), trust_env=False, timeout=120
    )
    org = admin.post("/__admin/orgs", json={"name": "Bench", "api_limit": 10_000_000}).json()
    session = requests.Session()
    session.verify, session.trust_env = ca, False
    sf = Salesforce(
        instance_url=org["instance_url"], session_id=org["access_token"], session=session
    )
    leads = cast(SFType, sf.Lead)

    for i in range(50):  # warm-up: connection, caches
        leads.create({"LastName": f"warm{i}", "Company": "Bench"})
    t0 = time.perf_counter()
    for i in range(SINGLE_CREATES):
        leads.create({"LastName": f"single{i}", "Company": "Bench", "Email": f"s{i}@bench.example"})
    single_per_s = SINGLE_CREATES / (time.perf_counter() - t0)
    print(f"single creates: {single_per_s:.0f}/s over {SINGLE_CREATES}")

    rounds = itertools.count()

    def collection() -> None:
        n = next(rounds)
        records = [
            {
                "attributes": {"type": "Lead"},
                "LastName": f"c{n}-{i}",
                "Company": "Bench",
                "Email": f"c{n}-{i}@bench.example",
            }
            for i in range(200)
        ]
        results = sf.restful(
            "composite/sobjects", method="POST", json={"allOrNone": True, "records": records}
        )
        assert results is not None
        assert all(r["success"] for r in results)

    coll = timed(collection, COLLECTION_ROUNDS)
    print(
        f"collections create 200: median {statistics.median(coll):.1f} ms, max {max(coll):.1f} ms"
    )

    t0 = time.perf_counter()
    for start_at in range(0, LEADS, LOAD_CHUNK):
        rows = [
            {"LastName": f"Lead {i}", "Company": "Bulk", "Email": f"lead{i}@bulk.example"}
            for i in range(start_at, start_at + LOAD_CHUNK)
        ]
        resp = admin.post(
            f"/__admin/orgs/{org['org_id']}/sobjects/Lead/bulk-load", json={"records": rows}
        )
        resp.raise_for_status()
    load_s = time.perf_counter() - t0
    print(f"bulk-loaded {LEADS} Leads in {load_s:.1f} s")

    step = LEADS // 200
    emails = [f"LEAD{i}@bulk.example" for i in range(0, LEADS, step)]
    soql = format_soql("SELECT Id, Email, OwnerId FROM Lead WHERE Email IN {}", emails)

    def query() -> None:
        result = sf.query(soql)
        assert result["totalSize"] == 200, result["totalSize"]

    q = timed(query, QUERY_ROUNDS)
    print(
        f"query 200 emails in {LEADS} Leads: median {statistics.median(q):.1f} ms, "
        f"max {max(q):.1f} ms"
    )
    # Closed before the emulator stops, so its graceful shutdown has no idle keep-alives.
    admin.close()
    session.close()
    single, coll_ms, query_ms = single_per_s, statistics.median(coll), statistics.median(q)
    return {
        "single_create_per_s": round(single, 1),
        "collection_create_200_ms": round(coll_ms, 1),
        "query_200_emails_ms": round(query_ms, 1),
        "collection_create_200_max_ms": round(max(coll), 1),
        "query_200_emails_max_ms": round(max(q), 1),
        "leads": LEADS,
        "bulk_load_s": round(load_s, 1),
        "targets_met": single >= 300 and coll_ms < 150 and query_ms < 100,
    }


if __name__ == "__main__":
    main()
