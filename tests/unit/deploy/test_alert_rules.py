"""The alert rules under promtool: valid (`check rules`) and firing as intended (`test
rules`, deploy/k8s/monitoring-tests). `make setup` installs promtool (Debian's prometheus
package); where it cannot, these tests are skipped, saying so."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
RULE = ROOT / "deploy" / "k8s" / "base" / "monitoring" / "prometheusrule.yaml"
TESTS = ROOT / "deploy" / "k8s" / "monitoring-tests"

PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None, reason="promtool is not installed (make setup installs it)"
)


def _rules(directory: Path) -> Path:
    """The PrometheusRule's groups as a plain rules file, as promtool reads them."""
    spec = yaml.safe_load(RULE.read_text())["spec"]
    path = directory / "rules.yaml"
    path.write_text(yaml.safe_dump({"groups": spec["groups"]}, sort_keys=False))
    return path


def _promtool(*args: str) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL is not None
    return subprocess.run(  # noqa: S603 - a fixed tool, our own files
        [PROMTOOL, *args], capture_output=True, text=True, timeout=120, check=False
    )


@needs_promtool
def test_the_rules_are_valid(tmp_path: Path) -> None:
    run = _promtool("check", "rules", str(_rules(tmp_path)))
    assert run.returncode == 0, run.stdout + run.stderr


@needs_promtool
def test_the_burn_rate_alerts_fire_when_they_should(tmp_path: Path) -> None:
    _rules(tmp_path)
    for test in sorted(TESTS.glob("*_test.yaml")):
        shutil.copy(test, tmp_path / test.name)
        run = _promtool("test", "rules", str(tmp_path / test.name))
        assert run.returncode == 0, run.stdout + run.stderr
