"""Resolving the configuration against what is installed: the matrix, defaults, every problem."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from host_fakes import factory_for
from host_plugins import AlphaModule, AlphaSettings, AlphaV1, AlphaV2, AlphaV3, CoreApi
from hypothesis import given
from hypothesis import strategies as st

from trading_core import Module, ModuleApi, NoSettings
from trading_host import ConfigError, Installed, Problem, Provider, load_config, resolve
from trading_host._plan._config import DEFAULT_SOURCE
from trading_host._plan._matrix import _newest_not_after

ConfigFile = Callable[..., Path]


def codes(problems: list[Problem]) -> list[str]:
    return sorted(p.code for p in problems)


def test_default_matrix_serves_v1_and_v2_with_the_omitted_modules_defaulted(installed: Installed) -> None:
    plan = factory_for(installed).plan()

    assert plan.problems == []
    assert plan.serve == ["v1", "v2"]
    # The shipped rows name core, broker and datafeed; broker and datafeed are not installed and
    # the rows are the shipped ones, so they are skipped. alpha and beta are not named: each gets
    # its newest version not newer than the global version.
    assert plan.rows == {
        "v1": {"core": "v1", "alpha": "v1", "beta": "v1"},
        "v2": {"core": "v1", "alpha": "v2", "beta": "v1"},
    }
    assert plan.modules() == ["core", "alpha", "beta"]
    assert plan.api_prefix == "/api"
    assert plan.standalone is None
    assert all(resolved.api is not None for resolved in plan.versions.values())
    assert plan.versions[("alpha", "v2")].api is AlphaV2


def test_rows_from_a_file_and_module_versions_override(installed: Installed, config_file: ConfigFile) -> None:
    path = config_file(
        """
        [matrix.v1]
        core = "v1"
        alpha = "v2"
        [matrix.v2]
        alpha = "v2"
        """
    )

    plan = factory_for(installed, config=path).plan()
    overridden = factory_for(installed, config=path).plan(module_versions={"alpha": "v1"})

    assert plan.problems == []
    assert plan.rows == {
        "v1": {"core": "v1", "alpha": "v2", "beta": "v1"},
        "v2": {"core": "v1", "alpha": "v2", "beta": "v1"},
    }
    assert overridden.problems == []
    assert {g: row["alpha"] for g, row in overridden.rows.items()} == {"v1": "v1", "v2": "v1"}
    assert ("alpha", "v2") not in overridden.versions


def test_core_is_always_enabled(installed: Installed) -> None:
    plan = factory_for(installed, {"ENABLED_MODULES": "alpha"}).plan()

    assert plan.problems == []
    assert plan.modules() == ["core", "alpha"]
    assert plan.rows["v1"] == {"core": "v1", "alpha": "v1"}


def test_enabling_only_core(installed: Installed) -> None:
    plan = factory_for(installed).plan(enabled_module_names=["core"])

    assert plan.problems == []
    assert plan.modules() == ["core"]


def test_arguments_select_global_versions(installed: Installed) -> None:
    plan = factory_for(installed, {"GLOBAL_VERSION": "v1"}).plan(global_version="v2")

    assert plan.serve == ["v2"]
    assert list(plan.rows) == ["v2"]


def test_unknown_global_version_lists_the_defined_ones(installed: Installed) -> None:
    plan = factory_for(installed, {"GLOBAL_VERSION": "v1,v9"}).plan()

    assert codes(plan.problems) == ["unknown-global-version"]
    problem = plan.problems[0]
    assert "'v9'" in problem.message
    assert "the environment" in problem.message
    assert "v1, v2" in problem.message
    assert "[matrix.v9]" in problem.fix
    assert plan.serve == ["v1"]  # resolution went on with what it could


def test_global_version_that_cannot_be_a_url_segment(installed: Installed) -> None:
    plan = factory_for(installed).plan(global_version=["v1/x"])

    assert codes(plan.problems) == ["global-version-invalid"]


def test_nothing_to_serve(installed: Installed, config_file: ConfigFile) -> None:
    plan = factory_for(installed, config=config_file("serve = []\n")).plan()

    assert codes(plan.problems) == ["nothing-to-serve"]
    assert "[matrix.v1]" in plan.problems[0].fix


def test_enabled_module_not_installed_names_the_distribution(installed: Installed) -> None:
    plan = factory_for(installed, {"ENABLED_MODULES": "alpha,broker,datafeed,news"}).plan()

    assert codes(plan.problems) == ["module-not-installed"] * 3
    fixes = {p.message.split("'")[1]: p.fix for p in plan.problems}
    assert fixes["broker"].startswith("pip install trading-broker")
    assert fixes["datafeed"].startswith("pip install trading-datafeed")
    assert "'news.v<N>'" in fixes["news"]
    assert "trading_api.modules" in fixes["news"]
    assert "the environment" in plan.problems[0].message
    assert plan.modules() == ["core", "alpha"]


def test_a_row_of_your_own_naming_an_uninstalled_module(installed: Installed, config_file: ConfigFile) -> None:
    path = config_file(
        """
        [matrix.v1]
        broker = "v1"
        [matrix.v2]
        broker = "v2"
        """
    )

    plan = factory_for(installed, config=path).plan()

    (problem,) = plan.problems
    assert problem.code == "module-not-installed"
    assert f"module 'broker' is named by [matrix.v1], [matrix.v2] in {path}, but it is not installed" == (
        problem.message
    )
    assert "pip install trading-broker" in problem.fix


def test_a_file_with_only_a_v2_row_still_serves_the_shipped_v1(installed: Installed, config_file: ConfigFile) -> None:
    path = config_file(
        """
        [matrix.v2]
        alpha = "v1"
        """
    )

    plan = factory_for(installed, config=path).plan()

    assert plan.problems == []
    assert plan.serve == ["v1", "v2"]
    assert plan.rows == {
        "v1": {"core": "v1", "alpha": "v1", "beta": "v1"},  # shipped, broker and datafeed skipped
        "v2": {"core": "v1", "alpha": "v1", "beta": "v1"},  # yours; core and beta get their default
    }
    assert plan.row_sources == {"v1": DEFAULT_SOURCE, "v2": str(path)}


def test_your_row_replaces_the_shipped_row_whole_and_is_checked_strictly(
    installed: Installed, config_file: ConfigFile
) -> None:
    # The shipped v2 names broker = "v2", which is not installed here. Merged key by key, your v2
    # would still name it, now as yours, and fail; replaced whole, it names what you wrote.
    path = config_file(
        """
        [matrix.v2]
        core = "v1"
        alpha = "v2"
        """
    )

    plan = factory_for(installed, config=path).plan()

    assert plan.problems == []
    assert plan.rows["v2"] == {"core": "v1", "alpha": "v2", "beta": "v1"}

    strict = config_file('[matrix.v2]\nbroker = "v2"\n', name="strict.toml")
    (problem,) = factory_for(installed, config=strict).plan().problems
    assert problem.code == "module-not-installed"
    assert f"[matrix.v2] in {strict}" in problem.message
    assert "[matrix.v1]" not in problem.message  # the shipped v1 names broker too, leniently


def test_serve_selects_rows_of_the_merged_matrix(installed: Installed, config_file: ConfigFile) -> None:
    path = config_file(
        """
        serve = ["v3"]
        [matrix.v3]
        alpha = "v2"
        """
    )

    plan = factory_for(installed, config=path).plan()

    assert plan.problems == []
    assert plan.rows == {"v3": {"core": "v1", "alpha": "v2", "beta": "v1"}}
    # Every row is still known, with where it came from, served or not.
    assert plan.row_sources == {"v1": DEFAULT_SOURCE, "v2": DEFAULT_SOURCE, "v3": str(path)}
    assert factory_for(installed, {"GLOBAL_VERSION": "v1"}, config=path).plan().rows.keys() == {"v1"}


def test_module_versions_naming_an_uninstalled_module(installed: Installed) -> None:
    plan = factory_for(installed).plan(module_versions={"gamma": "v1"})

    (problem,) = plan.problems
    assert problem.code == "module-not-installed"
    assert "module_versions" in problem.message


def test_version_not_served_says_what_is_served_and_which_release_would(installed: Installed) -> None:
    plan = factory_for(installed).plan(module_versions={"alpha": "v3"})

    assert codes(plan.problems) == ["version-not-installed", "version-not-installed"]  # once per global version
    problem = plan.problems[0]
    assert "module_versions {'alpha': 'v3'}" in problem.message
    assert "serves alpha v1, v2" in problem.message
    assert "pip install 'trading-alpha==3.*'" in problem.fix
    assert "choose one of v1, v2" in problem.fix


def test_malformed_version_in_a_row(installed: Installed, config_file: ConfigFile) -> None:
    path = config_file(
        """
        [matrix.v1]
        alpha = "1"
        """
    )

    plan = factory_for(installed, config=path).plan()

    assert codes(plan.problems) == ["version-invalid"]
    assert "'v1', 'v2'" in plan.problems[0].fix


def test_every_problem_at_once_and_the_error_lists_them(installed: Installed, config_file: ConfigFile) -> None:
    path = config_file(
        """
        serve = ["v1", "v5"]
        nonsense = true
        [matrix.v1]
        alpha = "v7"
        datafeed = "v1"
        [modules.alpha]
        limit = "many"
        """
    )

    plan = factory_for(installed, {"ENABLED_MODULES": "alpha,broker"}, config=path).plan()

    assert codes(plan.problems) == [
        "config-unknown-key",
        "module-not-installed",
        "module-not-installed",
        "unknown-global-version",
        "version-not-installed",
    ]
    with pytest.raises(ConfigError) as caught:
        plan.raise_for_problems()
    text = str(caught.value)
    assert text.startswith("the Trading API cannot start: 5 configuration problems")
    assert text.count("\n  - [") == 5
    assert text.count("fix: ") == 5
    assert caught.value.problems == plan.problems


def test_config_error_with_one_problem_is_singular() -> None:
    error = ConfigError([Problem("x", "y", "z")])

    assert str(error) == "the Trading API cannot start: 1 configuration problem\n  - [x] y\n    fix: z"
    assert Problem("x", "y", "z").to_json() == {"code": "x", "message": "y", "fix": "z"}


def test_module_settings_are_validated_before_serving(installed: Installed, config_file: ConfigFile) -> None:
    path = config_file(
        """
        [modules.alpha]
        limit = "many"
        colour = "red"
        [modules.gamma]
        url = "x"
        """
    )

    plan = factory_for(installed, config=path).plan()

    assert codes(plan.problems) == ["module-settings-invalid", "module-settings-invalid", "module-settings-unknown"]
    text = "\n".join(p.message for p in plan.problems)
    assert "[modules.alpha] limit" in text
    assert "[modules.alpha] colour" in text
    assert "[modules.gamma]" in text


def test_valid_module_settings_reach_the_plan(installed: Installed) -> None:
    plan = factory_for(installed, {"TRADING_MODULES__ALPHA__LIMIT": "3"}).plan()

    assert plan.problems == []
    # Validated once, here: the module gets these objects as they are.
    assert plan.module_settings["alpha"] == AlphaSettings(limit=3)
    assert plan.module_settings["beta"] == NoSettings()
    assert list(plan.module_settings) == plan.modules()  # in one order, whatever the hash seed


def test_settings_for_a_module_with_no_settings_are_refused(installed: Installed) -> None:
    plan = factory_for(installed, {"TRADING_MODULES__BETA__ANYTHING": "1"}).plan()

    assert codes(plan.problems) == ["module-settings-invalid"]
    assert "[modules.beta] anything" in plan.problems[0].message


def test_standalone_serves_one_module_at_its_version_with_core(installed: Installed) -> None:
    plan = factory_for(installed, {"ENABLED_MODULES": "alpha", "MODULE_VERSION": "v2"}).plan()

    assert plan.problems == []
    assert plan.standalone == ("alpha", "v2")
    assert set(plan.versions) == {("alpha", "v2"), ("core", "v1")}
    assert plan.rows == {}
    assert [m.global_versions for m in plan.mounted()] == [(), ()]


def test_standalone_core_alone(installed: Installed) -> None:
    plan = factory_for(installed).plan(enabled_module_names=["core"], module_version="v1")

    assert plan.problems == []
    assert plan.standalone == ("core", "v1")
    assert set(plan.versions) == {("core", "v1")}


def test_standalone_needs_exactly_one_module(installed: Installed) -> None:
    plan = factory_for(installed, {"MODULE_VERSION": "v1"}).plan()

    assert codes(plan.problems) == ["standalone-needs-one-module"]
    assert "alpha, beta" in plan.problems[0].message
    assert "ENABLED_MODULES=" in plan.problems[0].fix


def test_standalone_version_not_served(installed: Installed) -> None:
    plan = factory_for(installed, {"ENABLED_MODULES": "beta", "MODULE_VERSION": "v2"}).plan()

    assert codes(plan.problems) == ["version-not-installed"]
    assert "module_version 'v2' (from MODULE_VERSION in the environment)" in plan.problems[0].message
    assert plan.standalone is None


def test_a_module_may_not_take_a_name_the_host_serves() -> None:
    class DocsModule(Module):
        name = "docs"

    class DocsApi(ModuleApi):
        module = DocsModule
        version = "v1"

    plan = factory_for(Installed.from_apis([CoreApi, DocsApi])).plan()

    assert "module-name-reserved" in codes(plan.problems)


def test_entry_point_that_is_not_a_module_api() -> None:
    installed = Installed.from_apis([CoreApi])
    installed.providers["alpha.v1"] = [
        Provider("alpha", "v1", "trading-alpha", "1.0", "alpha:not_an_api", load=lambda: "a string")
    ]

    plan = factory_for(installed).plan()

    (problem,) = plan.problems
    assert problem.code == "plugin-contract"
    assert "'alpha.v1' = 'alpha:not_an_api' of trading-alpha" in problem.message
    assert "not a subclass of trading_core.ModuleApi" in problem.message


def test_entry_point_registered_under_another_version() -> None:
    installed = Installed.from_apis([CoreApi])
    installed.providers["alpha.v2"] = [
        Provider("alpha", "v2", "trading-alpha", "2.0", "x:AlphaV1", load=lambda: AlphaV1)
    ]

    plan = factory_for(installed).plan()

    (problem,) = plan.problems
    assert problem.code == "plugin-contract"
    assert "registered as 'v2'" in problem.message


def test_versions_of_one_module_must_share_one_module_class() -> None:
    class OtherAlpha(Module):
        name = "alpha"

    class OtherAlphaV2(ModuleApi):
        module = OtherAlpha
        version = "v2"

    plan = factory_for(Installed.from_apis([CoreApi, AlphaV1, OtherAlphaV2])).plan()

    assert codes(plan.problems) == ["module-class-mismatch"]
    assert "cannot share one service" in plan.problems[0].message


def test_resolve_directly_from_a_loaded_config(installed: Installed) -> None:
    loaded = load_config(environ={"GLOBAL_VERSION": "v2"})

    plan = resolve(loaded, installed, module_versions={"beta": "v1"})

    assert plan.rows == {"v2": {"core": "v1", "alpha": "v2", "beta": "v1"}}
    assert plan.module_class("alpha") is AlphaModule
    with pytest.raises(KeyError):
        plan.module_class("gamma")


def test_mounted_lists_the_global_versions_of_each_module_version(installed: Installed) -> None:
    mounted = {(m.module, m.version): m for m in factory_for(installed).plan().mounted()}

    assert mounted[("core", "v1")].global_versions == ("v1", "v2")
    assert mounted[("alpha", "v1")].global_versions == ("v1",)
    assert mounted[("alpha", "v2")].global_versions == ("v2",)
    assert mounted[("alpha", "v2")].distribution == "trading-alpha"
    assert next(iter(mounted)) == ("core", "v1")


def test_a_v3_row_serves_v3_when_it_is_installed(config_file: ConfigFile) -> None:
    path = config_file(
        """
        [matrix.v1]
        alpha = "v1"
        [matrix.v3]
        alpha = "v3"
        """
    )

    plan = factory_for(Installed.from_apis([CoreApi, AlphaV1, AlphaV2, AlphaV3]), config=path).plan()

    assert plan.problems == []
    assert plan.rows == {
        "v1": {"core": "v1", "alpha": "v1"},
        "v2": {"core": "v1", "alpha": "v2"},  # the shipped row, its uninstalled broker and datafeed skipped
        "v3": {"core": "v1", "alpha": "v3"},
    }


def test_a_row_without_core_when_core_is_not_installed(config_file: ConfigFile) -> None:
    path = config_file(
        """
        serve = ["v1"]
        [matrix.v1]
        alpha = "v1"
        """
    )

    plan = factory_for(Installed.from_apis([AlphaV1]), config=path).plan()

    assert plan.problems == []
    assert plan.rows == {"v1": {"alpha": "v1"}}


@given(
    st.lists(st.integers(min_value=1, max_value=50), min_size=0, max_size=8, unique=True),
    st.integers(min_value=1, max_value=60),
)
def test_default_version_is_the_newest_not_newer_than_the_global_version(majors: list[int], limit: int) -> None:
    versions = [f"v{n}" for n in sorted(majors)]
    eligible = [n for n in majors if n <= limit]

    chosen = _newest_not_after(versions, f"v{limit}")

    assert chosen == (f"v{max(eligible)}" if eligible else None)


def test_default_version_for_a_global_version_that_is_not_vn() -> None:
    assert _newest_not_after(["v1", "v2"], "2024-01") == "v2"
    assert _newest_not_after([], "2024-01") is None


def test_a_module_with_no_version_old_enough_is_left_out_of_that_global_version() -> None:
    plan = factory_for(Installed.from_apis([CoreApi, AlphaV2])).plan()

    assert plan.problems == []
    assert plan.rows == {"v1": {"core": "v1"}, "v2": {"core": "v1", "alpha": "v2"}}
