"""The conformance suite's real-org mode, driven against the emulator standing in for a
sandbox: the same tests run through the real-org path (no admin API, records cleaned up,
differences listed), so the path a sandbox owner takes is itself tested."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conformance_target import ACCESS_TOKEN, INSTANCE_URL
from tests.emulator_fixtures import EmulatorOrg, SalesforceEmulator, rest

ROOT = Path(__file__).resolve().parents[3]
SUITE = Path("tests", "integration", "emulator", "conformance")
COUNTS = tuple(
    f"SELECT COUNT() FROM {o}"  # noqa: S608 - constant object names
    for o in ("Lead", "Contact", "Task", "Case", "Account", "Campaign", "CampaignMember")
)


def _suite(
    emulator: SalesforceEmulator, org: EmulatorOrg, module: str = ""
) -> subprocess.CompletedProcess[str]:
    """The conformance suite (or one module of it) with `org` as the real org."""
    env = {
        **os.environ,
        INSTANCE_URL: org.instance_url,
        ACCESS_TOKEN: org.access_token,
        "REQUESTS_CA_BUNDLE": emulator.ca_file,  # the emulator's CA, as a sandbox's is public
    }
    return subprocess.run(  # noqa: S603 - our own test suite
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:randomly",
            "-p",
            "no:cacheprovider",
            str(SUITE / module),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def _assert_clean(emulator: SalesforceEmulator, org: EmulatorOrg) -> None:
    sf = emulator.client(org)
    for soql in COUNTS:
        left = rest(sf, "query", params={"q": soql})
        assert left["totalSize"] == 0, soql  # every record a test made is deleted


def test_the_conformance_suite_runs_against_an_org_named_by_the_environment(
    sf_emulator: SalesforceEmulator,
) -> None:
    org = sf_emulator.create_org()
    env = {
        **os.environ,
        INSTANCE_URL: org.instance_url,
        ACCESS_TOKEN: org.access_token,
        "REQUESTS_CA_BUNDLE": sf_emulator.ca_file,
    }
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:randomly",
            "-p",
            "no:cacheprovider",
            "tests/integration/emulator/conformance",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    out = run.stdout
    assert run.returncode == 0, out[-3000:]
    assert f"conformance against {org.instance_url}" in out
    assert "0 difference(s) between the emulator and this org" in out
    assert " passed" in out
    assert " skipped" in out  # admin-only tests skip, the rest run
    _assert_clean(sf_emulator, org)


def test_a_difference_fails_the_run_and_is_listed(sf_emulator: SalesforceEmulator) -> None:
    # An "org" that differs from what the tests know of Salesforce: its standard duplicate
    # rules are off, so the tests expecting them to fire report a difference each.
    org = sf_emulator.create_org(duplicate_rules="off")
    run = _suite(sf_emulator, org, "test_strict_duplicates.py")
    assert run.returncode == 1, run.stdout[-3000:]
    listed = [line for line in run.stdout.splitlines() if line.startswith("  tests/")]
    assert listed, run.stdout[-3000:]
    assert f"{len(listed)} difference(s) between the emulator and this org" in run.stdout
    assert all("test_strict_duplicates.py::" in line for line in listed)
    _assert_clean(sf_emulator, org)


def test_person_account_tests_run_against_an_org_that_has_them(
    sf_emulator: SalesforceEmulator,
) -> None:
    # A real org either has Person Accounts or not: the tests that need them run (and
    # the one that needs their absence skips) when describe says the org has them.
    org = sf_emulator.create_org(person_accounts=True)
    run = _suite(sf_emulator, org, "test_person_accounts.py")
    assert run.returncode == 0, run.stdout[-3000:]
    assert "0 difference(s) between the emulator and this org" in run.stdout
    assert "1 skipped" in run.stdout, run.stdout[-3000:]
    _assert_clean(sf_emulator, org)
