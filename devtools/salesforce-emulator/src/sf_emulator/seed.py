"""Seed files: orgs with fixed ids and credentials, so local runs are reproducible.

The file is `{"orgs": [<the body of POST /__admin/orgs>, ...]}`; give each org an
`org_id` so that a restart over the same data file skips the orgs it already has.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sf_emulator.emulator import Emulator
from sf_emulator.provisioning import create_org


def apply_seed(emu: Emulator, path: Path, instance_url: str) -> list[dict[str, Any]]:
    """Create the seed's orgs that do not exist yet; returns what was created."""
    spec = json.loads(path.read_text())
    created = []
    for org in spec.get("orgs", []):
        if org.get("org_id") and emu.store.orgs.get(org["org_id"]):
            continue
        created.append(create_org(emu, org, instance_url))
    return created
