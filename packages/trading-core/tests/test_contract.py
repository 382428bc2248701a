"""The contract itself: version names, API class checks, module construction and settings."""

from __future__ import annotations

import asyncio
import importlib
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, ValidationError

from trading_core import (
    ENTRY_POINT_GROUP,
    HealthCheck,
    Lifecycle,
    Module,
    ModuleApi,
    ModuleContext,
    MountedVersion,
    NoSettings,
    Platform,
    check_api_class,
    midnight_utc,
    parse_version,
)


class NewsModule(Module):
    name = "news"


class NewsApi(ModuleApi):
    module = NewsModule
    version = "v2"


def test_entry_point_group() -> None:
    assert ENTRY_POINT_GROUP == "trading_api.modules"


@pytest.mark.parametrize(("version", "major"), [("v1", 1), ("v2", 2), ("v10", 10), ("v123", 123)])
def test_parse_version(version: str, major: int) -> None:
    assert parse_version(version) == major


@pytest.mark.parametrize("version", ["1", "v0", "v01", "V1", "v", "v1.0", "v-1", " v1", "v1 ", "", "version1"])
def test_parse_version_rejects(version: str) -> None:
    with pytest.raises(ValueError, match=r"is not an API version; write 'v' and a major number, like 'v1'"):
        parse_version(version)


def test_check_api_class_accepts_a_conforming_class() -> None:
    assert check_api_class(NewsApi, "news", "v2") == []


@pytest.mark.parametrize("obj", [object(), NewsApi(NewsModule()), APIRouter, NewsModule, None])
def test_check_api_class_rejects_non_subclasses(obj: object) -> None:
    assert check_api_class(obj, "news", "v2") == [f"{obj!r} is not a subclass of trading_core.ModuleApi"]


def test_check_api_class_reports_wrong_version() -> None:
    assert check_api_class(NewsApi, "news", "v1") == ["registered as 'v1' but NewsApi.version is 'v2'"]


def test_check_api_class_reports_wrong_module() -> None:
    assert check_api_class(NewsApi, "headlines", "v2") == [
        "registered as module 'headlines' but NewsModule.name is 'news'"
    ]


def test_check_api_class_reports_every_problem() -> None:
    class Bad(Module):
        name = "Bad-Name"

    class BadApi(ModuleApi):
        module = Bad

    problems = check_api_class(BadApi, "bad", "v1")
    assert problems == [
        "test_check_api_class_reports_every_problem.<locals>.Bad.name must be lower-case letters, digits and '_', "
        "got 'Bad-Name'",
        "registered as 'v1' but test_check_api_class_reports_every_problem.<locals>.BadApi.version is None",
    ]


def test_check_api_class_reports_a_module_attribute_that_is_not_a_module() -> None:
    class NoModuleApi(ModuleApi):
        module = dict  # type: ignore[assignment]
        version = "v1"

    assert check_api_class(NoModuleApi, "news", "v1") == [
        "test_check_api_class_reports_a_module_attribute_that_is_not_a_module.<locals>.NoModuleApi.module must be "
        "a trading_core.Module subclass"
    ]


def test_module_without_settings_refuses_any_key() -> None:
    assert NewsModule().settings.model_dump() == {}
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        NewsModule(ModuleContext(settings={"max_results": 5}))


def test_module_validates_its_settings_model() -> None:
    class ConfiguredSettings(BaseModel):
        model_config = ConfigDict(extra="forbid")
        max_results: int = 50

    class Configured(Module):
        name = "configured"
        Settings = ConfiguredSettings

    assert Configured().settings == ConfiguredSettings(max_results=50)
    assert Configured(ModuleContext(settings={"max_results": "7"})).settings == ConfiguredSettings(max_results=7)
    with pytest.raises(ValidationError, match="max_results"):
        Configured(ModuleContext(settings={"max_results": "many"}))


def test_contexts_do_not_share_a_platform() -> None:
    # A mutable default shared between contexts would let one test's modules leak into another.
    assert ModuleContext().platform is not ModuleContext().platform
    assert NewsModule().context.platform.health == {}


class ConfiguredSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    max_results: int = 50


class GenericModule(Module[ConfiguredSettings]):
    name = "generic"

    def max_results(self) -> int:
        return self.settings.max_results  # typed ConfiguredSettings: mypy checks this line


def test_a_generic_module_derives_settings_from_its_type_parameter() -> None:
    assert GenericModule.Settings is ConfiguredSettings
    assert GenericModule(ModuleContext(settings={"max_results": "7"})).max_results() == 7
    with pytest.raises(ValidationError, match="max_results"):
        GenericModule(ModuleContext(settings={"max_results": "many"}))

    class Subclass(GenericModule):  # inherits the model
        name = "sub"

    assert Subclass.Settings is ConfiguredSettings
    assert NewsModule.Settings is NoSettings


def test_a_generic_module_may_repeat_its_model_as_settings_or_narrow_it() -> None:
    class Narrower(ConfiguredSettings):
        verbose: bool = False

    class Repeated(Module[ConfiguredSettings]):
        name = "repeated"
        Settings = ConfiguredSettings

    class Narrowed(Module[ConfiguredSettings]):
        name = "narrowed"
        Settings = Narrower

    assert Repeated.Settings is ConfiguredSettings
    assert Narrowed().settings == Narrower()


def test_a_settings_attribute_that_contradicts_the_type_parameter_is_refused() -> None:
    class Other(BaseModel):
        pass

    with pytest.raises(TypeError, match=r"is Module\[ConfiguredSettings\] but sets Settings = .*Other"):

        class Contradicting(Module[ConfiguredSettings]):
            name = "contradicting"
            Settings = Other


def test_a_type_parameter_that_is_not_a_settings_model_is_refused() -> None:
    with pytest.raises(TypeError, match="must be a pydantic BaseModel subclass"):

        class Wrong(Module[int]):  # type: ignore[type-var]
            name = "wrong"


def test_a_generic_intermediate_class_leaves_the_model_to_its_subclasses() -> None:
    from trading_core._contract import SettingsT

    class Base(Module[SettingsT]):
        pass

    class Concrete(Base[ConfiguredSettings]):
        name = "concrete"

    assert Base.Settings is NoSettings
    assert Concrete.Settings is ConfiguredSettings


def test_validated_settings_are_used_as_given_not_validated_again() -> None:
    # The host validates [modules.<name>] once, while checking the configuration, and passes the object.
    given = ConfiguredSettings.model_construct(max_results=-1)  # unvalidated on purpose: no second pass
    assert GenericModule(ModuleContext(settings=given)).settings is given


def test_settings_of_another_model_are_refused() -> None:
    class Other(BaseModel):
        pass

    with pytest.raises(TypeError, match="GenericModule takes ConfiguredSettings settings, got Other"):
        GenericModule(ModuleContext(settings=Other()))


async def _awaited(check: HealthCheck) -> dict[str, Any]:
    return await check()


def test_platform_health_is_a_read_only_view_the_host_fills() -> None:
    checks: dict[str, HealthCheck] = {}
    platform = Platform(health=MappingProxyType(checks))
    module = GenericModule(ModuleContext(platform=platform))
    checks["generic"] = module.health
    assert list(module.context.platform.health) == ["generic"]
    with pytest.raises(TypeError):
        module.context.platform.health["other"] = module.health  # type: ignore[index]
    assert asyncio.run(_awaited(platform.health["generic"])) == {"status": "ok"}


def test_platform_modules_is_deprecated_and_gives_no_instance() -> None:
    checks: dict[str, HealthCheck] = {}
    platform = Platform(health=MappingProxyType(checks))
    module = GenericModule(ModuleContext(platform=platform))
    checks["generic"] = module.health
    with pytest.warns(DeprecationWarning, match=r"Platform.modules is deprecated .* use Platform.health"):
        modules = platform.modules
    (view,) = modules.values()
    assert view.name == "generic"
    assert asyncio.run(_awaited(view.health)) == {"status": "ok"}
    assert view is not module
    assert not hasattr(view, "settings")
    with pytest.raises(TypeError):
        modules["other"] = module  # type: ignore[index]


def test_module_keeps_its_context() -> None:
    platform = Platform()
    context = ModuleContext(settings={}, platform=platform)
    assert NewsModule(context).context is context


def test_default_health_and_lifespan() -> None:
    async def run() -> dict[str, Any]:
        module = NewsModule()
        async with module.lifespan():
            return await module.health()

    assert asyncio.run(run()) == {"status": "ok"}


def test_module_api_tags_routes_with_the_module_name_and_keeps_the_instance() -> None:
    module = NewsModule()
    api = NewsApi(module)
    assert api.tags == ["news"]
    assert api.module_instance is module
    assert NewsApi(module, tags=["custom"]).tags == ["custom"]


def test_lifecycle_dates_take_effect_at_midnight_utc() -> None:
    lifecycle = Lifecycle(date(2026, 11, 1), date(2027, 6, 1), "v2", "/docs/news/migration-v1-to-v2")
    deprecated_at = datetime(2026, 11, 1, tzinfo=UTC).timestamp()
    sunset_at = datetime(2027, 6, 1, tzinfo=UTC).timestamp()
    assert midnight_utc(date(2026, 11, 1)) == deprecated_at == 1793491200
    assert lifecycle.status_at(deprecated_at - 0.001) == "stable"
    assert lifecycle.status_at(deprecated_at) == "deprecated"
    assert lifecycle.status_at(sunset_at - 0.001) == "deprecated"
    assert lifecycle.status_at(sunset_at) == "sunset"


def test_mounted_version_status_follows_its_lifecycle_or_the_configured_status() -> None:
    lifecycle = Lifecycle(date(2026, 11, 1), date(2027, 6, 1), "v2", "https://example.org/guide")
    mounted = MountedVersion("news", "v1", "news", "1.0", ("v1",), status="deprecated", lifecycle=lifecycle)
    assert mounted.status_at(midnight_utc(date(2026, 10, 31))) == "stable"
    assert mounted.status_at(midnight_utc(date(2027, 6, 2))) == "sunset"
    assert MountedVersion("news", "v2", "news", "1.0", ("v2",)).status_at(0) == "stable"


def test_platform_clock_is_real_time_unless_set() -> None:
    before = time.time()
    assert before <= Platform().clock() <= time.time()


def test_docs_folder_is_the_defining_packages_docs_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "contract_docs_pkg"
    (package / "docs").mkdir(parents=True)
    (package / "docs" / "CHANGELOG-v1.md").write_text("# v1\n")
    (package / "__init__.py").write_text(
        "from trading_core import Module\n\nclass DocModule(Module):\n    name = 'doc'\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module("contract_docs_pkg")
    try:
        folder = module.DocModule.docs_folder()
        assert folder is not None
        assert folder.joinpath("CHANGELOG-v1.md").read_text() == "# v1\n"
    finally:
        sys.modules.pop("contract_docs_pkg", None)
    assert NewsModule.docs_folder() is None  # this test module's folder has no docs/


def test_a_module_defined_in_a_script_or_a_plain_module_has_no_docs_folder(tmp_path: Path) -> None:
    # `python my_app.py`: the class lives in __main__, which has no spec; before, docs_folder() raised
    # AttributeError ('NoneType' object has no attribute 'submodule_search_locations').
    (tmp_path / "docs").mkdir()  # beside the script: not a package's docs folder, so not served
    plain = "from trading_core import Module\n\nclass Plain(Module):\n    name = 'plain'\n"
    (tmp_path / "plain_module.py").write_text(plain)
    script = tmp_path / "my_app.py"
    script.write_text(
        "from trading_core import Module\n"
        "import plain_module\n\n"
        "class ScriptModule(Module):\n    name = 'script'\n\n"
        "print(ScriptModule.docs_folder(), plain_module.Plain.docs_folder())\n"
    )
    result = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["None", "None"]
