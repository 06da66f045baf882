"""Check deploy/k8s and the Dockerfile offline: what `make k8s-validate` runs.

    .venv/bin/python -m deploy.k8s.validate

1. the generated Strimzi files match the topic registry and the access table;
2. every overlay renders with kustomize and every resource it renders validates, strictly
   (unknown fields are errors), against the schemas committed in deploy/k8s/schemas/:
   Kubernetes' own kinds and the Strimzi, KEDA and Prometheus Operator CRDs; a kind without
   a schema there fails too;
3. hadolint passes on deploy/Dockerfile.

The tools come from .tools/bin (`make k8s-tools`) or PATH. The structural checks of our
own (probes, limits, ACLs against the code, ...) are tests: tests/unit/deploy.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from deploy.k8s import generate

K8S_DIR = Path(__file__).resolve().parent
ROOT = K8S_DIR.parent.parent
OVERLAYS_DIR = K8S_DIR / "overlays"
SCHEMAS_DIR = K8S_DIR / "schemas"
TOOLS_BIN = ROOT / ".tools" / "bin"
# kubeconform fills these templates per resource; the first file that exists is used.
SCHEMA_LOCATIONS = (
    str(SCHEMAS_DIR / "kubernetes" / "{{ .ResourceKind }}{{ .KindSuffix }}.json"),
    str(
        SCHEMAS_DIR / "crds" / "{{ .Group }}" / "{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json"
    ),
)


class ToolMissing(RuntimeError):
    """A tool is not installed; the message says how to install it."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """The result of one check: passed or not, and what the tool said."""

    ok: bool
    output: str


def tool(name: str) -> str:
    """The path of `name` in .tools/bin, else on PATH."""
    local = TOOLS_BIN / name
    if local.is_file():
        return str(local)
    found = shutil.which(name)
    if found is None:
        raise ToolMissing(f"{name} is not installed: run `make k8s-tools`")
    return found


def _run(*args: str, stdin: str | None = None) -> Outcome:
    result = subprocess.run(  # noqa: S603 - our own tools, fixed arguments
        args, input=stdin, capture_output=True, text=True, check=False
    )
    return Outcome(result.returncode == 0, (result.stdout + result.stderr).strip())


def overlays() -> list[Path]:
    """Every overlay folder (one with a kustomization.yaml) under deploy/k8s/overlays/."""
    return sorted(p.parent for p in OVERLAYS_DIR.glob("*/kustomization.yaml"))


def render(path: Path) -> str:
    """The manifests kustomize builds from `path`; RuntimeError with its message if it fails."""
    outcome = _run(tool("kustomize"), "build", str(path))
    if not outcome.ok:
        raise RuntimeError(f"kustomize build {path.relative_to(ROOT)} failed:\n{outcome.output}")
    return outcome.output + "\n"


def conform(manifests: str) -> Outcome:
    """kubeconform over `manifests`, strict, against the committed schemas only."""
    locations = [arg for loc in SCHEMA_LOCATIONS for arg in ("-schema-location", loc)]
    return _run(tool("kubeconform"), "-strict", "-summary", *locations, "-", stdin=manifests)


DOCKERFILE = ROOT / "deploy" / "Dockerfile"
"""The one Dockerfile every service's image is built from (the service a build argument)."""


def dockerfiles() -> list[Path]:
    """The Dockerfiles to lint."""
    return [DOCKERFILE]


def lint_dockerfiles() -> Outcome:
    """hadolint over every Dockerfile."""
    return _run(tool("hadolint"), *map(str, dockerfiles()))


def main() -> int:
    """Run every check, print what failed; 0 when all passed."""
    failures = 0
    for path, diff in generate.stale().items():
        print(f"FAIL {path.relative_to(ROOT)} is out of date: `python -m deploy.k8s.generate`")
        print(diff)
        failures += 1
    for overlay in overlays():
        name = overlay.relative_to(ROOT)
        try:
            outcome = conform(render(overlay))
        except RuntimeError as exc:
            outcome = Outcome(False, str(exc))
        print(f"{'ok  ' if outcome.ok else 'FAIL'} {name}: {outcome.output.splitlines()[-1]}")
        if not outcome.ok:
            print(outcome.output)
            failures += 1
    lint = lint_dockerfiles()
    names = ", ".join(str(p.relative_to(ROOT)) for p in dockerfiles())
    print(f"{'ok  ' if lint.ok else 'FAIL'} hadolint {names}")
    if not lint.ok:
        print(lint.output)
        failures += 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
