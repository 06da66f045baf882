"""Where the emulator's conformance tests (`tests/integration/emulator/conformance/`)
send their calls: the emulator by default, or a real Salesforce org (a sandbox) named by the
environment, so that anyone with a sandbox can check the emulator's truth.

    SF_CONFORMANCE_INSTANCE_URL   https://mydomain--sandbox.sandbox.my.salesforce.com
    SF_CONFORMANCE_ACCESS_TOKEN   a session id (e.g. from `sf org display`)
    SF_CONFORMANCE_API_VERSION    optional, default 59.0

Against a real org the tests run read-mostly. What a test needs that a real org cannot be
asked for over the API (an org created with switches, users, injected faults, the admin API,
an OAuth login) skips with the reason; a custom field a test declares must exist in the
sandbox as declared (checked with describe), else the test skips naming it; likewise a
test declaring `person_accounts` runs only when describe shows the org is of that kind.
Every record a test creates is deleted after it. A failing test is a difference between
the emulator and Salesforce: the run ends with a list of them.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import pytest
import requests
from simple_salesforce.api import Salesforce
from simple_salesforce.format import format_soql

from tests.emulator_fixtures import EmulatorOrg

INSTANCE_URL = "SF_CONFORMANCE_INSTANCE_URL"
ACCESS_TOKEN = "SF_CONFORMANCE_ACCESS_TOKEN"
API_VERSION = "SF_CONFORMANCE_API_VERSION"
DEFAULTS: Mapping[str, Any] = {
    "duplicate_rules": "alert",
    "name": None,
    "string_length_utf16": False,
    "soql_desc_nulls_first": False,
    "soql_strict_datetimes": False,
}
"""Org spec keys a real org is taken to satisfy as they are: the standard duplicate rules
are active in a new org, a name is only a label, and an inferred behaviour's default is
what the emulator claims Salesforce does (running it against a real org is how to learn)."""


def real_target() -> tuple[str, str] | None:
    """(instance URL, access token) when the environment names a real org."""
    url, token = os.environ.get(INSTANCE_URL), os.environ.get(ACCESS_TOKEN)
    if not url:
        return None
    if not token:
        raise pytest.UsageError(f"{INSTANCE_URL} is set: {ACCESS_TOKEN} must be too")
    return url.rstrip("/"), token


def _emulator_only(what: str) -> NoReturn:
    pytest.skip(f"emulator only: {what} cannot be done on a real org over the API")


class TrackingSession(requests.Session):
    """An HTTP session that remembers every record id a call through it created (the
    client's REST calls and its SFType calls alike), to delete them after the test."""

    def __init__(self) -> None:
        super().__init__()
        self.created: list[str] = []

    def request(  # type: ignore[override]
        self, method: str, url: str, *args: Any, **kwargs: Any
    ) -> requests.Response:
        response = super().request(method, url, *args, **kwargs)
        if method.upper() == "POST" and response.ok and response.content:
            with contextlib.suppress(ValueError):
                self.created.extend(_created_ids(response.json()))
        return response


def _created_ids(answer: Any) -> Iterator[str]:
    if isinstance(answer, dict):
        if answer.get("success") is True and isinstance(answer.get("id"), str):
            yield answer["id"]
        for sub in answer.get("compositeResponse", ()):
            body = sub.get("body") if isinstance(sub, dict) else None
            if int(sub.get("httpStatusCode", 500)) < 300:
                yield from _created_ids(body)
    elif isinstance(answer, list):
        for item in answer:
            yield from _created_ids(item)


@dataclass
class RealOrgTarget:
    """The conformance tests' `sf_emulator` when a real org is the target: the same calls
    where a real org can answer them, a skip where it cannot."""

    instance_url: str
    token: str
    version: str
    sessions: list[TrackingSession] = field(default_factory=list)

    def client(
        self, org: EmulatorOrg, token: str | None = None, version: str | None = None
    ) -> Salesforce:
        session = TrackingSession()
        self.sessions.append(session)
        return Salesforce(
            instance_url=self.instance_url,
            session_id=token or self.token,
            session=session,
            version=version or self.version,
        )

    def create_org(self, **spec: Any) -> EmulatorOrg:
        """The real org itself, when it is (or can be made, by creating records) what
        `spec` asks for; a skip otherwise."""
        for key, value in spec.items():
            if key in ("custom_fields", "records", "person_accounts"):
                continue
            if key not in DEFAULTS or (DEFAULTS[key] is not None and value != DEFAULTS[key]):
                _emulator_only(f"an org set up with {key}={value!r}")
        sf = self.client(self._org())
        if "person_accounts" in spec:
            self._require_person_accounts(sf, bool(spec["person_accounts"]))
        for declared in spec.get("custom_fields", ()):
            self._require_field(sf, declared)
        for sobject, rows in (spec.get("records") or {}).items():
            for row in rows:
                sf.restful(
                    f"sobjects/{sobject}",
                    method="POST",
                    json=row,
                    headers={"Sforce-Duplicate-Rule-Header": "allowSave=true"},
                )
        return self._org()

    def _org(self) -> EmulatorOrg:
        me = requests.get(
            f"{self.instance_url}/services/oauth2/userinfo",
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=30,
        )
        me.raise_for_status()
        info = me.json()
        return EmulatorOrg(
            org_id=info["organization_id"],
            name=self.instance_url,
            sandbox=True,
            instance_url=self.instance_url,
            login_url="",
            username=info.get("preferred_username", ""),
            password="",
            user_id=info["user_id"],
            access_token=self.token,
            refresh_token="",
            client_id="",
            client_secret="",
        )

    @staticmethod
    def _require_person_accounts(sf: Salesforce, wanted: bool) -> None:
        """A real org has Person Accounts or not, for good: describe says which (Account has
        `IsPersonAccount` only when they are on); a test asking for the other kind skips."""
        described = sf.restful("sobjects/Account/describe") or {}
        has = any(f["name"] == "IsPersonAccount" for f in described.get("fields", ()))
        if has != wanted:
            state = "has" if has else "does not have"
            pytest.skip(f"the org {state} Person Accounts; the test needs the other kind")

    @staticmethod
    def _require_field(sf: Salesforce, declared: Mapping[str, Any]) -> None:
        sobject, name = declared["object"], declared["name"]
        described = sf.restful(f"sobjects/{sobject}/describe") or {}
        fields = {f["name"]: f for f in described.get("fields", ())}
        found = fields.get(name)
        wanted = {
            "unique": bool(declared.get("unique")),
            "externalId": bool(declared.get("external_id")),
            "restrictedPicklist": bool(declared.get("restricted")),
        }
        if found is None or any(bool(found.get(k)) != v for k, v in wanted.items()):
            pytest.skip(f"the org needs {sobject}.{name} declared as {dict(declared)}")

    def cleanup(self) -> None:
        """Delete what the test created (newest first, 200 a call)."""
        ids = [i for session in self.sessions for i in reversed(session.created)]
        sf = self.client(self._org())
        versions = [i for i in ids if i.startswith("068")]
        if versions:  # a file goes with its ContentDocument (a version cannot be deleted)
            soql = format_soql(
                "SELECT ContentDocumentId FROM ContentVersion WHERE Id IN {}", versions
            )
            rows = sf.query(soql)
            ids = [i for i in ids if not i.startswith("068")]
            ids += [r["ContentDocumentId"] for r in rows["records"]]
        for start in range(0, len(ids), 200):
            chunk = ",".join(ids[start : start + 200])
            sf.restful(
                "composite/sobjects", params={"ids": chunk, "allOrNone": "false"}, method="DELETE"
            )

    # What only the emulator can do.
    @property
    def url(self) -> str:
        _emulator_only("the emulator's own endpoints")

    @property
    def admin(self) -> Any:
        _emulator_only("the admin API")

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        _emulator_only(f"{method} {path} (admin API)")

    def set_faults(self, org_id: str, **faults: Any) -> Any:
        _emulator_only("injected faults")

    def usage(self, org_id: str) -> Any:
        _emulator_only("the admin usage counter")

    def new_session(self, org_id: str) -> str:
        _emulator_only("minting sessions")

    def http_session(self) -> requests.Session:
        return requests.Session()


# The run's report (a pytest plugin: registered by the root conftest).
_differences: list[tuple[str, str]] = []


def is_conformance(node: Any) -> bool:
    """Whether a test is one of the emulator's conformance tests."""
    return "conformance" in Path(str(getattr(node, "path", ""))).parts


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if real_target() and is_conformance(item) and report.when == "call" and report.failed:
        lines = str(report.longrepr).strip().splitlines()
        _differences.append((item.nodeid, lines[-1] if lines else ""))
    return report


def pytest_terminal_summary(terminalreporter: Any) -> None:
    target = real_target()
    if target is None:
        return
    terminalreporter.section(f"conformance against {target[0]}")
    terminalreporter.write_line(
        f"{len(_differences)} difference(s) between the emulator and this org"
    )
    for nodeid, line in _differences:
        terminalreporter.write_line(f"  {nodeid}: {line}")
