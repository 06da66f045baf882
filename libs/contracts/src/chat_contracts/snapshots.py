"""Compare the current message schemas with their committed snapshots. Pure: no files here.

Snapshots are named `Model.vN` after the model and its `schema_version`. Only the snapshot
of a model's current version is compared; older ones stay as history of what once ran.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chat_contracts.compat import breaking_changes

_SNAPSHOT_NAME = re.compile(r"^(?P<model>[A-Za-z_][A-Za-z0-9_]*)\.v(?P<version>[0-9]+)$")


@dataclass(frozen=True, slots=True)
class CheckReport:
    """Result of checking current schemas against the committed snapshots."""

    breaking: tuple[str, ...] = ()
    outdated: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True when nothing is breaking and every snapshot is current."""
        return not self.breaking and not self.outdated


def parse_snapshot_name(name: str) -> tuple[str, int]:
    """Split `Model.v3` into ("Model", 3); ValueError for any other form."""
    match = _SNAPSHOT_NAME.match(name)
    if match is None:
        raise ValueError(f"not a snapshot name (Model.vN): {name!r}")
    return match["model"], int(match["version"])


def check_snapshots(
    current: Mapping[str, Mapping[str, Any]], snapshots: Mapping[str, Mapping[str, Any]]
) -> CheckReport:
    """Compare current schemas with snapshots; both map `Model.vN` to a JSON Schema.

    A snapshot of the model's current version must be compatible (else breaking: bump
    `schema_version`) and equal (else outdated: run export). Snapshots of older versions
    are history and not compared. A snapshot whose model is gone is breaking.
    """
    versions = dict(parse_snapshot_name(name) for name in current)
    breaking: list[str] = []
    outdated: list[str] = []
    for name in sorted(snapshots):
        model, version = parse_snapshot_name(name)
        if model not in versions:
            breaking.append(f"{name}: model removed; its consumers break")
        elif version > versions[model]:
            breaking.append(f"{name}: schema_version went back to {versions[model]}")
        elif version == versions[model]:
            found = breaking_changes(snapshots[name], current[name])
            breaking += [f"{name}: {f} (bump schema_version)" for f in found]
            if not found and snapshots[name] != current[name]:
                outdated.append(f"{name}: snapshot outdated: run export")
    outdated += [f"{n}: no snapshot yet: run export" for n in sorted(current) if n not in snapshots]
    return CheckReport(tuple(breaking), tuple(outdated))
