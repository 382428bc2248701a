"""The command line answers a newcomer's mistakes (issue 10, items 4, 5, 6, 12 and 13): a working
directory it cannot write to, a port out of range or taken, a config file that is not there,
typos; and it shows what it would serve (`routes`) and from which configuration (`config`)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import forked
import pytest
from harness import BIN, clean_env, free_port, run_cli


def run(
    *args: str, cwd: Path, env: Mapping[str, str] | None = None, prefix: Sequence[str] = ()
) -> subprocess.CompletedProcess[str]:
    return forked.run([*prefix, str(BIN / "trading-host"), *args], cwd=cwd, env=env or clean_env(), timeout=60)


def problems(result: subprocess.CompletedProcess[str]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = json.loads(result.stdout)["problems"]
    return found


# -- item 4: a working directory the broker cannot write its SQLite file in


@pytest.fixture
def read_only_folder(tmp_path: Path) -> Iterator[tuple[Path, list[str]]]:
    """A working directory the commands cannot write to, and what to run them under: root writes
    anywhere, so as root they run without the capabilities that let it (util-linux's setpriv),
    still as root, who can read the test environment (which may live in root's home)."""
    prefix: list[str] = []
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv (util-linux): no folder is read-only to root")
        prefix = [setpriv, "--bounding-set=-dac_override,-dac_read_search"]
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        yield folder, prefix
    finally:
        folder.chmod(0o755)


@pytest.mark.modules("broker")
@pytest.mark.independent
def test_a_read_only_working_directory_is_reported_before_anything_runs(
    read_only_folder: tuple[Path, list[str]],
) -> None:
    folder, prefix = read_only_folder
    env = clean_env(ENABLED_MODULES="broker")
    database = folder / "trading-broker.db"
    check = run("matrix", "--check", "--json", cwd=folder, env=env, prefix=prefix)
    assert check.returncode == 2, check.stdout + check.stderr
    (problem,) = problems(check)
    assert problem["code"] == "module-settings-invalid"
    assert str(database) in problem["message"]
    assert f"the folder {folder} is not writable" in problem["message"]
    assert "database_url" in problem["message"]
    assert "run from a folder you can write to" in problem["fix"]
    assert "TRADING_MODULES__BROKER__DATABASE_URL" in problem["fix"]

    commands = {
        "serve": ["serve", "--port", str(free_port())],
        "keys": ["broker", "keys", "create", "alice"],
    }
    for name, args in commands.items():
        result = run(*args, cwd=folder, env=env, prefix=prefix)
        output = result.stdout + result.stderr
        assert result.returncode == 2, (name, output)
        assert "Traceback" not in output, name
        assert str(database) in output, name
        assert "database_url" in output, name
        assert "Waiting for application startup" not in output, name
        assert len(output.splitlines()) <= 4, output
    assert list(folder.iterdir()) == []


# -- item 5: one validation of the port, and a taken port refused before the modules start


@pytest.mark.independent
def test_a_port_out_of_range_is_refused_from_the_option_and_the_file_alike(tmp_path: Path) -> None:
    from_option = run("serve", "--port", "99999", cwd=tmp_path)
    (tmp_path / "trading.toml").write_text("[server]\nport = 99999\n")
    from_file = run("serve", cwd=tmp_path)
    for result in (from_option, from_file):
        assert result.returncode == 2
        assert "[config-invalid-value]" in result.stderr
        assert "less than or equal to 65535 (got 99999)" in result.stderr
        assert "Uvicorn running" not in result.stderr
        assert "Traceback" not in result.stderr
    assert "--port on the command line" in from_option.stderr
    assert "fix: correct --port" in from_option.stderr
    assert "'server.port' in trading.toml: " in from_file.stderr


@pytest.mark.modules("broker")
@pytest.mark.independent
def test_a_taken_port_is_refused_before_the_modules_start(tmp_path: Path) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        result = run("serve", "--port", str(port), cwd=tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert f"[server-port-unavailable] cannot listen on 127.0.0.1:{port}" in output
    assert "address already in use" in output
    assert "--port on the command line" in output
    assert "fix: stop what listens there, or choose another port" in output
    # Refused before uvicorn started the modules: the broker did not create (nor migrate) its database.
    assert "Waiting for application startup" not in output
    assert not (tmp_path / "trading-broker.db").exists()


# -- item 6: name what the user typed, print nothing resolved from a configuration that failed


@pytest.mark.independent
def test_a_missing_config_file_is_named_as_typed_and_nothing_is_resolved(tmp_path: Path) -> None:
    text = run_cli("matrix", "--config", "nope.toml", cwd=tmp_path)
    assert text.stdout == ""
    assert f"--config nope.toml does not exist (no file at {tmp_path / 'nope.toml'})" in text.stderr
    assert "TRADING_CONFIG" not in text.stderr
    checked = run_cli("matrix", "--check", "--json", "-c", "nope.toml", cwd=tmp_path)
    assert checked.returncode == 2
    payload = json.loads(checked.stdout)
    assert payload["global_versions"] == {}
    assert payload["standalone"] is None
    assert [p["code"] for p in payload["problems"]] == ["config-file-missing"]
    from_env = run_cli("matrix", "--check", cwd=tmp_path, env=clean_env(TRADING_CONFIG="gone.toml"))
    assert "TRADING_CONFIG gone.toml does not exist" in from_env.stderr
    assert from_env.stdout == ""


@pytest.mark.independent
def test_serve_help_shows_where_the_defaults_come_from(tmp_path: Path) -> None:
    result = run_cli("serve", "--help", cwd=tmp_path, env=clean_env(COLUMNS="200", TERM="dumb"))
    assert result.returncode == 0
    assert "(default:  host)" not in result.stdout
    assert "Bind address (default: server.host of the configuration)." in result.stdout
    assert "Port (default: server.port of the configuration)." in result.stdout


# -- item 12: did you mean, and the variable's name


@pytest.mark.modules("broker")
@pytest.mark.independent
def test_typos_get_did_you_mean_and_the_environment_is_named(tmp_path: Path) -> None:
    modules = run_cli("matrix", "--check", "--json", cwd=tmp_path, env=clean_env(ENABLED_MODULES="brokr"))
    (problem,) = problems(modules)
    assert problem["code"] == "module-not-installed"
    assert "module 'brokr' is enabled in ENABLED_MODULES in the environment" in problem["message"]
    assert problem["message"].endswith("(did you mean 'broker'?)")

    versions = run_cli("matrix", "--check", "--json", cwd=tmp_path, env=clean_env(GLOBAL_VERSION="v22"))
    (problem,) = problems(versions)
    assert problem["code"] == "unknown-global-version"
    assert "(from GLOBAL_VERSION in the environment)" in problem["message"]
    assert problem["message"].endswith("(did you mean 'v2'?)")

    setting = run_cli(
        "matrix", "--check", "--json", cwd=tmp_path, env=clean_env(TRADING_MODULES__BROKER__DATABSE_URL="x")
    )
    (problem,) = problems(setting)
    assert problem["code"] == "module-settings-invalid"
    assert "TRADING_MODULES__BROKER__DATABSE_URL in the environment" in problem["message"]
    assert "(did you mean 'database_url'?)" in problem["message"]

    (tmp_path / "trading.toml").write_text(
        'srve = ["v1"]\n[server]\nprot = 1\n[matrix.v1]\ncore = "v1"\nbroker = "2"\n'
    )
    keys = run_cli("matrix", "--check", "--json", cwd=tmp_path)
    by_code: dict[str, list[str]] = {}
    for found in problems(keys):
        by_code.setdefault(found["code"], []).append(found["message"])
    assert sorted(by_code["config-unknown-key"]) == [
        "unknown key 'server.prot' in trading.toml (did you mean 'port'?)",
        "unknown key 'srve' in trading.toml (did you mean 'serve' or 'server'?)",
    ]
    (version,) = by_code["version-invalid"]
    assert version.endswith("(did you mean 'v2'?)")


# -- item 13: routes and config


@pytest.mark.modules("broker")
@pytest.mark.independent
def test_routes_lists_every_route_per_global_version_with_its_status(tmp_path: Path) -> None:
    env = clean_env(ENABLED_MODULES="broker", TRADING_NOW="2027-01-01T00:00:00Z")
    result = run_cli("routes", "--json", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    table = json.loads(result.stdout)
    assert table["standalone"] is None
    assert set(table["global_versions"]) == {"v1", "v2"}
    rows = {(r["method"], r["path"]): r for g in table["global_versions"].values() for r in g}
    expected = {"module": "broker", "version": "v2", "status": "stable"}
    assert expected.items() <= rows[("POST", "/api/v2/broker/orders")].items()
    assert expected.items() <= rows[("WEBSOCKET", "/api/v2/broker/ws")].items()
    v1 = rows[("DELETE", "/api/v1/broker/orders/{order_id}")]
    assert (v1["module"], v1["version"], v1["status"]) == ("broker", "v1", "deprecated")
    assert rows[("GET", "/api/v1/docs")]["module"] is None
    assert rows[("GET", "/api/v2/core/health")]["module"] == "core"
    text = run_cli("routes", "-g", "v1", cwd=tmp_path, env=env)
    assert text.stdout.splitlines()[0] == "/api/v1"
    line = next(
        line for line in text.stdout.splitlines() if line.split()[:2] == ["GET", "/api/v1/broker/orders/{order_id}"]
    )
    assert line.split() == ["GET", "/api/v1/broker/orders/{order_id}", "broker", "v1", "deprecated"]
    assert "/api/v2/" not in text.stdout


@pytest.mark.modules("broker")
@pytest.mark.independent
def test_config_shows_every_key_with_its_source(tmp_path: Path) -> None:
    config = tmp_path / "mine.toml"
    config.write_text(
        "[server]\nport = 9100\n[modules.broker]\n"
        "database_url = 'postgresql+asyncpg://trader:s3cret@db.example:5432/broker'\n"
    )
    env = clean_env(GLOBAL_VERSION="v2", TRADING_MODULES__BROKER__DEFAULT_ACCOUNT="desk")
    result = run_cli("config", "--json", "-c", str(config), "-e", "broker", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    values, sources = payload["config"], payload["sources"]
    assert values["server"] == {"host": "127.0.0.1", "port": 9100, "max_body_size": 262144}
    assert sources["server.port"] == str(config)
    assert sources["server.host"] == "the shipped default configuration"
    assert (values["serve"], sources["serve"]) == (["v2"], "GLOBAL_VERSION in the environment")
    assert (values["enabled_modules"], sources["enabled_modules"]) == (["broker"], "--enable on the command line")
    broker = values["modules"]["broker"]
    assert broker["default_account"] == "desk"
    assert sources["modules.broker.default_account"] == "TRADING_MODULES__BROKER__DEFAULT_ACCOUNT in the environment"
    assert broker["database_url"] == "postgresql+asyncpg://trader:***@db.example:5432/broker"
    assert "s3cret" not in result.stdout
    assert (broker["leverage"], sources["modules.broker.leverage"]) == (4.0, "the module's default")
    assert payload["problems"] == []

    text = run_cli("config", "-c", str(config), "-e", "broker", cwd=tmp_path, env=env)
    port = next(line for line in text.stdout.splitlines() if line.startswith("server.port "))
    assert port.split("#")[0].strip() == "server.port = 9100"
    assert port.split("#")[1].strip() == str(config)

    missing = run_cli("config", "-c", "nope.toml", cwd=tmp_path)
    assert missing.returncode == 2
    assert missing.stdout == ""
    assert "--config nope.toml does not exist" in missing.stderr


# The commands of the top-level listing.
LISTED_COMMANDS = (
    *("modules", "matrix", "config", "routes", "serve", "fleet"),
    *("diff", "compat", "specs", "clients", "new-module"),
)


@pytest.mark.independent
def test_the_command_listing_is_one_line_per_command(tmp_path: Path) -> None:
    result = run_cli("--help", cwd=tmp_path, env=clean_env(COLUMNS="100", TERM="dumb"))
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    for command in LISTED_COMMANDS:
        (line,) = [line for line in lines if line.strip("│ ").startswith(f"{command} ")]
        column = line.index(command)
        # The next line is another command (it starts in the same column) or the panel's end,
        # never the rest of this one's text (indented to the help column).
        following = lines[lines.index(line) + 1]
        starts_a_command = following[:column].strip("│ ") == "" and following[column : column + 1].isalpha()
        assert following.startswith("╰") or following.strip("│ ") == "" or starts_a_command, following
