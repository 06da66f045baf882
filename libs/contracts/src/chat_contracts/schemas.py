"""JSON Schema snapshots of every message model, and the command that keeps them.

    python -m chat_contracts.schemas export   # write libs/contracts/schemas/<Model>.v<N>.json
    python -m chat_contracts.schemas check    # fail on a breaking or unexported change

Files are only touched by `export` (a developer tool); the models themselves do no I/O.
`export` refuses to overwrite a snapshot with a breaking change: bump the model's
`schema_version` instead, which writes a new file beside the old one.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from chat_contracts.base import Envelope
from chat_contracts.registry import all_models
from chat_contracts.snapshots import CheckReport, check_snapshots

# src/chat_contracts/schemas.py -> libs/contracts/schemas
SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schemas"


def snapshot_name(model: type[Envelope]) -> str:
    """`<ModelName>.v<schema_version>`, the snapshot's file name without `.json`."""
    return f"{model.__name__}.v{model.version()}"


def model_schema(model: type[Envelope]) -> dict[str, Any]:
    """The JSON Schema a consumer validates the model's messages against."""
    schema = model.model_json_schema(mode="validation")
    normalised: dict[str, Any] = json.loads(json.dumps(schema))
    return normalised


def current_schemas(models: Iterable[type[Envelope]] | None = None) -> dict[str, dict[str, Any]]:
    """Snapshot name to schema for the given models (default: every message model)."""
    return {snapshot_name(m): model_schema(m) for m in (models or all_models())}


def render(schema: dict[str, Any]) -> str:
    """The exact text of a snapshot file."""
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def load_snapshots(directory: Path = SCHEMA_DIR) -> dict[str, dict[str, Any]]:
    """Every committed snapshot in `directory`, by name."""
    return {p.stem: json.loads(p.read_text("utf-8")) for p in sorted(directory.glob("*.json"))}


def check(directory: Path = SCHEMA_DIR) -> CheckReport:
    """Check the current models against the snapshots in `directory`."""
    return check_snapshots(current_schemas(), load_snapshots(directory))


def export(directory: Path = SCHEMA_DIR) -> tuple[CheckReport, list[str]]:
    """Write the current snapshots unless that would hide a breaking change.

    Returns the check report and the names written; nothing is written when the report
    has breaking findings. Snapshots of older versions are never deleted.
    """
    report = check(directory)
    if report.breaking:
        return report, []
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in current_schemas().items():
        path = directory / f"{name}.json"
        text = render(schema)
        if not path.exists() or path.read_text("utf-8") != text:
            path.write_text(text, "utf-8")
            written.append(name)
    return report, written


def main(argv: Sequence[str] | None = None) -> int:
    """CLI: `export` or `check`. Exit 0 when fine, 1 on a breaking change, 2 when outdated."""
    parser = argparse.ArgumentParser(prog="python -m chat_contracts.schemas")
    parser.add_argument("command", choices=("export", "check"))
    parser.add_argument("--dir", type=Path, default=SCHEMA_DIR, help="snapshot directory")
    args = parser.parse_args(argv)
    if args.command == "export":
        report, written = export(args.dir)
        for line in report.breaking:
            print(f"BREAKING {line}", file=sys.stderr)
        if report.breaking:
            print("nothing written: bump schema_version of the models above", file=sys.stderr)
            return 1
        print(f"{len(written)} snapshot(s) written to {args.dir}")
        return 0
    report = check(args.dir)
    for line in report.breaking:
        print(f"BREAKING {line}", file=sys.stderr)
    for line in report.outdated:
        print(f"OUTDATED {line}", file=sys.stderr)
    if report.ok:
        print(f"{len(current_schemas())} schemas match their snapshots")
    return 1 if report.breaking else 2 if report.outdated else 0


if __name__ == "__main__":
    raise SystemExit(main())
