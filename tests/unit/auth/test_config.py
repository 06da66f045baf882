"""Settings: missing secrets are named, keys are checked, demo mode stays local."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest

from auth_service.config import DEMO_ADMIN_TOKEN, Settings
from chat_runtime.settings import ConfigError, load_settings
from tests.unit.auth.fakes import b64key

SEED = Path(__file__).resolve().parents[3] / "devtools" / "salesforce-emulator" / "demo-seed.json"
SECRETS = {
    "client_id": "3MVG9.app",
    "client_secret": "shh",
    "admin_token": "admin",
    "link_secret": "links",
}


def test_every_missing_secret_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("AUTH_"):
            monkeypatch.delenv(name)
    with pytest.raises(ConfigError) as caught:
        load_settings(Settings)
    message = str(caught.value)
    for variable in (
        "AUTH_CLIENT_ID",
        "AUTH_CLIENT_SECRET",
        "AUTH_ENCRYPTION_KEYS",
        "AUTH_ADMIN_TOKEN",
        "AUTH_LINK_SECRET",
    ):
        assert variable in message


def test_keys_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTH_ENCRYPTION_KEYS", json.dumps({"k1": b64key(), "k2": b64key()}))
    monkeypatch.setenv("AUTH_ENCRYPTION_KEY_ID", "k2")
    settings = load_settings(Settings, **SECRETS)
    ring = settings.key_ring()
    assert ring.active_id == "k2"
    assert set(ring.key_ids) == {"k1", "k2"}
    assert settings.http_port == 8004
    assert settings.redirect_uri == "http://127.0.0.1:8004/oauth/callback"


def test_one_key_is_active_without_naming_it() -> None:
    settings = load_settings(Settings, encryption_keys={"only": b64key()}, **SECRETS)
    assert settings.encryption_key_id == "only"


@pytest.mark.parametrize(
    ("keys", "key_id", "problem"),
    [
        ({"k1": base64.b64encode(b"short").decode()}, "", "must be the base64 of 32 bytes"),
        ({"k1": "not base64!"}, "", "must be the base64 of 32 bytes"),
        ({"k1": b64key(), "k2": b64key()}, "", "AUTH_ENCRYPTION_KEY_ID is required"),
        ({"k1": b64key()}, "k9", "names no key"),
        ({"bad.id": b64key()}, "", "AUTH_ENCRYPTION_KEYS"),
    ],
)
def test_bad_keys_are_refused_without_quoting_them(
    keys: dict[str, str], key_id: str, problem: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(Settings, encryption_keys=keys, encryption_key_id=key_id, **SECRETS)
    assert problem in str(caught.value)
    for value in keys.values():
        assert value not in str(caught.value)


def test_demo_seed_fills_local_values() -> None:
    settings = load_settings(Settings, demo_seed=SEED)
    assert settings.demo is not None
    assert settings.demo.tenant_id == "10000"
    assert settings.client_id.startswith("3MVG9demo")
    assert settings.secret("admin_token") == DEMO_ADMIN_TOKEN
    seed = json.loads(SEED.read_text())["orgs"][0]
    assert settings.demo.refresh_token.get_secret_value() == seed["refresh_token"]
    assert seed["refresh_token"] not in repr(settings)


def test_demo_seed_is_refused_against_a_real_login_host() -> None:
    with pytest.raises(ConfigError, match="local runs only"):
        load_settings(Settings, demo_seed=SEED, sf_login_url="https://login.salesforce.com")


def test_a_missing_seed_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="AUTH_DEMO_SEED"):
        load_settings(Settings, demo_seed=tmp_path / "nope.json")


def bulk_seed(tmp_path: Path, *tenants: str) -> Path:
    orgs = [{"tenant_id": t, "refresh_token": f"5Aep.{t}"} for t in tenants]
    orgs.append({"name": "an org no tenant uses"})
    path = tmp_path / "bulk.json"
    path.write_text(json.dumps({"orgs": orgs}))
    return path


def test_bulk_seed_names_every_tenant_with_a_token(tmp_path: Path) -> None:
    seed = bulk_seed(tmp_path, "t1", "t2", "t3")
    settings = load_settings(Settings, bulk_seed=seed, encryption_keys={"k1": b64key()}, **SECRETS)
    assert [t.tenant_id for t in settings.bulk] == ["t1", "t2", "t3"]
    assert "5Aep.t1" not in repr(settings)


@pytest.mark.parametrize(
    ("setting", "value", "named"),
    [
        ("kafka_bootstrap_servers", "127.0.0.1:9092,kafka.prod:9092", "KAFKA_BOOTSTRAP_SERVERS"),
        ("sf_login_url", "https://login.salesforce.com", "AUTH_SF_LOGIN_URL"),
    ],
)
def test_bulk_seed_is_refused_unless_kafka_and_salesforce_are_local(
    tmp_path: Path, setting: str, value: str, named: str
) -> None:
    seed = bulk_seed(tmp_path, "t1")
    with pytest.raises(ConfigError, match=f"local runs only: {named}"):
        load_settings(
            Settings,
            bulk_seed=seed,
            encryption_keys={"k1": b64key()},
            **{setting: value},
            **SECRETS,
        )


def test_a_bulk_seed_with_a_tenant_twice_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unique"):
        load_settings(
            Settings,
            bulk_seed=bulk_seed(tmp_path, "t1", "t1"),
            encryption_keys={"k1": b64key()},
            **SECRETS,
        )
