"""The committed JSON Schema snapshots, and the export/check command that keeps them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from chat_contracts import schemas
from chat_contracts.registry import all_models


def test_committed_snapshots_match_the_models() -> None:
    # Fails when a change breaks a consumer of a snapshot without a new schema_version
    # (bump it), or when a compatible change was not exported (run the export command).
    report = schemas.check()
    assert report.ok, "\n".join(
        [*report.breaking, *report.outdated, "see libs/contracts/README.md"]
    )


def test_every_model_has_a_snapshot_file_named_after_it() -> None:
    names = {p.stem for p in schemas.SCHEMA_DIR.glob("*.json")}
    for model in all_models():
        assert f"{model.__name__}.v{model.version()}" in names


@pytest.fixture
def snapshot_dir(tmp_path: Path) -> Path:
    target = tmp_path / "schemas"
    shutil.copytree(schemas.SCHEMA_DIR, target)
    return target


def test_export_into_an_empty_dir_writes_every_model_and_then_checks_clean(tmp_path: Path) -> None:
    report, written = schemas.export(tmp_path)
    assert not report.breaking
    assert len(written) == len(all_models())
    assert schemas.check(tmp_path).ok
    assert schemas.export(tmp_path)[1] == []  # idempotent


def test_export_refuses_to_overwrite_a_breaking_change(snapshot_dir: Path) -> None:
    path = snapshot_dir / "Conversation.v1.json"
    snapshot = json.loads(path.read_text())
    snapshot["properties"]["legacy"] = {"type": "string"}  # a field the model no longer has
    path.write_text(json.dumps(snapshot))
    before = path.read_text()
    report, written = schemas.export(snapshot_dir)
    assert written == []
    assert any("$.legacy: field removed" in line for line in report.breaking)
    assert path.read_text() == before


def test_cli_exit_codes(snapshot_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert schemas.main(["check", "--dir", str(snapshot_dir)]) == 0
    path = snapshot_dir / "TokenRequest.v1.json"
    snapshot = json.loads(path.read_text())
    snapshot["properties"]["force_refresh"]["description"] = "stale text"
    path.write_text(json.dumps(snapshot))
    assert schemas.main(["check", "--dir", str(snapshot_dir)]) == 2
    assert "snapshot outdated: run export" in capsys.readouterr().err
    assert schemas.main(["export", "--dir", str(snapshot_dir)]) == 0
    assert schemas.main(["check", "--dir", str(snapshot_dir)]) == 0
    snapshot["required"] = [*snapshot.get("required", []), "gone"]
    snapshot["properties"]["gone"] = {"type": "string"}
    path.write_text(json.dumps(snapshot))
    assert schemas.main(["check", "--dir", str(snapshot_dir)]) == 1
    assert schemas.main(["export", "--dir", str(snapshot_dir)]) == 1
    assert "BREAKING TokenRequest.v1: $.gone: field removed" in capsys.readouterr().err
