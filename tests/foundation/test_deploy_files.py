"""docker-compose.yml is valid (Debian's docker-compose accepts it) and every command is a real CLI command."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
FUNRUN_SERVICES = ("migrate", "api", "worker")


@pytest.fixture(scope="module")
def compose(tmp_path_factory: pytest.TempPathFactory) -> dict:
    if shutil.which("docker-compose") is None:
        pytest.fail("docker-compose is missing: `make test` installs it (scripts/services.sh)")
    work = tmp_path_factory.mktemp("compose")
    shutil.copy(ROOT / "docker-compose.yml", work / "docker-compose.yml")
    shutil.copy(ROOT / ".env.example", work / ".env")
    result = subprocess.run(
        ["docker-compose", "config"], cwd=work, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)


def test_compose_has_every_service_with_health_checks(compose: dict) -> None:
    services = compose["services"]
    assert {"postgres", "redis", "migrate", "api", "worker"} <= set(services)
    for name in ("postgres", "redis", "api", "worker"):
        assert "healthcheck" in services[name], name
    assert services["api"]["environment"]["REDIS_URL"].startswith("redis://")
    assert any("media" in str(v) for v in services["worker"]["volumes"])


@pytest.mark.parametrize("service", FUNRUN_SERVICES)
def test_service_command_exists_in_cli(compose: dict, service: str) -> None:
    command = compose["services"][service]["command"]
    assert command[0] == "funrun"
    # `--help` after the real arguments proves the subcommand and its options exist.
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", *command[1:], "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


def test_dockerfile_copies_existing_paths() -> None:
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if line.startswith("COPY "):
            for source in line.split()[1:-1]:
                assert (ROOT / source).exists(), source
