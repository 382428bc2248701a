"""Discovery from package metadata: what is installed is known without importing it, and only the
entry points the matrix enables are imported."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from host_fakes import FakeSite, api_source, factory_for, plugin_distribution, plugin_package, write_config
from host_plugins import AlphaV1, AlphaV2, BetaV1, CoreApi

import trading_core
from trading_host import Installed, Provider, discover


def test_discover_reads_metadata_and_imports_nothing(site: FakeSite) -> None:
    package = plugin_distribution(site, "trading-gamma", "2.3.1", "gamma", ["v1", "v2"])

    installed = discover()

    assert not site.imported(package)
    assert installed.modules()["gamma"] == ["v1", "v2"]
    (provider,) = installed.providers["gamma.v2"]
    assert provider.module == "gamma"
    assert provider.version == "v2"
    assert provider.key == "gamma.v2"
    assert provider.major == 2
    assert provider.distribution == "trading-gamma"
    assert provider.distribution_version == "2.3.1"
    assert provider.target == f"{package}.api.v2:GammaApi"
    assert provider.core_requirement is not None
    assert set(provider.core_requirement.split(",")) == {">=1.0", "<2"}
    assert installed.distributions("gamma") == [("trading-gamma", "2.3.1")]


def test_discover_finds_the_core_module_and_its_version() -> None:
    installed = discover()

    assert installed.core_version == trading_core.__version__
    (core,) = installed.providers["core.v1"]
    assert core.distribution == "trading-core"
    assert core.target == "trading_core.core.api.v1:CoreApi"


def test_loading_a_provider_imports_its_version_only(site: FakeSite) -> None:
    package = plugin_distribution(site, "trading-gamma", "2.0.0", "gamma", ["v1", "v2"])
    (provider,) = discover().providers["gamma.v1"]

    api = provider.load()

    assert api.__name__ == "GammaApi"  # type: ignore[attr-defined]
    assert api.version == "v1"  # type: ignore[attr-defined]
    assert site.imported(f"{package}.api.v1")
    assert not site.imported(f"{package}.api.v2")


def test_entry_points_not_named_module_dot_version_are_set_aside(site: FakeSite) -> None:
    package = site.package("odd", plugin_package("odd", ["v1"]))
    site.distribution(
        "trading-odd",
        "1.0.0",
        {
            "odd.v1": f"{package}.api.v1:OddApi",
            "odd": f"{package}.api.v1:OddApi",
            "odd.version1": f"{package}.api.v1:OddApi",
            "odd.v0": f"{package}.api.v1:OddApi",
            ".v1": f"{package}.api.v1:OddApi",
        },
    )

    installed = discover()

    assert installed.modules()["odd"] == ["v1"]
    bad = {b.name: b for b in installed.bad if b.distribution == "trading-odd"}
    assert set(bad) == {"odd", "odd.version1", "odd.v0", ".v1"}
    assert bad["odd"].target == f"{package}.api.v1:OddApi"
    assert not site.imported(package)


def test_distribution_without_core_requirement(site: FakeSite) -> None:
    plugin_distribution(site, "trading-free", "1.0.0", "free", ["v1"], requires=["fastapi>=0.1"])

    (provider,) = discover().providers["free.v1"]

    assert provider.core_requirement is None


def test_core_requirement_behind_a_marker_is_not_taken_as_the_requirement(site: FakeSite) -> None:
    plugin_distribution(
        site, "trading-marked", "1.0.0", "marked", ["v1"], requires=['trading-core>=9; extra == "never"', "bad req ["]
    )

    (provider,) = discover().providers["marked.v1"]

    assert provider.core_requirement is None


def test_modules_sorts_versions_by_number_not_text() -> None:
    installed = Installed(
        providers={
            f"m.{v}": [Provider("m", v, "trading-m", "10.0", f"m.api.{v}:Api")] for v in ("v10", "v2", "v1", "v9")
        }
    )

    assert installed.modules() == {"m": ["v1", "v2", "v9", "v10"]}


def test_from_apis_builds_providers_from_objects() -> None:
    installed = Installed.from_apis([CoreApi, AlphaV1, AlphaV2, BetaV1], distribution="mine")

    assert installed.modules() == {"alpha": ["v1", "v2"], "beta": ["v1"], "core": ["v1"]}
    (provider,) = installed.providers["alpha.v2"]
    assert provider.load() is AlphaV2
    assert provider.distribution == "mine"
    assert provider.target == "host_plugins:AlphaV2"
    assert installed.core_version is None
    assert installed.bad == []


def test_only_enabled_entry_points_are_imported(site: FakeSite, tmp_path: Path) -> None:
    marker = tmp_path / "boom-imported"
    boom = site.package(
        "boom",
        {
            "__init__.py": f"""
                import pathlib
                pathlib.Path({str(marker)!r}).write_text("imported")
                raise RuntimeError("boom at import")
                """
        },
    )
    site.distribution("trading-boom", "1.0.0", {"boom.v1": f"{boom}:BoomApi"})
    plugin_distribution(site, "trading-gamma", "1.0.0", "gamma", ["v1"])

    plan = factory_for(None, {"ENABLED_MODULES": "gamma"}).plan()

    assert plan.problems == []
    assert ("gamma", "v1") in plan.versions
    assert not marker.exists()
    assert not site.imported(boom)


def test_an_enabled_plugin_that_fails_to_import_is_named_with_its_distribution(site: FakeSite, tmp_path: Path) -> None:
    marker = tmp_path / "boom-imported"
    boom = site.package(
        "boom",
        {
            "__init__.py": f"""
                import pathlib
                pathlib.Path({str(marker)!r}).write_text("imported")
                raise RuntimeError("boom at import")
                """
        },
    )
    site.distribution("trading-boom", "1.4.0", {"boom.v1": f"{boom}:BoomApi"})

    plan = factory_for(None, {"ENABLED_MODULES": "boom"}).plan()

    assert marker.exists()
    (problem,) = [p for p in plan.problems if p.code == "plugin-import-failed"]
    assert "'boom.v1'" in problem.message
    assert f"'{boom}:BoomApi'" in problem.message
    assert "trading-boom 1.4.0" in problem.message
    assert "RuntimeError: boom at import" in problem.message
    assert "trading-boom" in problem.fix


def test_only_the_versions_the_matrix_serves_are_imported(site: FakeSite) -> None:
    package = plugin_distribution(site, "trading-gamma", "2.0.0", "gamma", ["v1", "v2"])

    # Global v1 serves gamma's newest version not newer than v1.
    plan = factory_for(None, {"ENABLED_MODULES": "gamma", "GLOBAL_VERSION": "v1"}).plan()

    assert plan.problems == []
    assert plan.rows["v1"]["gamma"] == "v1"
    assert site.imported(f"{package}.api.v1")
    assert not site.imported(f"{package}.api.v2")


def test_plan_without_load_imports_nothing(site: FakeSite) -> None:
    package = plugin_distribution(site, "trading-gamma", "2.0.0", "gamma", ["v1", "v2"])

    plan = factory_for(None, {"ENABLED_MODULES": "gamma"}).plan(load=False)

    assert plan.problems == []
    assert plan.versions[("gamma", "v2")].api is None
    assert not site.imported(package)


def test_bad_entry_point_name_is_a_problem(site: FakeSite) -> None:
    package = plugin_distribution(site, "trading-gamma", "1.0.0", "gamma", ["v1"])
    site.write_entry_points(
        "trading-gamma", "1.0.0", {"gamma.v1": f"{package}.api.v1:GammaApi", "gamma-one": f"{package}:X"}
    )

    plan = factory_for(None, {"ENABLED_MODULES": "gamma"}).plan()

    (problem,) = [p for p in plan.problems if p.code == "entry-point-invalid"]
    assert "'gamma-one'" in problem.message
    assert "trading-gamma" in problem.message
    assert "'<module>.v<N>'" in problem.message
    assert "trading-gamma" in problem.fix


def test_two_distributions_providing_one_module_version(site: FakeSite) -> None:
    first = plugin_distribution(site, "trading-gamma", "1.0.0", "gamma", ["v1"])
    second = plugin_distribution(site, "gamma-fork", "1.2.0", "gamma", ["v1"])

    plan = factory_for(None, {"ENABLED_MODULES": "gamma"}).plan()

    (problem,) = [p for p in plan.problems if p.code == "duplicate-provider"]
    assert "gamma.v1 is provided by 2 distributions" in problem.message
    assert f"trading-gamma 1.0.0 ({first}.api.v1:GammaApi)" in problem.message
    assert f"gamma-fork 1.2.0 ({second}.api.v1:GammaApi)" in problem.message
    assert "uninstall" in problem.fix


def test_plugin_needing_another_trading_core(site: FakeSite) -> None:
    plugin_distribution(site, "trading-future", "3.0.0", "future", ["v1"], requires=["trading-core>=2.0,<3"])

    plan = factory_for(None, {"ENABLED_MODULES": "future"}).plan()

    (problem,) = [p for p in plan.problems if p.code == "incompatible-core"]
    assert "trading-future 3.0.0 (future.v1)" in problem.message
    assert f"trading-core {trading_core.__version__} is installed" in problem.message
    assert "pip install 'trading-core" in problem.fix
    assert "trading-future" in problem.fix


def test_compatible_core_requirement_is_no_problem(site: FakeSite) -> None:
    plugin_distribution(site, "trading-gamma", "1.0.0", "gamma", ["v1"], requires=["trading-core>=1.0,<2"])

    plan = factory_for(None, {"ENABLED_MODULES": "gamma"}).plan()

    assert plan.problems == []


def test_version_not_installed_names_the_distribution_and_the_release_that_serves_it(
    site: FakeSite, tmp_path: Path
) -> None:
    plugin_distribution(site, "trading-gamma", "2.1.0", "gamma", ["v1", "v2"])
    config = write_config(
        tmp_path / "c.toml",
        """
        [matrix.v1]
        gamma = "v3"
        """,
    )

    plan = factory_for(None, {"ENABLED_MODULES": "gamma"}, config).plan()

    (problem,) = [p for p in plan.problems if p.code == "version-not-installed"]
    assert "needs gamma v3" in problem.message
    assert "the installed trading-gamma 2.1.0 serves gamma v1, v2" in problem.message
    assert "[matrix.v1] gamma = 'v3'" in problem.message
    assert "pip install 'trading-gamma==3.*'" in problem.fix
    assert "v1, v2" in problem.fix


def test_every_discovery_problem_is_reported_at_once(site: FakeSite, tmp_path: Path) -> None:
    boom = site.package("boom", {"__init__.py": "raise ImportError('missing dependency')\n"})
    site.distribution("trading-boom", "1.0.0", {"boom.v1": f"{boom}:BoomApi", "boom.latest": f"{boom}:X"})
    plugin_distribution(site, "trading-gamma", "1.0.0", "gamma", ["v1"])
    plugin_distribution(site, "gamma-fork", "1.0.0", "gamma", ["v1"])
    plugin_distribution(site, "trading-future", "3.0.0", "future", ["v1"], requires=["trading-core>=2,<3"])
    plugin_distribution(site, "trading-delta", "1.0.0", "delta", ["v1"])
    config = write_config(
        tmp_path / "c.toml",
        """
        serve = ["v1", "v7"]
        [matrix.v1]
        delta = "v2"
        """,
    )

    plan = factory_for(None, {"ENABLED_MODULES": "boom,gamma,future,delta,zeta"}, config).plan()

    codes = sorted(p.code for p in plan.problems)
    assert codes == [
        "duplicate-provider",
        "entry-point-invalid",
        "incompatible-core",
        "module-not-installed",
        "plugin-import-failed",
        "unknown-global-version",
        "version-not-installed",
    ]
    not_installed = next(p for p in plan.problems if p.code == "module-not-installed")
    assert "'zeta'" in not_installed.message
    assert "'zeta.v<N>'" in not_installed.fix


def test_adding_a_v3_folder_and_one_entry_point_serves_v3(site: FakeSite, tmp_path: Path) -> None:
    package = plugin_distribution(site, "trading-gamma", "2.0.0", "gamma", ["v1", "v2"])
    config = write_config(
        tmp_path / "c.toml",
        """
        [matrix.v1]
        gamma = "v1"
        [matrix.v2]
        gamma = "v2"
        [matrix.v3]
        gamma = "v3"
        """,
    )
    before = factory_for(None, {"ENABLED_MODULES": "gamma"}, config).plan()
    assert [p.code for p in before.problems] == ["version-not-installed"]

    # The seed's pattern: a new api/v3 package, and one more entry-point line. Nothing else changes.
    site.write(package, {"api/v3/__init__.py": api_source("gamma", "v3")})
    site.write_entry_points(
        "trading-gamma", "2.0.0", {f"gamma.{v}": f"{package}.api.{v}:GammaApi" for v in ("v1", "v2", "v3")}
    )
    factory = factory_for(None, {"ENABLED_MODULES": "gamma"}, config)
    app = factory.create_app()

    assert factory.plan().rows["v3"] == {"core": "v1", "gamma": "v3"}
    with TestClient(app) as client:
        assert client.get("/api/v3/gamma/version").json() == {"module": "gamma", "version": "v3"}
        assert client.get("/api/v2/gamma/version").json() == {"module": "gamma", "version": "v2"}
        assert client.get("/api/v1/gamma/version").json() == {"module": "gamma", "version": "v1"}
