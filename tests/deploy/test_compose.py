"""compose.yaml against the Compose Specification's JSON schema, and the rules of the deployment."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft201909Validator

from server.config import DEFAULTS

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((Path(__file__).parent / "compose_spec.json").read_text(encoding="utf-8"))
APP_SERVICES = ("migrate", "web", "worker")


def _compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))  # merge keys (<<) resolved


def _errors(document: dict[str, Any]) -> list[str]:
    validator = Draft201909Validator(SCHEMA)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)]


def test_compose_file_is_valid_against_the_compose_specification() -> None:
    assert _errors(_compose()) == []


def test_the_schema_check_catches_a_mistake() -> None:
    broken = copy.deepcopy(_compose())
    broken["services"]["worker"]["helthcheck"] = broken["services"]["worker"].pop("healthcheck")
    broken["services"]["redis"]["ports"] = 6379
    errors = _errors(broken)
    assert any("helthcheck" in e for e in errors) and any(e.startswith("services/redis/ports") for e in errors)


def test_services_scale_and_share_state_only_through_database_queue_and_bucket() -> None:
    services = _compose()["services"]
    assert {"web", "worker", "redis", "postgres", "migrate"} <= services.keys()
    redis_command = " ".join(services["redis"]["command"])
    assert "--appendonly yes" in redis_command and "--maxmemory-policy noeviction" in redis_command
    worker = services["worker"]
    # `--scale worker=N`: no fixed name, no host port.
    assert "container_name" not in worker and "ports" not in worker
    assert worker["command"] == ["hackathon", "worker"]
    assert services["web"]["command"][:2] == ["hackathon", "serve"]
    for name in APP_SERVICES:
        service = services[name]
        assert "volumes" not in service, f"{name} must not share a folder"
        env = service["environment"]
        for key in ("DATABASE_URL", "REDIS_URL", "HACKATHON_STORAGE_URL", "HACKATHON_LABELS_STORAGE_URL"):
            assert env.get(key), (name, key)
        unknown = [k for k in env if k.startswith("HACKATHON_") and k[len("HACKATHON_"):] not in DEFAULTS]
        assert unknown == [], f"{name}: not configuration keys of server/config.py: {unknown}"
        assert service["depends_on"]["migrate" if name != "migrate" else "postgres"]["condition"] in (
            "service_completed_successfully", "service_healthy")
    for name, service in services.items():
        if service.get("restart") != "no":
            assert "test" in service.get("healthcheck", {}), f"{name} has no health check"


def test_dockerfile_is_multi_stage_non_root_with_a_health_check() -> None:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    stages = re.findall(r"^FROM (\S+)", text, flags=re.M)
    assert len(stages) >= 2 and all(s == "debian:bookworm-slim" for s in stages)
    users = re.findall(r"^USER (\S+)", text, flags=re.M)
    assert users and users[-1] not in ("root", "0")
    assert re.search(r"^HEALTHCHECK .*CMD", text, flags=re.M | re.S)
    assert "scripts/smoke.sh" in text and (ROOT / "scripts" / "smoke.sh").stat().st_mode & 0o111
