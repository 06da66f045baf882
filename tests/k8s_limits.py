"""What a process may use in Kubernetes, read from the manifests, and what it used here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

BASE = Path(__file__).resolve().parent.parent / "deploy" / "k8s" / "base"
_UNITS = {"Ki": 1 / 1024, "Mi": 1, "Gi": 1024}


def memory_limit_mib(deployment: str) -> float:
    """The memory limit of `deployment`'s container in the base manifests, in MiB."""
    for path in BASE.rglob("*.yaml"):
        for doc in yaml.safe_load_all(path.read_text()):
            if not _is_deployment(doc, deployment):
                continue
            [container] = doc["spec"]["template"]["spec"]["containers"]
            value = str(container["resources"]["limits"]["memory"])
            for unit, factor in _UNITS.items():
                if value.endswith(unit):
                    return float(value.removesuffix(unit)) * factor
            return float(value) / (1024 * 1024)
    raise LookupError(f"no Deployment {deployment} in the base manifests")


def _is_deployment(doc: Any, name: str) -> bool:
    return (
        isinstance(doc, dict)
        and doc.get("kind") == "Deployment"
        and doc.get("metadata", {}).get("name") == name
    )


def peak_rss_mib(pid: int) -> float:
    """The peak resident set size of a running process (Linux `VmHWM`), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise LookupError("no VmHWM")
