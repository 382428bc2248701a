"""Layered configuration: shipped default < ./trading.toml < named file < environment < arguments."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from host_fakes import write_config
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel

from trading_host import HostConfig, load_config
from trading_host._plan._config import ARGS_SOURCE, DEFAULT_SOURCE, ENV_SOURCE, _from_environment, _merge, _split


def test_shipped_default_is_the_seeds_v1_and_v2_rows() -> None:
    loaded = load_config(environ={})

    assert loaded.problems == []
    assert loaded.config.matrix == {
        "v1": {"core": "v1", "broker": "v1", "datafeed": "v1"},
        "v2": {"core": "v1", "broker": "v2", "datafeed": "v1"},
    }
    assert loaded.config.api_prefix == "/api"
    assert loaded.config.enabled_modules is None
    assert loaded.config.module_version is None
    assert (loaded.config.server.host, loaded.config.server.port) == ("127.0.0.1", 8000)
    assert loaded.is_default("matrix")
    assert loaded.source("anything") == DEFAULT_SOURCE


def test_local_trading_toml_overrides_the_default(clean_environment: Path) -> None:
    write_config(clean_environment / "trading.toml", 'api_prefix = "/local"\n')

    loaded = load_config(environ={})

    assert loaded.config.api_prefix == "/local"
    assert loaded.source("api_prefix") == "trading.toml"
    assert loaded.is_default("matrix")


def test_trading_config_variable_beats_local_file(clean_environment: Path, tmp_path: Path) -> None:
    write_config(clean_environment / "trading.toml", 'api_prefix = "/local"\n')
    named = write_config(tmp_path / "named.toml", 'api_prefix = "/named"\n')

    loaded = load_config(environ={"TRADING_CONFIG": str(named)})

    assert loaded.config.api_prefix == "/named"
    assert loaded.source("api_prefix") == str(named)


def test_config_argument_beats_trading_config_variable(tmp_path: Path) -> None:
    from_env = write_config(tmp_path / "env.toml", 'api_prefix = "/env-file"\n')
    from_arg = write_config(tmp_path / "arg.toml", 'api_prefix = "/arg-file"\n')

    loaded = load_config(from_arg, environ={"TRADING_CONFIG": str(from_env)})

    assert loaded.config.api_prefix == "/arg-file"


def test_environment_beats_file_and_arguments_beat_environment(tmp_path: Path) -> None:
    path = write_config(
        tmp_path / "c.toml",
        """
        serve = ["v1"]
        enabled_modules = ["alpha"]
        api_prefix = "/file"
        """,
    )
    environ = {"GLOBAL_VERSION": "v2", "ENABLED_MODULES": "beta", "TRADING_API_PREFIX": "/env"}

    from_env = load_config(path, environ=environ)
    from_args = load_config(path, environ=environ, overrides={"serve": ["v3"], "api_prefix": "/args"})

    assert (from_env.config.serve, from_env.config.enabled_modules, from_env.config.api_prefix) == (
        ["v2"],
        ["beta"],
        "/env",
    )
    assert from_env.source("serve") == ENV_SOURCE
    assert from_args.config.serve == ["v3"]
    assert from_args.config.api_prefix == "/args"
    assert from_args.config.enabled_modules == ["beta"]  # not overridden: the environment still wins
    assert from_args.source("serve") == ARGS_SOURCE


def test_overrides_left_none_do_not_replace_anything() -> None:
    loaded = load_config(
        environ={"ENABLED_MODULES": "alpha"}, overrides={"enabled_modules": None, "serve": None, "api_prefix": None}
    )

    assert loaded.config.enabled_modules == ["alpha"]
    assert loaded.config.api_prefix == "/api"
    assert "serve" not in loaded.sources


def test_seed_environment_names_and_comma_lists() -> None:
    layer = _from_environment(
        {"GLOBAL_VERSION": " v1, v2 ,,", "ENABLED_MODULES": "broker,datafeed ", "MODULE_VERSION": " v1 "}
    )

    assert layer == {"serve": ["v1", "v2"], "enabled_modules": ["broker", "datafeed"], "module_version": "v1"}


def test_empty_environment_values_are_ignored_except_an_empty_prefix() -> None:
    assert _from_environment({"GLOBAL_VERSION": "", "ENABLED_MODULES": "", "MODULE_VERSION": ""}) == {}
    # An empty prefix is meaningful: serve at /{global}/{module}.
    loaded = load_config(environ={"TRADING_API_PREFIX": ""})
    assert loaded.config.api_prefix == ""
    assert loaded.problems == []


def test_module_settings_from_environment_are_lower_cased_and_merged_per_key(tmp_path: Path) -> None:
    path = write_config(
        tmp_path / "c.toml",
        """
        [modules.alpha]
        greeting = "from file"
        limit = 3
        """,
    )
    environ = {
        "TRADING_MODULES__ALPHA__GREETING": "from env",
        "trading_modules__beta__url": "sqlite://",
        "TRADING_MODULES__NOKEY": "ignored",
        "TRADING_MODULES____NOMODULE": "ignored",
    }

    loaded = load_config(path, environ=environ, overrides={"modules": {"alpha": {"extra": 1}}})

    assert loaded.config.modules == {
        "alpha": {"greeting": "from env", "limit": 3, "extra": 1},
        "beta": {"url": "sqlite://"},
    }
    assert loaded.source("modules.alpha") == ARGS_SOURCE
    assert loaded.source("modules.beta") == ENV_SOURCE


class Limit(BaseModel):
    account: str
    orders: int


class ListSettings(BaseModel):
    tags: list[str] = []
    limits: dict[str, int] = {}
    only: Limit | None = None
    either: str | list[str] = ""
    name: str = ""
    count: int = 0


def test_lists_tables_and_models_from_the_environment_are_read_as_json(tmp_path: Path) -> None:
    path = write_config(tmp_path / "c.toml", '[modules.alpha]\nname = "[not json, and a str]"\n')
    environ = {
        "TRADING_MODULES__ALPHA__TAGS": '["a", "b"]',
        "TRADING_MODULES__ALPHA__LIMITS": '{"x": 1}',
        "TRADING_MODULES__ALPHA__ONLY": '{"account": "alice", "orders": 3}',
        "TRADING_MODULES__ALPHA__EITHER": "plain text",
        "TRADING_MODULES__ALPHA__COUNT": "7",
    }

    loaded = load_config(path, environ=environ)
    table, problems = loaded.module_settings("alpha", ListSettings)

    assert problems == []
    assert ListSettings.model_validate(table) == ListSettings(
        tags=["a", "b"],
        limits={"x": 1},
        only=Limit(account="alice", orders=3),
        either="plain text",  # not JSON, and a str is one of the values it takes
        name="[not json, and a str]",  # from the file: a TOML value is never decoded again
        count=7,  # a scalar: left to the model, as the environment gave it
    )
    assert loaded.module_settings("alpha", ListSettings)[0]["either"] == "plain text"
    assert load_config(environ={"TRADING_MODULES__ALPHA__EITHER": '["x"]'}).module_settings("alpha", ListSettings)[
        0
    ] == {"either": ["x"]}


def test_a_list_from_the_environment_that_is_not_json_is_named_with_the_variable_and_the_fix() -> None:
    environ = {
        "TRADING_MODULES__ALPHA__TAGS": "a,b",
        "TRADING_MODULES__ALPHA__LIMITS": "{x: 1}",
        "TRADING_MODULES__ALPHA__COUNT": "2",
    }

    table, problems = load_config(environ=environ).module_settings("alpha", ListSettings)

    assert table == {"count": "2"}  # the others are left out, so each is reported once
    assert [p.code for p in problems] == ["module-settings-invalid"] * 2
    tags, limits = problems  # in the order of the environment
    assert tags.message.startswith("[modules.alpha] tags in TRADING_MODULES__ALPHA__TAGS in the environment: ")
    assert "is not JSON (Expecting value: line 1 column 1)" in tags.message
    assert tags.fix == (
        "set TRADING_MODULES__ALPHA__TAGS to JSON ('[...]'), "
        "or set tags in the [modules.alpha] table of the config file"
    )
    assert limits.fix.startswith("set TRADING_MODULES__ALPHA__LIMITS to JSON ('{...}')")


def test_a_matrix_row_in_a_file_is_added_to_the_shipped_rows(tmp_path: Path) -> None:
    path = write_config(
        tmp_path / "c.toml",
        """
        [matrix.v3]
        core = "v1"
        broker = "v3"
        """,
    )

    loaded = load_config(path, environ={})

    # Rows merge by name, like [modules.*] and [lifecycle.*]: the shipped v1 and v2 stay.
    assert loaded.config.matrix == {
        "v1": {"core": "v1", "broker": "v1", "datafeed": "v1"},
        "v2": {"core": "v1", "broker": "v2", "datafeed": "v1"},
        "v3": {"core": "v1", "broker": "v3"},
    }
    assert loaded.row_sources() == {"v1": DEFAULT_SOURCE, "v2": DEFAULT_SOURCE, "v3": str(path)}
    # Nothing pins the served global versions: every row is served unless `serve` selects some.
    assert loaded.config.serve is None


def test_a_matrix_row_replaces_the_shipped_row_of_its_name_whole(tmp_path: Path) -> None:
    path = write_config(
        tmp_path / "c.toml",
        """
        [matrix.v2]
        core = "v1"
        broker = "v2"
        """,
    )

    loaded = load_config(path, environ={})

    # The row you write is the row you get: the shipped v2's datafeed = "v1" is not merged in (a
    # module your row leaves out gets the documented default instead), and v1 is still there.
    assert loaded.config.matrix == {
        "v1": {"core": "v1", "broker": "v1", "datafeed": "v1"},
        "v2": {"core": "v1", "broker": "v2"},
    }
    assert loaded.row_sources() == {"v1": DEFAULT_SOURCE, "v2": str(path)}
    assert loaded.is_default("matrix.v1")
    assert not loaded.is_default("matrix.v2")


def test_matrix_rows_merge_by_name_in_every_later_layer() -> None:
    merged: dict[str, Any] = {}
    sources: dict[str, str] = {}
    _merge(merged, sources, {"matrix": {"v1": {"a": "v1"}, "v2": {"a": "v2", "b": "v1"}}}, "first")
    _merge(merged, sources, {"matrix": {"v2": {"a": "v1"}, "v3": {"a": "v3"}}}, "second")
    _merge(merged, sources, {"matrix": {"v3": {"b": "v2"}}}, "third")

    assert merged["matrix"] == {"v1": {"a": "v1"}, "v2": {"a": "v1"}, "v3": {"b": "v2"}}
    assert {k: v for k, v in sources.items() if k.startswith("matrix.")} == {
        "matrix.v1": "first",
        "matrix.v2": "second",
        "matrix.v3": "third",
    }


def test_missing_named_file_is_a_problem_not_an_exception(tmp_path: Path) -> None:
    loaded = load_config(tmp_path / "absent.toml", environ={})

    assert [p.code for p in loaded.problems] == ["config-file-missing"]
    assert "absent.toml" in loaded.problems[0].message
    assert loaded.config.matrix  # the default still loads


def test_missing_file_named_by_trading_config(tmp_path: Path) -> None:
    loaded = load_config(environ={"TRADING_CONFIG": str(tmp_path / "nope.toml")})

    assert [p.code for p in loaded.problems] == ["config-file-missing"]
    assert "TRADING_CONFIG" in loaded.problems[0].message


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    path = write_config(tmp_path / "bad.toml", "serve = [\n")

    loaded = load_config(path, environ={})

    assert [p.code for p in loaded.problems] == ["config-file-invalid"]
    assert str(path) in loaded.problems[0].message
    assert str(path) in loaded.problems[0].fix


def test_unreadable_path_is_a_problem(tmp_path: Path) -> None:
    loaded = load_config(tmp_path, environ={})  # a directory, not a file

    assert [p.code for p in loaded.problems] == ["config-file-unreadable"]


def test_every_bad_key_is_reported_and_good_keys_still_load(tmp_path: Path) -> None:
    path = write_config(
        tmp_path / "c.toml",
        """
        enabled_modules = ["alpha"]
        servee = ["v1"]
        api_prefix = "no-leading-slash"

        [server]
        port = 70000
        """,
    )

    loaded = load_config(path, environ={})

    codes = sorted(p.code for p in loaded.problems)
    assert codes == ["config-invalid-value", "config-invalid-value", "config-unknown-key"]
    messages = "\n".join(p.message for p in loaded.problems)
    assert "unknown key 'servee'" in messages
    assert str(path) in messages  # says which file holds the mistake
    assert "'server.port'" in messages
    assert "'api_prefix'" in messages
    unknown = next(p for p in loaded.problems if p.code == "config-unknown-key")
    assert "enabled_modules" in unknown.fix  # lists the keys it could have meant
    assert loaded.config.enabled_modules == ["alpha"]
    assert loaded.config.api_prefix == "/api"


def test_bad_value_from_environment_names_the_environment() -> None:
    loaded = load_config(environ={"TRADING_API_PREFIX": "/has space"})

    assert [p.code for p in loaded.problems] == ["config-invalid-value"]
    assert ENV_SOURCE in loaded.problems[0].message


def test_host_config_defaults_serve_every_row() -> None:
    config = HostConfig()

    assert config.serve is None
    assert config.enabled_modules is None
    assert config.api_prefix == "/api"


def test_host_config_rejects_unknown_keys() -> None:
    with pytest.raises(ValueError, match="extra"):
        HostConfig.model_validate({"nope": 1})


_names = st.lists(st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True), max_size=6)


@given(_names, st.sampled_from([",", ", ", " ,", ",,"]))
def test_split_reads_back_any_joined_list(names: list[str], separator: str) -> None:
    assert _split(separator.join(names)) == names


def test_fleet_keys_come_from_the_environment_at_any_depth(tmp_path: Path) -> None:
    path = write_config(
        tmp_path / "c.toml",
        """
        [fleet]
        port_base = 18000
        [fleet.services.broker_v2]
        module = "broker"
        version = "v2"
        replicas = 2
        """,
    )
    environ = {
        "TRADING_FLEET__PORT_BASE": "19000",
        "TRADING_FLEET__SERVICES__BROKER_V2__REPLICAS": "3",
        "trading_fleet__database_url": "postgresql+asyncpg://db/trading",
    }

    fleet = load_config(path, environ=environ).config.fleet

    # Merged key by key: the file's other keys stay (values are validated by the fleet's model).
    assert fleet == {
        "port_base": "19000",
        "database_url": "postgresql+asyncpg://db/trading",
        "services": {"broker_v2": {"module": "broker", "version": "v2", "replicas": "3"}},
    }
