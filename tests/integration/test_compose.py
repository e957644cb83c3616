"""docker-compose.yml and ops/Dockerfile: the compose file parses (with docker-compose when it
is installed, as CI does, and always with PyYAML) and keeps the promises README's
"Deployment" makes: durable Redis, scalable workers, one beat, health checks, a dev profile,
every setting passed through, no secret and no root in the image."""

from __future__ import annotations

import re
import shutil
import subprocess
from typing import Any

import pytest
import yaml

from ops.processes import ROOT
from worker.settings import FIELDS

pytestmark = pytest.mark.integration

COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "ops" / "Dockerfile"
APP_SERVICES = ("api", "worker", "beat")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    # PyYAML's safe loader resolves anchors and `<<` merge keys as compose does.
    return dict(yaml.safe_load(COMPOSE.read_text()))


def _services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return dict(compose["services"])


def _command(service: dict[str, Any]) -> list[str]:
    command = service["command"]
    return command.split() if isinstance(command, str) else [str(c) for c in command]


def _resolve_defaults(text: str) -> str:
    """``${NAME:-default}`` as compose resolves it with NAME unset."""
    return re.sub(r"\$\{[A-Z0-9_]+:-([^}]*)\}", r"\1", text)


@pytest.mark.parametrize("profile", [None, "dev"])
def test_the_compose_file_parses(profile: str | None, compose: dict[str, Any]) -> None:
    """``docker-compose config -q`` when the tool is there (CI installs it); otherwise the
    checks compose would make first: known top-level keys and an image or build per
    service."""
    tool = shutil.which("docker-compose")
    if tool is not None:
        argv = [tool, "-f", str(COMPOSE)] + (["--profile", profile] if profile else [])
        done = subprocess.run([*argv, "config", "-q"], cwd=ROOT, capture_output=True,
                              text=True, timeout=60)
        assert done.returncode == 0, done.stderr
    assert set(compose) - {"services", "volumes"} <= {k for k in compose if k.startswith("x-")}
    active = {name: svc for name, svc in _services(compose).items()
              if profile in svc.get("profiles", [None]) or not svc.get("profiles")}
    assert set(APP_SERVICES) | {"redis"} <= set(active)
    for name, svc in active.items():
        assert "image" in svc or "build" in svc, name


def test_redis_keeps_an_append_only_file_on_a_volume(compose: dict[str, Any]) -> None:
    redis = _services(compose)["redis"]
    args = _command(redis)
    assert args[args.index("--appendonly") + 1] == "yes"
    assert args[args.index("--appendfsync") + 1] == "everysec"
    assert args[args.index("--maxmemory-policy") + 1] == "noeviction"
    volume = next(v for v in redis["volumes"] if v.endswith(":/data"))
    assert volume.split(":")[0] in compose["volumes"]
    assert "healthcheck" in redis


def test_workers_scale_and_beat_is_one(compose: dict[str, Any]) -> None:
    services = _services(compose)
    worker, beat = services["worker"], services["beat"]
    for key in ("container_name", "ports", "hostname"):
        assert key not in worker, key
    assert _command(worker)[:2] == ["kvsigner", "worker"] and "--beat" not in _command(worker)
    assert "test" in worker["healthcheck"]
    assert "--beat" in _command(beat)
    assert beat.get("deploy", {}).get("replicas", 1) == 1


def test_under_contention_the_api_gets_the_cpu_first(compose: dict[str, Any]) -> None:
    services = _services(compose)
    assert "cpu_shares" not in services["api"]  # Docker's default weight, 1024
    for name in ("worker", "beat"):
        assert 0 < int(services[name]["cpu_shares"]) < 1024, name


def test_the_api_runs_under_gunicorn_with_a_health_check(compose: dict[str, Any]) -> None:
    api = _services(compose)["api"]
    args = [_resolve_defaults(a) for a in _command(api)]
    assert args[:2] == ["gunicorn", "api.wsgi:app"]
    assert args[args.index("-c") + 1] == "python:api.gunicorn_conf"  # the warm-up hooks
    assert args[args.index("--worker-class") + 1] == "gthread"
    assert int(args[args.index("--threads") + 1]) > 1
    assert args[args.index("--bind") + 1] == "0.0.0.0:8080"
    assert any(_resolve_defaults(p).endswith(":8080") for p in api["ports"])
    assert "/healthz" in " ".join(api["healthcheck"]["test"])


def test_dependencies_wait_for_health(compose: dict[str, Any]) -> None:
    services = _services(compose)
    for name, svc in services.items():
        for dep, cond in (svc.get("depends_on") or {}).items():
            assert cond["condition"] == "service_healthy", (name, dep)
            assert "healthcheck" in services[dep], dep
            # A service outside the dev profile cannot wait for one inside it.
            if not svc.get("profiles"):
                assert not services[dep].get("profiles"), (name, dep)


def test_the_dev_profile_adds_anvil_and_the_emulator(compose: dict[str, Any]) -> None:
    services = _services(compose)
    for name in ("anvil", "emulator", "fund"):
        assert services[name]["profiles"] == ["dev"], name
    assert services["anvil"]["build"]["target"] == "anvil"
    emulator = _command(services["emulator"])
    assert emulator[:2] == ["kvsigner", "keyvault-emulator"]
    assert emulator[emulator.index("--host") + 1] == "0.0.0.0"  # noqa: S104 - in its container
    assert emulator[emulator.index("--advertise-host") + 1] == "emulator"
    assert emulator[emulator.index("--san") + 1] == "emulator"
    data_dir = emulator[emulator.index("--data-dir") + 1]
    assert f"emulator:{data_dir}" in services["emulator"]["volumes"]
    for name in APP_SERVICES:
        # Its CA and emulator.env are read from the shared volume, never written.
        assert f"emulator:{data_dir}:ro" in services[name]["volumes"], name
        env_file = services[name]["environment"]["KVSIGNER_DEV_ENV_FILE"]
        assert env_file == f"{data_dir}/emulator.env", name


def test_every_setting_is_passed_through_and_none_is_written_here(
        compose: dict[str, Any]) -> None:
    for name in APP_SERVICES:
        env = _services(compose)[name]["environment"]
        missing = sorted(f.env for f in FIELDS if f.env not in env)
        assert not missing, f"add to x-kvsigner-env in docker-compose.yml: {missing}"
        for field in FIELDS:
            if field.secret:
                assert env[field.env] is None, field.env  # from the shell or .env only


def test_the_image_runs_as_a_user_and_bakes_in_no_secret() -> None:
    text = DOCKERFILE.read_text()
    stages = re.findall(r"^FROM\s+(\S+)\s+AS\s+(\S+)", text, flags=re.MULTILINE)
    assert [name for _, name in stages][-1] == "kvsigner"  # the default target
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.11-slim", text, flags=re.MULTILINE)
    final = text[text.rindex("AS kvsigner"):]
    users = re.findall(r"^USER\s+(\S+)", final, flags=re.MULTILINE)
    assert users and users[-1] not in ("root", "0")
    secret_names = {f.env for f in FIELDS if f.secret}
    for line in text.splitlines():
        if line.startswith(("ENV ", "ARG ")):
            assert not any(name in line for name in secret_names), line
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".env", "*.env", ".kvsigner", ".venv", ".git"} <= set(ignored)
