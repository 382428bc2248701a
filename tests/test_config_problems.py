"""`trading-host matrix --check` and start-up: every problem at once, each with its fix, before serving."""

from __future__ import annotations

import json
from importlib import metadata
from pathlib import Path
from typing import Any

import forked
import pytest
from fake_plugins import plugin
from harness import BIN, clean_env, free_port, run_cli, with_pythonpath


def check(tmp_path: Path, config: str | None = None, env: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    args = ["matrix", "--check", "--json"]
    if config is not None:
        path = tmp_path / "trading.toml"
        path.write_text(config)
        args += ["--config", str(path)]
    result = run_cli(*args, cwd=tmp_path, env=env)
    return result.returncode, json.loads(result.stdout)


def codes(payload: dict[str, Any]) -> list[str]:
    return sorted(p["code"] for p in payload["problems"])


def test_default_configuration_is_valid(tmp_path: Path) -> None:
    status, payload = check(tmp_path)
    assert status == 0, payload["problems"]
    assert payload["problems"] == []
    assert set(payload["global_versions"]) == {"v1", "v2"}
    for row in payload["global_versions"].values():
        assert row["core"]["version"] == "v1"
        assert row["core"]["distribution"] == "trading-core"


@pytest.mark.modules("broker", "datafeed")
def test_default_matrix_is_the_seeds(tmp_path: Path) -> None:
    _, payload = check(tmp_path)
    rows = {g: {m: e["version"] for m, e in row.items()} for g, row in payload["global_versions"].items()}
    assert rows["v1"] == rows["v1"] | {"core": "v1", "broker": "v1", "datafeed": "v1"}
    assert rows["v2"] == rows["v2"] | {"core": "v1", "broker": "v2", "datafeed": "v1"}


@pytest.mark.independent
def test_reports_every_problem_at_once_with_fixes(tmp_path: Path) -> None:
    site = tmp_path / "site"
    # Two distributions both claiming gadget.v1.
    plugin(site, "gadget", ["v1"], distribution="gadget-plugin")
    plugin(site, "gadget", ["v1"], distribution="gadget-fork", package="gadget_fork")
    # A plugin that fails to import.
    broken = plugin(site, "broken", ["v1"])
    (site / "broken_plugin" / "_module.py").write_text("import no_such_dependency_xyz\n")
    # A plugin built for another trading-core.
    plugin(site, "legacy", ["v1"], requires=["trading-core>=9,<10"])
    config = """
serve = ["v1", "v7"]
enabled_modules = ["gadget", "broken", "legacy", "weather"]

[matrix.v1]
core = "v1"
gadget = "v1"
broken = "v1"
legacy = "v3"
"""
    status, payload = check(tmp_path, config, env=with_pythonpath(site))
    assert status == 2
    assert codes(payload) == sorted(
        [
            "unknown-global-version",
            "module-not-installed",
            "version-not-installed",
            "duplicate-provider",
            "plugin-import-failed",
        ]
    )
    by_code = {p["code"]: p for p in payload["problems"]}
    assert "'v7'" in by_code["unknown-global-version"]["message"]
    assert "[matrix.v7]" in by_code["unknown-global-version"]["fix"]
    assert "'weather'" in by_code["module-not-installed"]["message"]
    assert "legacy v3" in by_code["version-not-installed"]["message"]
    assert "serves legacy v1" in by_code["version-not-installed"]["message"]
    assert "pip install 'legacy-plugin==3.*'" in by_code["version-not-installed"]["fix"]
    assert "gadget-plugin" in by_code["duplicate-provider"]["message"]
    assert "gadget-fork" in by_code["duplicate-provider"]["message"]
    failed = by_code["plugin-import-failed"]["message"]
    assert "'broken.v1'" in failed
    assert broken.name in failed
    assert "ModuleNotFoundError" in failed
    assert "no_such_dependency_xyz" in failed


def test_incompatible_trading_core(tmp_path: Path) -> None:
    site = tmp_path / "site"
    plugin(site, "legacy", ["v1"], requires=["trading-core>=9,<10", "fastapi"])
    status, payload = check(tmp_path, env=with_pythonpath(site))
    assert status == 2
    assert codes(payload) == ["incompatible-core"]
    problem = payload["problems"][0]
    assert "trading-core<10,>=9" in problem["message"] or "trading-core>=9,<10" in problem["message"]
    assert f"trading-core {metadata.version('trading-core')} is installed" in problem["message"]
    assert "pip install 'trading-core" in problem["fix"]


@pytest.mark.parametrize("module", ["broker", "datafeed"])
def test_enabling_a_first_party_module(tmp_path: Path, module: str) -> None:
    installed = {ep.name.partition(".")[0] for ep in metadata.entry_points(group="trading_api.modules")}
    status, payload = check(tmp_path, env=clean_env(ENABLED_MODULES=module))
    if module in installed:
        assert status == 0, payload["problems"]
        assert all(set(row) == {"core", module} for row in payload["global_versions"].values())
    else:
        assert status == 2
        assert codes(payload) == ["module-not-installed"]
        assert f"'{module}'" in payload["problems"][0]["message"]
        assert f"pip install trading-{module}" in payload["problems"][0]["fix"]


def test_default_matrix_skips_modules_not_installed_but_a_users_matrix_does_not(tmp_path: Path) -> None:
    status, _ = check(tmp_path)
    assert status == 0  # the shipped rows name broker and datafeed, installed or not
    status, payload = check(tmp_path, '[matrix.v1]\ncore = "v1"\nweather = "v1"\n')
    assert status == 2
    assert codes(payload) == ["module-not-installed"]
    assert "weather" in payload["problems"][0]["message"]


@pytest.mark.independent
def test_bad_toml_and_unknown_keys_are_reported_with_the_file(tmp_path: Path) -> None:
    status, payload = check(tmp_path, 'srve = ["v1"]\n[server]\nport = "high"\n')
    assert status == 2
    assert codes(payload) == ["config-invalid-value", "config-unknown-key"]
    assert all(str(tmp_path / "trading.toml") in p["message"] for p in payload["problems"])
    status, payload = check(tmp_path, "serve = [v1\n")
    assert status == 2
    assert codes(payload) == ["config-file-invalid"]


@pytest.mark.independent
def test_text_output_lists_problems_and_fixes(tmp_path: Path) -> None:
    (tmp_path / "bad.toml").write_text('serve = ["v9"]\n')
    result = run_cli("matrix", "--check", "--config", str(tmp_path / "bad.toml"), cwd=tmp_path)
    assert result.returncode == 2
    assert "1 configuration problem" in result.stderr
    assert "unknown-global-version" in result.stderr
    assert "fix:" in result.stderr


@pytest.mark.independent
def test_serve_refuses_before_binding_and_lists_every_problem(tmp_path: Path) -> None:
    (tmp_path / "trading.toml").write_text('serve = ["v1", "v8", "v9"]\n')
    port = free_port()
    result = forked.run(
        [str(BIN / "trading-host"), "serve", "--port", str(port)], cwd=tmp_path, env=clean_env(), timeout=60
    )
    assert result.returncode == 2
    assert "2 configuration problems" in result.stderr
    assert "'v8'" in result.stderr
    assert "'v9'" in result.stderr
    assert "Traceback" not in result.stderr
    assert "Uvicorn running" not in result.stderr


@pytest.mark.independent
def test_uvicorn_entry_point_reports_problems_without_a_traceback(tmp_path: Path) -> None:
    result = forked.run(
        [str(BIN / "uvicorn"), "trading_host.main:app", "--port", str(free_port())],
        cwd=tmp_path,
        env=clean_env(GLOBAL_VERSION="v5"),
        timeout=60,
    )
    assert result.returncode == 2
    assert "unknown-global-version" in result.stderr
    assert "Traceback" not in result.stderr
