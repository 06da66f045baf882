"""The one Dockerfile of every service's image, checked without a Docker engine.

Besides hadolint and its shape, the build stage is replayed for each service with that
service's build arguments: its COPY instructions (through .dockerignore) into a scratch
folder and its `uv sync` steps, offline from uv's cache, into a scratch venv, in which the
entry point must then exist and import.
"""

from __future__ import annotations

import fnmatch
import importlib
import os
import re
import shlex
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from deploy.k8s import validate
from tests.unit.deploy.manifests import ROOT, Overlay, import_name, pyproject, service_dir

RUN_AS = "10001:10001"
VENV = "/app/.venv"
DOCKERFILE = validate.DOCKERFILE
SERVICES = sorted(
    d.name
    for d in (ROOT / "services").iterdir()
    if (d / "src" / import_name(d.name) / "app.py").exists()
)


def build_args(service: str) -> dict[str, str]:
    """What the image of `service` must be built with: its folder, package and port."""
    module = import_name(service)
    settings = importlib.import_module(f"{module}.config").Settings
    return {
        "SERVICE": service,
        "PACKAGE": pyproject(service)["project"]["name"],
        "PORT": str(settings.model_fields["http_port"].default),
    }


def documented_builds() -> dict[str, dict[str, str]]:
    """The `docker build` lines of the Dockerfile's header: image name -> build args."""
    builds = {}
    for line in DOCKERFILE.read_text("utf-8").splitlines():
        if line.startswith("#   docker build "):
            words = shlex.split(line.removeprefix("#"))
            args = dict(
                words[i + 1].split("=", 1) for i, w in enumerate(words) if w == "--build-arg"
            )
            image = words[words.index("-t") + 1].removeprefix("chat-salesforce/")
            builds[image] = args
    return builds


def expand(text: str, args: dict[str, str]) -> str:
    """`${NAME}` replaced by the build argument, as Docker does."""
    return re.sub(r"\$\{(\w+)\}", lambda m: args.get(m.group(1), m.group(0)), text)


@dataclass
class Stage:
    """One `FROM` stage: its base, alias and instructions (name, arguments)."""

    base: str
    alias: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def args(self, name: str) -> list[str]:
        return [a for n, a in self.instructions if n == name]


def parse(path: Path) -> list[Stage]:
    """A Dockerfile's stages; continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", path.read_text("utf-8"))
    stages: list[Stage] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, _, args = line.partition(" ")
        name, args = name.upper(), " ".join(args.split())
        if name == "FROM":
            base, _, alias = args.partition(" AS ")
            stages.append(Stage(base, alias or None))
        elif stages:
            stages[-1].instructions.append((name, args))
    return stages


def parse_preamble(path: Path) -> list[tuple[str, str]]:
    """Instructions before the first FROM (global ARGs)."""
    out = []
    for line in path.read_text("utf-8").splitlines():
        if line.startswith("FROM "):
            break
        if line.startswith("ARG "):
            out.append(("ARG", line.removeprefix("ARG ").strip()))
    return out


def _uv_version() -> str:
    match = re.search(r"^UV_VERSION \?= (\S+)$", (ROOT / "Makefile").read_text("utf-8"), re.M)
    assert match, "the Makefile pins uv"
    return match.group(1)


def _uv_sync(run: str) -> list[str] | None:
    """The `uv sync ...` words of a RUN instruction (its mounts dropped), if it is one."""
    words = [w for w in shlex.split(run) if not w.startswith("--mount=")]
    return words if words[:2] == ["uv", "sync"] else None


def _uv_syncs(stage: Stage) -> list[list[str]]:
    return [words for run in stage.args("RUN") if (words := _uv_sync(run))]


def test_every_service_has_a_deployment_and_a_documented_build(prod: Overlay) -> None:
    images = {service_dir(d) for d in prod.deployments()}
    assert set(SERVICES) == images, "every service with an app runs as a Deployment"
    assert documented_builds() == {service: build_args(service) for service in SERVICES}


def test_two_stages_on_one_python_and_uv_only_in_the_first() -> None:
    build, runtime = parse(DOCKERFILE)
    assert build.base == runtime.base == "${PYTHON_IMAGE}"
    assert build.alias == "build"
    (default,) = [
        a for n, a in parse_preamble(DOCKERFILE) if n == "ARG" and a.startswith("PYTHON_IMAGE=")
    ]
    # The workspace's Python (requires-python = ">=3.11,<3.12"), slim: no compilers.
    assert re.fullmatch(r"PYTHON_IMAGE=python:3\.11-slim-\w+", default)
    assert f"pip install --no-cache-dir uv=={_uv_version()}" in build.args("RUN")
    for run in runtime.args("RUN"):
        assert not re.search(r"\b(uv|apt-get|apk|gcc|make|pip install)\b", run), run
    assert runtime.args("COPY") == [f"--from=build {VENV} {VENV}"]


@pytest.mark.parametrize("service", SERVICES)
def test_dependencies_then_project_with_uv_sync_frozen(service: str) -> None:
    args = build_args(service)
    build, _ = parse(DOCKERFILE)
    deps, project = ([expand(w, args) for w in words] for words in _uv_syncs(build))
    assert {"--frozen", "--no-dev", "--no-install-workspace"} <= set(deps)
    assert {"--frozen", "--no-dev", "--no-editable"} <= set(project)
    for sync in (deps, project):
        assert sync[sync.index("--package") + 1] == args["PACKAGE"]
    # Only the lock and the root pyproject before the dependency layer, so that a change
    # of our code does not rebuild it; then our code and the second sync.
    steps = [
        f"COPY {expand(a, args)}" if n == "COPY" else "SYNC"
        for n, a in build.instructions
        if n == "COPY" or (n == "RUN" and _uv_sync(a))
    ]
    folder = f"services/{service}/"
    assert steps == [
        "COPY uv.lock pyproject.toml ./",
        "SYNC",
        "COPY libs/ libs/",
        f"COPY {folder} {folder}",
        "SYNC",
    ]


@pytest.mark.parametrize("service", SERVICES)
def test_runs_as_a_non_root_user_on_the_services_port(service: str) -> None:
    args = build_args(service)
    build, runtime = parse(DOCKERFILE)
    assert runtime.args("USER") == [RUN_AS]
    assert [expand(e, args) for e in runtime.args("EXPOSE")] == [args["PORT"]]
    (entrypoint,) = runtime.args("ENTRYPOINT")
    assert entrypoint == f'["{VENV}/bin/serve"]'  # exec form: the service is PID 1
    link = f'ln -s "{VENV}/bin/{args["PACKAGE"]}" {VENV}/bin/serve'
    assert link in [expand(run, args) for run in build.args("RUN")]
    script = pyproject(service)["project"]["scripts"][args["PACKAGE"]]
    assert script == f"{import_name(service)}.app:main"


def test_hadolint_passes() -> None:
    try:
        outcome = validate.lint_dockerfiles()
    except validate.ToolMissing as exc:
        pytest.skip(str(exc))
    assert outcome.ok, outcome.output


def _dockerignore() -> list[tuple[bool, str]]:
    rules = []
    for line in (ROOT / ".dockerignore").read_text("utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            rules.append((line.startswith("!"), line.lstrip("!").rstrip("/")))
    return rules


def _ignored(rel: str, rules: list[tuple[bool, str]]) -> bool:
    # Docker's rule: the last pattern matching the path or one of its parents decides.
    parts = rel.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    ignored = False
    for negated, pattern in rules:
        patterns = {pattern, pattern.removeprefix("**/")}
        if any(fnmatch.fnmatchcase(c, p) for c in candidates for p in patterns):
            ignored = not negated
    return ignored


def _copy_context(source: str, dest: Path, rules: list[tuple[bool, str]]) -> None:
    src = ROOT / source
    files = [src] if src.is_file() else [p for p in src.rglob("*") if p.is_file()]
    for file in files:
        rel = file.relative_to(ROOT).as_posix()
        if _ignored(rel, rules):
            continue
        target = dest / file.name if src.is_file() else dest / file.relative_to(src)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(file, target)


def _uv() -> str:
    local = ROOT / ".tools" / "uv" / "bin" / "uv"
    found = str(local) if local.exists() else shutil.which("uv")
    if found is None:
        pytest.skip("uv is not installed: run `make setup`")
    return found


@pytest.mark.parametrize("service", SERVICES)
def test_the_build_stage_replays_offline_into_a_venv_that_runs_the_service(
    service: str, tmp_path: Path
) -> None:
    args = build_args(service)
    module = import_name(service)
    build, _ = parse(DOCKERFILE)
    rules = _dockerignore()
    workdir, venv = tmp_path / "src", tmp_path / "venv"
    workdir.mkdir()
    env = {
        **os.environ,
        "UV_PROJECT_ENVIRONMENT": str(venv),
        "UV_PYTHON_DOWNLOADS": "never",
        "UV_PYTHON": "3.11",
    }
    for name, arguments in build.instructions:
        if name == "COPY":
            *sources, dest = expand(arguments, args).split()
            for source in sources:
                _copy_context(source, workdir / dest, rules)
        elif name == "RUN" and (sync := _uv_sync(expand(arguments, args))):
            result = subprocess.run(  # noqa: S603 - uv with the Dockerfile's own arguments
                [_uv(), *sync[1:], "--offline", "--quiet"],
                cwd=workdir,
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            assert result.returncode == 0, f"{arguments}\n{result.stderr}"
    assert (venv / "bin" / args["PACKAGE"]).exists(), "the entry point the image links to"
    check = f"import importlib.util as u, {module}.app; assert u.find_spec('{module}.__main__')"
    result = subprocess.run(  # noqa: S603 - the replayed venv's interpreter
        [str(venv / "bin" / "python"), "-c", check],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert not (workdir / ".venv").exists(), "the project venv must be the one in /app"
