"""The trading-host command: modules, matrix (--check, --json) and serve.

Other distributions may be installed beside the fake ones written here, so every command that
resolves a matrix names the modules it enables, and listings are checked for the fake rows.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from host_fakes import FakeSite, plugin_distribution, write_config
from typer.testing import CliRunner

from trading_core import __version__ as CORE_VERSION
from trading_host.cli import cli

runner = CliRunner()
ROWS_MERGE = (
    "rows merge by name: a row in your configuration replaces the shipped row of that name whole; "
    "`serve` (GLOBAL_VERSION) selects the rows served"
)
# The lifecycle fields of a version the configuration does not deprecate.
STABLE = {"status": "stable", "deprecation": None, "sunset": None, "successor": None, "migration_guide": None}


@pytest.fixture
def gamma(site: FakeSite) -> str:
    """trading-gamma 2.0.0 installed: gamma v1 and v2, plus one badly named entry point."""
    package = plugin_distribution(site, "trading-gamma", "2.0.0", "gamma", ["v1", "v2"])
    site.write_entry_points(
        "trading-gamma",
        "2.0.0",
        {
            "gamma.v2": f"{package}.api.v2:GammaApi",
            "gamma.v1": f"{package}.api.v1:GammaApi",
            "gamma.latest": f"{package}.api.v2:GammaApi",
        },
    )
    return package


def test_help_lists_the_commands() -> None:
    result = runner.invoke(cli, ["--help"])

    assert result.exit_code == 0
    for command in ("serve", "modules", "matrix"):
        assert command in result.stdout


def test_modules_json_is_a_stable_format(gamma: str, site: FakeSite) -> None:
    result = runner.invoke(cli, ["modules", "--json"])

    assert result.exit_code == 0
    payload = json.loads(result.stdout)
    assert set(payload) == {"modules", "invalid_entry_points", "lifecycle"}
    assert payload["lifecycle"]["gamma"] == {"v1": STABLE, "v2": STABLE}
    rows = {row["module"]: row for row in payload["modules"]}
    assert rows["gamma"] == {
        "module": "gamma",
        "versions": ["v1", "v2"],
        "distribution": "trading-gamma",
        "distribution_version": "2.0.0",
        "entry_points": {"v1": f"{gamma}.api.v1:GammaApi", "v2": f"{gamma}.api.v2:GammaApi"},
    }
    assert list(rows["gamma"]["entry_points"]) == ["v1", "v2"]
    assert payload["modules"][0]["module"] == "core"
    assert rows["core"]["distribution"] == "trading-core"
    assert {"name": "gamma.latest", "distribution": "trading-gamma", "target": f"{gamma}.api.v2:GammaApi"} in payload[
        "invalid_entry_points"
    ]
    assert not site.imported(gamma)  # listing imports nothing


def test_modules_json_has_one_row_per_module_and_distribution(gamma: str, site: FakeSite) -> None:
    plugin_distribution(site, "gamma-fork", "1.0.0", "gamma", ["v1"])

    payload = json.loads(runner.invoke(cli, ["modules", "--json"]).stdout)

    gamma_rows = [(r["distribution"], r["versions"]) for r in payload["modules"] if r["module"] == "gamma"]
    assert gamma_rows == [("gamma-fork", ["v1"]), ("trading-gamma", ["v1", "v2"])]


def test_modules_text(gamma: str) -> None:
    result = runner.invoke(cli, ["modules"])

    assert result.exit_code == 0
    line = next(line for line in result.stdout.splitlines() if line.startswith("gamma"))
    assert line.split() == ["gamma", "v1,", "v2", "trading-gamma", "2.0.0"]
    assert f"invalid entry point 'gamma.latest' = '{gamma}.api.v2:GammaApi' in trading-gamma" in result.stderr


def test_matrix_check_exits_2_listing_every_problem_with_its_fix(gamma: str) -> None:
    result = runner.invoke(
        cli, ["matrix", "--check", "--enable", "gamma", "--enable", "no_such_module", "-g", "v1", "-g", "v9"]
    )

    assert result.exit_code == 2
    assert "3 configuration problems:" in result.stderr
    assert "[entry-point-invalid]" in result.stderr
    assert "[module-not-installed] module 'no_such_module'" in result.stderr
    assert "[unknown-global-version] global version 'v9'" in result.stderr
    assert result.stderr.count("fix: ") == 3
    assert "Traceback" not in result.output
    assert "/api/v1" in result.stdout  # what could be resolved is still shown


def test_matrix_without_check_reports_problems_but_exits_0(gamma: str) -> None:
    result = runner.invoke(cli, ["matrix", "--enable", "gamma"])

    assert result.exit_code == 0
    assert "1 configuration problem:" in result.stderr


def test_matrix_check_ok(site: FakeSite) -> None:
    plugin_distribution(site, "trading-delta", "2.1.0", "delta", ["v1", "v2"])

    result = runner.invoke(cli, ["matrix", "--check", "--enable", "delta"])

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "/api/v1  (row from the shipped default configuration)",
        f"  core         v1   trading-core {CORE_VERSION}",
        "  delta        v1   trading-delta 2.1.0",
        "/api/v2  (row from the shipped default configuration)",
        f"  core         v1   trading-core {CORE_VERSION}",
        "  delta        v2   trading-delta 2.1.0",
        ROWS_MERGE,
        "configuration OK",
    ]
    assert result.stderr == ""


def test_matrix_json_is_a_stable_format(site: FakeSite) -> None:
    plugin_distribution(site, "trading-delta", "2.1.0", "delta", ["v1", "v2"])

    result = runner.invoke(cli, ["matrix", "--json", "--enable", "delta", "-g", "v2"])

    assert result.exit_code == 0
    assert json.loads(result.stdout) == {
        "mode": "monolith",
        "api_prefix": "/api",
        "global_versions": {
            "v2": {
                "core": {
                    "version": "v1",
                    "distribution": "trading-core",
                    "distribution_version": CORE_VERSION,
                    **STABLE,
                },
                "delta": {"version": "v2", "distribution": "trading-delta", "distribution_version": "2.1.0", **STABLE},
            }
        },
        "row_sources": {"v1": "the shipped default configuration", "v2": "the shipped default configuration"},
        "standalone": None,
        "problems": [],
    }


def test_matrix_says_where_each_row_comes_from_and_which_are_not_served(site: FakeSite, tmp_path: Path) -> None:
    plugin_distribution(site, "trading-delta", "2.1.0", "delta", ["v1", "v2"])
    config = write_config(
        tmp_path / "rows.toml",
        """
        serve = ["v2", "v3"]
        [matrix.v3]
        delta = "v2"
        """,
    )

    lines = runner.invoke(cli, ["matrix", "--config", str(config), "--enable", "delta"]).stdout.splitlines()

    assert lines[0] == "/api/v2  (row from the shipped default configuration)"
    assert lines[3] == f"/api/v3  (row from {config})"
    assert lines[-2:] == [
        "not served: v1 (from the shipped default configuration); serve them with serve = [...] or GLOBAL_VERSION",
        ROWS_MERGE,
    ]


def test_matrix_json_check_with_problems_prints_them_and_exits_2(site: FakeSite) -> None:
    plugin_distribution(site, "trading-delta", "2.1.0", "delta", ["v1", "v2"])

    result = runner.invoke(cli, ["matrix", "--json", "--check", "--enable", "delta", "-g", "v3"])

    assert result.exit_code == 2
    payload = json.loads(result.stdout)
    assert payload["global_versions"] == {}
    (problem,) = payload["problems"]
    assert set(problem) == {"code", "message", "fix"}
    assert problem["code"] == "unknown-global-version"


def test_matrix_standalone(site: FakeSite) -> None:
    plugin_distribution(site, "trading-delta", "2.1.0", "delta", ["v1", "v2"])

    text = runner.invoke(cli, ["matrix", "--enable", "delta", "--module-version", "v1"])
    data = runner.invoke(cli, ["matrix", "--json", "--enable", "delta", "--module-version", "v1"])

    assert text.exit_code == 0
    assert text.stdout.splitlines()[0] == "standalone: delta v1 at /v1"
    payload = json.loads(data.stdout)
    assert payload["mode"] == "standalone"
    assert payload["global_versions"] == {}
    assert payload["standalone"]["delta"] == {
        "version": "v1",
        "distribution": "trading-delta",
        "distribution_version": "2.1.0",
        **STABLE,
    }
    assert payload["standalone"]["core"]["distribution"] == "trading-core"


def test_matrix_reads_the_config_file_option(site: FakeSite, tmp_path: Path) -> None:
    plugin_distribution(site, "trading-delta", "2.1.0", "delta", ["v1", "v2"])
    config = write_config(
        tmp_path / "c.toml",
        """
        api_prefix = "/trading"
        [matrix.v1]
        delta = "v3"
        """,
    )

    result = runner.invoke(cli, ["matrix", "--check", "--json", "--config", str(config), "--enable", "delta"])

    assert result.exit_code == 2
    payload = json.loads(result.stdout)
    assert payload["api_prefix"] == "/trading"
    (problem,) = payload["problems"]
    assert problem["code"] == "version-not-installed"
    assert "pip install 'trading-delta==3.*'" in problem["fix"]


def test_matrix_follows_the_environment(site: FakeSite, monkeypatch: pytest.MonkeyPatch) -> None:
    plugin_distribution(site, "trading-delta", "2.1.0", "delta", ["v1", "v2"])
    monkeypatch.setenv("ENABLED_MODULES", "delta")
    monkeypatch.setenv("GLOBAL_VERSION", "v1")

    payload = json.loads(runner.invoke(cli, ["matrix", "--json"]).stdout)

    assert payload["global_versions"]["v1"]["delta"]["version"] == "v1"
    assert list(payload["global_versions"]) == ["v1"]


@pytest.fixture
def uvicorn_calls(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Record what ``serve`` would hand uvicorn, and keep the environment it exports to this test."""
    import uvicorn

    calls: list[dict[str, Any]] = []

    def run(app: str, **kwargs: Any) -> None:
        calls.append({"app": app, **kwargs, "environ": dict(os.environ)})

    monkeypatch.setattr(uvicorn, "run", run)
    monkeypatch.setattr(os, "environ", dict(os.environ))
    return calls


def test_serve_refuses_a_bad_configuration_before_starting(site: FakeSite, uvicorn_calls: list[Any]) -> None:
    plugin_distribution(site, "trading-delta", "2.1.0", "delta", ["v1", "v2"])

    result = runner.invoke(cli, ["serve", "--enable", "delta", "-g", "v9"])

    assert result.exit_code == 2
    assert "[unknown-global-version]" in result.stderr
    assert uvicorn_calls == []


def test_serve_runs_the_configured_app(site: FakeSite, tmp_path: Path, uvicorn_calls: list[Any]) -> None:
    plugin_distribution(site, "trading-delta", "2.1.0", "delta", ["v1", "v2"])
    config = write_config(
        tmp_path / "c.toml",
        """
        [server]
        host = "0.0.0.0"
        port = 9001
        """,
    )

    default = runner.invoke(cli, ["serve", "--config", str(config), "--enable", "delta", "--module-version", "v2"])
    explicit = runner.invoke(cli, ["serve", "--enable", "delta", "--host", "127.0.0.2", "--port", "0"])

    assert default.exit_code == 0, default.output
    assert explicit.exit_code == 0, explicit.output
    first, second = uvicorn_calls
    assert first["app"] == "trading_host.main:app"
    assert (first["host"], first["port"], first["workers"]) == ("0.0.0.0", 9001, 1)
    # The options reach the app (and every worker) through the environment it is configured by.
    assert first["environ"]["TRADING_CONFIG"] == str(config)
    assert first["environ"]["ENABLED_MODULES"] == "delta"
    assert first["environ"]["MODULE_VERSION"] == "v2"
    assert (second["host"], second["port"]) == ("127.0.0.2", 0)


def test_the_command_starts_without_the_contract_tooling() -> None:
    """`serve`, `matrix` and the others import no contract tooling (spec reader, diff, generators,
    YAML, JSON Schema): each start of the command would pay for it. The contract commands import
    it as they run."""
    import subprocess
    import sys

    program = (
        "import sys, trading_host.cli; "
        "print(sorted(m for m in sys.modules if m.startswith(('trading_host._contracts', 'trading_host._scaffold', "
        "'yaml', 'jsonschema', 'openapi_python_client'))))"
    )
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]", done.stdout
