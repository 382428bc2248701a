"""Issue 9: ``trading-host fleet check`` reports every problem of a fleet at once, each with its
fix, like ``matrix --check``; ``fleet nginx`` renders the same plan, and ``nginx -t`` accepts it;
``fleet k8s`` and ``fleet compose`` validate offline against the official schemas (pinned by the
``fleet`` extra: kubernetes-validate's Kubernetes schemas, check-jsonschema's vendored compose-spec).
No process is started here but nginx's own check."""

from __future__ import annotations

import importlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import forked
import pytest
from harness import BIN, clean_env

if os.environ.get("TRADING_FLEET_TESTS") != "require":
    pytest.importorskip("supervisor", reason="the fleet tests run in `nox -s fleet` (trading-host[fleet])")

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "fleet" / "trading.toml"
KUBERNETES = "1.31.0"
"""The Kubernetes release whose schemas the manifests must meet."""

BAD = """
[fleet]
port_base = 20000
database_url = "sqlite+aiosqlite:///./broker.db"

[fleet.services.core]
global_versions = ["v1", "v7"]

[fleet.services.broker_a]
module = "broker"
version = "v1"
replicas = 2

[fleet.services.broker_b]
module = "broker"
version = "v1"
port = 20001

[fleet.services.feed]
module = "datafeed"
version = "v1"
replicas = 0
"""


def fleet(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return forked.run([str(BIN / "trading-host"), "fleet", *args], cwd=cwd, env=clean_env(**env))


def test_check_reports_every_problem_at_once_with_its_fix(tmp_path: Path) -> None:
    config = tmp_path / "fleet.toml"
    config.write_text(BAD)
    result = fleet("check", "--json", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 2
    problems = json.loads(result.stdout)["problems"]
    codes = {p["code"] for p in problems}
    # replicas = 0 is refused by the model, so the rest of [fleet] is not judged...
    assert codes == {"fleet-invalid-value"}, problems
    assert "fleet.services.feed.replicas" in problems[0]["message"]

    # ... and with it corrected, every other problem is reported together.
    config.write_text(BAD.replace("replicas = 0", "replicas = 1"))
    result = fleet("check", "--json", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 2
    problems = json.loads(result.stdout)["problems"]
    codes = {p["code"] for p in problems}
    assert {
        "fleet-unknown-global-version",  # core claims v7, which is not served
        "fleet-duplicate-module-version",  # broker_a and broker_b both serve broker v1
        "fleet-module-version-unserved",  # nobody serves broker v2 (global v2)
        "fleet-port-collision",  # broker_b's explicit port is core's green replica
        "fleet-sqlite",  # SQLite for a fleet of five processes
    } <= codes, problems
    assert all(p["fix"] for p in problems)
    text = fleet("check", "--config", str(config), cwd=tmp_path)
    assert "fix:" in text.stderr
    assert "PostgreSQL" in text.stderr


def test_the_example_fleet_checks_and_its_ports_follow_one_base_from_the_environment(tmp_path: Path) -> None:
    database = "postgresql+asyncpg://postgres@127.0.0.1:5432/unused"
    result = fleet("check", "--config", str(EXAMPLE), cwd=tmp_path, TRADING_FLEET__PORT_BASE="21000")
    assert result.returncode == 0, result.stderr
    assert "gateway http://127.0.0.1:21000" in result.stdout
    conf = fleet(
        "nginx",
        "--config",
        str(EXAMPLE),
        cwd=tmp_path,
        TRADING_FLEET__PORT_BASE="21000",
        TRADING_FLEET__DATABASE_URL=database,
        TRADING_FLEET__RUN_DIR=str(tmp_path / "run"),
    )
    assert conf.returncode == 0, conf.stderr
    text = conf.stdout
    assert "listen 127.0.0.1:21000;" in text
    # /api/v2/broker/... goes to the broker v2 pool at the standalone prefix /v2/...
    assert "location /api/v2/broker/ {" in text
    assert "proxy_pass http://broker_v2_blue/v2/;" in text
    assert "location = /api/v2/broker/ws {" in text  # streams: upgrade, long read timeout
    assert "proxy_next_upstream error timeout http_502 http_503 http_504;" in text
    assert "non_idempotent" not in text  # a POST is never repeated once sent
    # nginx -t accepts it, with its paths in the run directory.
    for folder in ("logs", "tmp"):
        (tmp_path / "run" / folder).mkdir(parents=True)
    (tmp_path / "run" / "nginx.conf").write_text(text)
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    checked = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path / "run"), "-c", str(tmp_path / "run" / "nginx.conf")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr
    # Replicas from the environment: every later port moves with them.
    more = fleet("check", "--config", str(EXAMPLE), cwd=tmp_path, TRADING_FLEET__SERVICES__BROKER_V1__REPLICAS="1")
    assert more.returncode == 0, more.stderr
    assert "5 processes" in more.stdout


def test_kubernetes_and_compose_files_validate_against_the_official_schemas(tmp_path: Path) -> None:
    import yaml

    # The fleet extra's validator; it ships no type information.
    kubernetes_validate = importlib.import_module("kubernetes_validate")

    database = "postgresql+asyncpg://postgres@db:5432/trading"
    written = fleet(
        "k8s",
        "--config",
        str(EXAMPLE),
        "--out",
        str(tmp_path / "k8s.yaml"),
        cwd=tmp_path,
        TRADING_FLEET__DATABASE_URL=database,
    )
    assert written.returncode == 0, written.stderr
    objects = list(yaml.safe_load_all((tmp_path / "k8s.yaml").read_text()))
    kinds = [o["kind"] for o in objects]
    assert kinds.count("Deployment") == 4
    assert kinds.count("Service") == 4
    assert "ConfigMap" in kinds
    for obj in objects:
        kubernetes_validate.validate(obj, KUBERNETES, strict=True)  # raises on any schema error
    deployments = {o["metadata"]["name"]: o for o in objects if o["kind"] == "Deployment"}
    broker = deployments["trading-broker-v2"]["spec"]
    assert broker["replicas"] == 2
    container = broker["template"]["spec"]["containers"][0]
    assert container["readinessProbe"]["httpGet"]["path"] == "/core/v1/health"
    rewrites = [
        o["metadata"]["annotations"]["nginx.ingress.kubernetes.io/rewrite-target"]
        for o in objects
        if o["kind"] == "Ingress" and "annotations" in o["metadata"]
    ]
    assert "/v2/$2" in rewrites

    # A committed rendering is checked against a fresh one, as `specs --check` does.
    check = ["k8s", "--config", str(EXAMPLE), "--check", str(tmp_path / "k8s.yaml")]
    assert fleet(*check, cwd=tmp_path, TRADING_FLEET__DATABASE_URL=database).returncode == 0
    scaled = fleet(
        *check, cwd=tmp_path, TRADING_FLEET__DATABASE_URL=database, TRADING_FLEET__SERVICES__BROKER_V2__REPLICAS="3"
    )
    assert scaled.returncode == 2
    assert "differs from the fleet's plan" in scaled.stderr

    out = tmp_path / "compose"
    written = fleet(
        "compose", "--config", str(EXAMPLE), "--out", str(out), cwd=tmp_path, TRADING_FLEET__DATABASE_URL=database
    )
    assert written.returncode == 0, written.stderr
    checked = subprocess.run(
        [str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(out / "compose.yaml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    document = yaml.safe_load((out / "compose.yaml").read_text())
    assert document["services"]["trading-broker-v1"]["deploy"]["replicas"] == 2
    assert "server trading-broker-v1:8000" in (out / "nginx.conf").read_text()
