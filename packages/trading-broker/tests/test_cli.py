"""The broker's commands: API keys in the server's database.

They run inside the host (``trading-host broker keys ...``, or the ``trading-broker`` alias) on
the module the host builds from the server's configuration. With ``--database-url`` they need no
configuration, so those cases run the broker's typer app directly, without the host.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from trading_broker import BrokerService
from trading_broker._cli import cli, main

runner = CliRunner()
ENV_NAME = "TRADING_MODULES__BROKER__DATABASE_URL"
HOST_VARIABLES = ("TRADING_CONFIG", "GLOBAL_VERSION", "ENABLED_MODULES", "MODULE_VERSION", "TRADING_API_PREFIX")

Host = Callable[..., Result]


def run(*args: str) -> Result:
    """The broker's own app, without the host: only ``--database-url`` works there."""
    return runner.invoke(cli, list(args))


def authenticate(url: str, token: str) -> str | None:
    async def check() -> str | None:
        service = BrokerService(database_url=url)
        await service.open()
        try:
            return await service.authenticate(token)
        finally:
            await service.close()

    return asyncio.run(check())


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working directory, and no host configuration from the developer's shell."""
    for name in list(os.environ):
        if name in HOST_VARIABLES or name.upper().startswith("TRADING_MODULES__"):
            monkeypatch.delenv(name)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


@pytest.fixture
def host(workdir: Path, request: pytest.FixtureRequest) -> Host:
    """``trading-host broker ARGS`` in-process, for the tests marked ``needs_host``."""
    assert request.node.get_closest_marker("needs_host"), "a test of trading-host broker is marked needs_host"
    from trading_host.cli import cli as host_cli

    def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
        return runner.invoke(host_cli, ["broker", *args], env=env)

    return invoke


def write_config(path: Path, url: str) -> Path:
    path.write_text(f'[server]\nport = 8000\n\n[modules.broker]\ndatabase_url = "{url}"\n')
    return path


def info(host: Host, *args: str, env: dict[str, str] | None = None) -> dict[str, str | None]:
    result = host("db", "info", "--json", *args, env=env)
    assert result.exit_code == 0, result.output
    facts: dict[str, str | None] = json.loads(result.stdout)
    return facts


# -- the commands, on a database named on the command line


def test_create_list_and_revoke_a_key(database_url):
    created = run("keys", "create", "alice", "--label", "laptop", "--database-url", database_url, "--json")
    assert created.exit_code == 0, created.output
    key = json.loads(created.output)
    assert (key["account"], key["label"], key["active"]) == ("alice", "laptop", True)
    assert key["token"].startswith(f"tb_{key['id']}_")
    assert authenticate(database_url, key["token"]) == "alice"

    listed = run("keys", "list", "--database-url", database_url, "--json")
    assert listed.exit_code == 0, listed.output
    assert [(k["id"], k["account"]) for k in json.loads(listed.output)] == [(key["id"], "alice")]
    assert key["token"] not in listed.output
    assert json.loads(run("keys", "list", "--account", "bob", "--database-url", database_url, "--json").output) == []

    revoked = run("keys", "revoke", key["id"], "--database-url", database_url)
    assert revoked.exit_code == 0, revoked.output
    assert f"Revoked API key {key['id']} of account 'alice'" in revoked.output
    assert authenticate(database_url, key["token"]) is None
    [row] = json.loads(run("keys", "list", "--database-url", database_url, "--json").output)
    assert (row["active"], row["revoked_at"] is not None) == (False, True)


def test_the_token_is_printed_once_for_people_too(sqlite_url):
    result = run("keys", "create", "desk", "--database-url", sqlite_url)
    assert result.exit_code == 0, result.output
    token = next(line.strip() for line in result.output.splitlines() if line.strip().startswith("tb_"))
    assert authenticate(sqlite_url, token) == "desk"
    table = run("keys", "list", "--database-url", sqlite_url).output
    assert "desk" in table
    assert "active" in table
    assert token not in table


def test_unknown_keys_and_bad_accounts_are_clear_errors(sqlite_url):
    missing = run("keys", "revoke", "0123456789ab", "--database-url", sqlite_url)
    assert missing.exit_code == 1
    assert "no API key with id '0123456789ab'" in missing.output
    blank = run("keys", "create", "  ", "--database-url", sqlite_url)
    assert blank.exit_code == 2
    assert "1 to 128 characters" in blank.output


def test_a_database_url_it_cannot_use_is_exit_2_naming_the_source():
    result = run("keys", "list", "--database-url", "mysql://h/db")
    assert result.exit_code == 2
    assert "--database-url: database 'mysql' is not supported" in result.output


def test_an_unreachable_database_is_a_clear_error():
    result = run("keys", "list", "--database-url", "postgresql://nobody@127.0.0.1:1/none")
    assert result.exit_code == 1
    assert "cannot use the database postgresql+asyncpg://nobody@127.0.0.1:1/none (from --database-url)" in result.output


def test_db_info_and_upgrade(sqlite_url, tmp_path):
    info = json.loads(run("db", "info", "--database-url", sqlite_url, "--json").output)
    assert (info["revision"], info["source"]) == (None, "--database-url")
    assert not (tmp_path / "broker.db").exists()  # looking does not create the file
    upgraded = run("db", "upgrade", "--database-url", sqlite_url)
    assert upgraded.exit_code == 0, upgraded.output
    info = json.loads(run("db", "info", "--database-url", sqlite_url, "--json").output)
    assert info["revision"] == info["head"]


def test_without_the_host_a_command_says_where_it_runs(workdir):
    result = run("keys", "list")
    assert result.exit_code == 2
    assert "this command runs inside the host: `trading-host <module> ...`" in result.output


# -- trading-host broker: the server's database, found by the host's own configuration lookup


@pytest.mark.needs_host
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_keys_through_trading_host_work_on_the_configured_database(host, tmp_path, request, backend):
    # A database of its own: the run's shared PostgreSQL database is for the --database-url tests.
    databases = (
        nullcontext(f"sqlite+aiosqlite:///{tmp_path / 'server.db'}")
        if backend == "sqlite"
        else request.getfixturevalue("fresh_postgres")()
    )
    with databases as database_url:
        config = write_config(tmp_path / "server.toml", database_url)
        created = host("keys", "create", "alice", "--config", str(config), "--json")
        assert created.exit_code == 0, created.output
        key = json.loads(created.output)
        assert authenticate(database_url, key["token"]) == "alice"

        listed = host("keys", "list", "--json", env={"TRADING_CONFIG": str(config)})
        assert [k["id"] for k in json.loads(listed.output)] == [key["id"]]
        revoked = host("keys", "revoke", key["id"], "-c", str(config))
        assert revoked.exit_code == 0, revoked.output
        assert authenticate(database_url, key["token"]) is None


@pytest.mark.needs_host
def test_the_database_is_found_in_the_servers_order(host, workdir, tmp_path):
    assert info(host)["source"] == "the default"
    assert info(host)["database"] == "sqlite+aiosqlite:///./trading-broker.db"
    write_config(workdir / "trading.toml", "sqlite:///local.db")
    local = info(host)
    assert (local["database"], local["revision"]) == ("sqlite+aiosqlite:///local.db", None)
    assert local["source"] == "[modules.broker] database_url in trading.toml"
    named = write_config(tmp_path / "named.toml", "sqlite:///named.db")
    assert info(host, env={"TRADING_CONFIG": str(named)})["database"] == "sqlite+aiosqlite:///named.db"
    given = write_config(tmp_path / "given.toml", "sqlite:///given.db")
    assert info(host, "--config", str(given), env={"TRADING_CONFIG": str(named)})["source"] == (
        f"[modules.broker] database_url in {given}"
    )
    # The environment beats any file, as it does for the server, in any case (the old hand-written
    # lookup and the host disagreed there); --database-url beats everything.
    env = {ENV_NAME: "sqlite:///env.db", "TRADING_CONFIG": str(named)}
    assert info(host, "-c", str(given), env=env)["source"] == f"{ENV_NAME} in the environment"
    lower = info(host, env={ENV_NAME.lower(): "sqlite:///lower.db"})
    assert lower["database"] == "sqlite+aiosqlite:///lower.db"
    assert info(host, "--database-url", "sqlite:///flag.db", "-c", str(given), env=env)["source"] == "--database-url"


@pytest.mark.needs_host
def test_another_setting_from_the_environment_does_not_hide_where_the_database_came_from(host, workdir):
    write_config(workdir / "trading.toml", "sqlite:///local.db")
    facts = info(host, env={"TRADING_MODULES__BROKER__DEFAULT_ACCOUNT": "desk"})
    assert facts["source"] == "[modules.broker] database_url in trading.toml"


@pytest.mark.needs_host
@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[modules.broker\n", "is not valid TOML"),
        ("[modules.broker]\ndatabase_url = 3\n", "[modules.broker] database_url in {config}: Input should be"),
        ("[modules.broker]\ndatabase_url = 'oracle://x'\n", "database 'oracle' is not supported"),
        ("[modules.broker]\ndatabse_url = 'sqlite:///x.db'\n", "[modules.broker] databse_url in {config}"),
    ],
)
def test_a_bad_config_file_is_reported_as_the_server_reports_it(host, tmp_path, content, message):
    config = tmp_path / "bad.toml"
    config.write_text(content)
    result = host("keys", "list", "--config", str(config))
    assert result.exit_code == 2
    assert "configuration problem" in result.output
    assert message.format(config=config) in result.output
    assert "fix: " in result.output
    assert "Traceback" not in result.output


@pytest.mark.needs_host
def test_a_missing_config_file_is_an_error(host, tmp_path):
    result = host("keys", "list", "--config", str(tmp_path / "nope.toml"))
    assert result.exit_code == 2
    assert "[config-file-missing]" in result.output
    assert "does not exist" in result.output


@pytest.mark.needs_host
def test_the_command_uses_the_config_file_in_its_directory(host, workdir, sqlite_url):
    write_config(workdir / "trading.toml", sqlite_url)
    created = json.loads(host("keys", "create", "carol", "--json").output)
    assert created["database"] == sqlite_url
    assert authenticate(sqlite_url, created["token"]) == "carol"


# -- trading-broker: an alias of trading-host broker


@pytest.mark.needs_host
def test_the_alias_runs_the_hosts_command_in_process(host, workdir, sqlite_url, monkeypatch, capsys):
    write_config(workdir / "trading.toml", sqlite_url)
    monkeypatch.setattr(sys, "argv", ["trading-broker", "keys", "create", "dora", "--json"])
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == 0
    created = json.loads(capsys.readouterr().out)
    assert authenticate(sqlite_url, created["token"]) == "dora"
    assert sys.argv == ["trading-broker", "keys", "create", "dora", "--json"]


@pytest.mark.needs_host
def test_the_installed_alias(host, workdir, sqlite_url):
    script = shutil.which("trading-broker", path=str(Path(sys.executable).parent))
    if script is None:
        pytest.skip("the trading-broker script is not installed next to this Python")
    write_config(workdir / "trading.toml", sqlite_url)
    environ = {k: v for k, v in os.environ.items() if k not in HOST_VARIABLES}

    def alias(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([script, *args], cwd=workdir, env=environ, capture_output=True, text=True, check=False)

    created = alias("keys", "create", "erin", "--json")
    assert created.returncode == 0, created.stderr
    assert authenticate(sqlite_url, json.loads(created.stdout)["token"]) == "erin"
    shown = alias("db", "info")
    assert "source: [modules.broker] database_url in trading.toml" in shown.stdout
    usage = alias("keys", "--help")
    assert "Usage: trading-host broker keys" in usage.stdout
