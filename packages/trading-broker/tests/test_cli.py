"""The ``trading-broker`` command: API keys in the server's database, found the way the server finds it."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from trading_broker import BrokerService
from trading_broker._cli import cli
from trading_broker._locate import ENV_NAME, LocateError, locate

runner = CliRunner()


def run(*args: str, env: dict[str, str] | None = None):
    return runner.invoke(cli, list(args), env=env)


def authenticate(url: str, token: str) -> str | None:
    async def check() -> str | None:
        service = BrokerService(database_url=url)
        await service.open()
        try:
            return await service.authenticate(token)
        finally:
            await service.close()

    return asyncio.run(check())


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


# -- finding the server's database: --database-url, then the environment, then the config file


def write_config(path: Path, url: str) -> Path:
    path.write_text(f'[server]\nport = 8000\n\n[modules.broker]\ndatabase_url = "{url}"\n')
    return path


def test_locate_follows_the_servers_order(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert locate(environ={}).source == "the default"
    write_config(tmp_path / "trading.toml", "sqlite:///local.db")
    assert locate(environ={}).url == "sqlite:///local.db"
    named = write_config(tmp_path / "named.toml", "sqlite:///named.db")
    assert locate(environ={"TRADING_CONFIG": str(named)}).url == "sqlite:///named.db"
    given = write_config(tmp_path / "given.toml", "sqlite:///given.db")
    assert locate(config=given, environ={"TRADING_CONFIG": str(named)}).url == "sqlite:///given.db"
    # The environment beats any file, as it does for the server; --database-url beats everything.
    env = {ENV_NAME: "sqlite:///env.db", "TRADING_CONFIG": str(named)}
    assert locate(config=given, environ=env).source == f"${ENV_NAME}"
    assert locate(environ={ENV_NAME.lower(): "sqlite:///lower.db"}).url == "sqlite:///lower.db"
    assert locate("sqlite:///flag.db", given, environ=env).url == "sqlite:///flag.db"


def test_a_config_without_the_key_falls_back_to_the_default(tmp_path):
    plain = tmp_path / "plain.toml"
    plain.write_text("[modules.broker]\ndefault_account = 'x'\n")
    assert locate(config=plain, environ={}).source == "the default"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[modules.broker\n", "is not valid TOML"),
        ("[modules.broker]\ndatabase_url = 3\n", "must be a string"),
        ("[modules.broker]\ndatabase_url = 'oracle://x'\n", "database 'oracle' is not supported"),
    ],
)
def test_a_bad_config_file_is_named_in_the_error(tmp_path, monkeypatch, content, message):
    monkeypatch.delenv(ENV_NAME, raising=False)
    config = tmp_path / "bad.toml"
    config.write_text(content)
    with pytest.raises(LocateError, match=message):
        locate(config=config, environ={})
    result = run("keys", "list", "--config", str(config))
    assert result.exit_code == 2
    assert message in result.output


def test_a_missing_config_file_is_an_error(tmp_path):
    with pytest.raises(LocateError, match="does not exist"):
        locate(config=tmp_path / "nope.toml", environ={})


def test_the_command_uses_the_config_file_in_its_directory(tmp_path, monkeypatch, sqlite_url):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(ENV_NAME, raising=False)
    monkeypatch.delenv("TRADING_CONFIG", raising=False)
    write_config(tmp_path / "trading.toml", sqlite_url)
    created = json.loads(run("keys", "create", "carol", "--json").output)
    assert created["database"] == sqlite_url
    assert authenticate(sqlite_url, created["token"]) == "carol"
