"""docker-compose.yml is valid (Debian's docker-compose accepts it) and every command is a real CLI command."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def _services_with_a_command() -> list[str]:
    """Every service of docker-compose.yml that sets a command (read at collection time)."""
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    return sorted(name for name, service in services.items() if "command" in service)


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


@pytest.mark.parametrize("service", _services_with_a_command())
def test_service_command_exists_in_cli(compose: dict, service: str) -> None:
    definition = compose["services"][service]
    command = definition["command"]
    if "build" not in definition:
        # A third-party image (redis): its command is that image's program, not ours.
        assert not str(definition.get("image", "")).startswith("funrun"), service
        assert command[0] != "funrun", service
        return
    assert command[0] == "funrun", service
    # `--help` after the real arguments proves the subcommand and its options exist.
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", *command[1:], "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


def test_funrun_services_all_have_a_command() -> None:
    commands = _services_with_a_command()
    assert {"migrate", "api", "worker"} <= set(commands)


def test_dockerfile_copies_existing_paths() -> None:
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if line.startswith("COPY "):
            for source in line.split()[1:-1]:
                assert (ROOT / source).exists(), source


# PostgreSQL major shipped by each Debian release a python:*-slim-<release> image can be built on.
DEBIAN_POSTGRES = {"bookworm": 15, "trixie": 17}


def test_image_has_a_pg_dump_at_least_as_new_as_the_server(compose: dict) -> None:
    """`funrun backup` runs pg_dump, which refuses a server newer than itself."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    base = re.search(r"^FROM python:[\d.]+-slim-(\w+)", dockerfile, re.M)
    client = re.search(r"apt-get install[^\n]*postgresql-client-(\d+)", dockerfile)
    assert base and client, "the image must install a versioned postgresql-client"
    assert DEBIAN_POSTGRES.get(base.group(1)) == int(client.group(1)), "not in that release"
    server = re.fullmatch(r"postgres:(\d+)(?:[.-].*)?", compose["services"]["postgres"]["image"])
    assert server, compose["services"]["postgres"]["image"]
    assert int(client.group(1)) >= int(server.group(1))


def test_api_scales_behind_the_proxy(compose: dict) -> None:
    """`--scale api=N` needs api without a fixed host port; the proxy owns port 8000."""
    services = compose["services"]
    assert not services["api"].get("ports"), "a host port on api breaks --scale api=N"
    assert any("8000" in str(p) for p in services["proxy"]["ports"])
    assert (ROOT / "deploy" / "Caddyfile").is_file()
