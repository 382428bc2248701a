"""The conformance kit passes trading-core's own module and fails broken plugins with clear messages."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, ClassVar

import pytest
from fastapi import APIRouter, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict
from starlette.routing import Mount

from trading_core import Module, ModuleApi
from trading_core import __version__ as CORE_VERSION
from trading_core.core.api.v1 import CoreApi
from trading_core.testing import ModuleConformance, check_api, check_distribution, load_apis
from trading_core.testing._session import check_session

if TYPE_CHECKING:
    from conftest import FakeDistributions

# --- trading-core's own module conforms ------------------------------------------------------


class TestCoreConformance(ModuleConformance):
    """The base class, used exactly as a plugin uses it."""

    distribution = "trading-core"


def test_core_distribution_conforms() -> None:
    assert check_distribution("trading-core") == []


def test_core_api_conforms() -> None:
    assert check_api(CoreApi) == []


def test_load_apis_finds_core_v1() -> None:
    assert load_apis("trading-core") == {"core.v1": CoreApi}


# --- API classes broken in one way each ------------------------------------------------------


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    greeting: str = "hello"


class GoodModule(Module):
    name = "good"
    Settings = Settings


class GoodApi(ModuleApi):
    module = GoodModule
    version = "v1"

    def __init__(self, module: GoodModule) -> None:
        super().__init__(module)

        @self.get("/hello", operation_id="hello")
        async def hello() -> dict[str, str]:
            greeting: str = module.settings.greeting  # type: ignore[attr-defined]
            return {"greeting": greeting}


def test_good_api_conforms_with_and_without_settings() -> None:
    assert check_api(GoodApi) == []
    assert check_api(GoodApi, settings={"greeting": "hi"}) == []


def test_unknown_setting_is_reported() -> None:
    problems = check_api(GoodApi, settings={"greting": "hi"})
    assert len(problems) == 1
    assert "GoodModule rejected the settings {'greting': 'hi'}" in problems[0]
    assert "greting: Extra inputs are not permitted" in problems[0]


def test_settings_that_accept_unknown_keys_are_reported() -> None:
    class LaxSettings(BaseModel):
        greeting: str = "hello"

    class LaxModule(GoodModule):
        Settings = LaxSettings  # type: ignore[assignment]  # a different model on purpose

    class LaxApi(GoodApi):
        module = LaxModule

    assert check_api(LaxApi) == [
        "LaxModule.Settings (LaxSettings) accepts unknown keys: set model_config = ConfigDict(extra='forbid') "
        "so that a misspelt setting is reported"
    ]


@pytest.mark.parametrize("obj", [object, APIRouter, len, "GoodApi"])
def test_not_a_module_api_subclass(obj: object) -> None:
    assert check_api(obj) == [f"{obj!r} is not a subclass of trading_core.ModuleApi"]


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("1", "WrongVersionApi.version: '1' is not an API version; write 'v' and a major number, like 'v1'"),
        ("v0", "WrongVersionApi.version: 'v0' is not an API version; write 'v' and a major number, like 'v1'"),
        (1, "WrongVersionApi.version must be an API version such as 'v1', got 1"),
        (None, "WrongVersionApi.version must be an API version such as 'v1', got None"),
    ],
)
def test_wrong_version_attribute(version: Any, expected: str) -> None:
    WrongVersionApi = type("WrongVersionApi", (GoodApi,), {"version": version})
    assert check_api(WrongVersionApi) == [expected]


@pytest.mark.parametrize("name", ["Good", "good-news", "1good", "", None])
def test_wrong_module_name(name: Any) -> None:
    BadNameModule = type("BadNameModule", (GoodModule,), {"name": name})
    BadNameApi = type("BadNameApi", (GoodApi,), {"module": BadNameModule})
    assert check_api(BadNameApi) == [f"BadNameModule.name must be lower-case letters, digits and '_', got {name!r}"]


def test_module_attribute_that_is_not_a_module_class() -> None:
    NoModuleApi = type("NoModuleApi", (GoodApi,), {"module": object})
    assert check_api(NoModuleApi) == ["NoModuleApi.module must be a trading_core.Module subclass, got <class 'object'>"]


class DuplicateIdsApi(ModuleApi):
    module = GoodModule
    version = "v1"

    def __init__(self, module: GoodModule) -> None:
        super().__init__(module)

        @self.get("/a", operation_id="getThing")
        async def a() -> dict[str, str]:
            return {}

        @self.get("/b", operation_id="getThing")
        async def b() -> dict[str, str]:
            return {}

        # One route with two methods gets one id for both: a duplicate too.
        @self.api_route("/c", methods=["GET", "POST"], operation_id="both")
        async def c() -> dict[str, str]:
            return {}


def test_duplicate_operation_ids() -> None:
    problems = check_api(DuplicateIdsApi)
    assert [p for p in problems if "operation id" in p] == [
        "DuplicateIdsApi uses operation id 'getThing' for 2 operations (GET /a, GET /b): give each its own "
        "operation_id=, because clients generated from the OpenAPI document need them unique",
        "DuplicateIdsApi uses operation id 'both' for 2 operations (GET /c, POST /c): give each its own "
        "operation_id=, because clients generated from the OpenAPI document need them unique",
    ]
    assert len(problems) == 2


class NoSchemaApi(ModuleApi):
    module = GoodModule
    version = "v1"

    def __init__(self, module: GoodModule) -> None:
        super().__init__(module)

        @self.get("/untyped", operation_id="untyped")
        async def untyped():
            return {"any": "thing"}

        # These declare their responses in the ways the kit accepts. (response_model=None: FastAPI
        # 0.115 takes the `-> None` of postponed annotations for a body, which a 204 cannot have.)
        @self.delete("/thing", operation_id="deleteThing", status_code=204, response_model=None)
        async def delete() -> None:
            return None

        @self.get("/csv", operation_id="csv", responses={200: {"content": {"text/csv": {}}}})
        async def csv() -> Response:
            return Response("a,b\n", media_type="text/csv")

        @self.get("/hidden", include_in_schema=False)
        async def hidden():
            return {}


def test_route_without_response_schema() -> None:
    assert check_api(NoSchemaApi) == [
        "NoSchemaApi route GET /untyped declares no response schema: give it a return annotation or "
        "response_model=, or responses={200: {'content': ...}} for a non-JSON body"
    ]


def test_route_that_is_not_an_api_route() -> None:
    class MountApi(GoodApi):
        def __init__(self, module: GoodModule) -> None:
            super().__init__(module)
            self.routes.append(Mount("/static", app=Response("x")))

    problems = check_api(MountApi)
    assert len(problems) == 1
    assert "MountApi has a Mount at '/static': the host serves only APIRoute and APIWebSocketRoute" in problems[0]


def test_route_path_without_leading_slash() -> None:
    class RelativeApi(GoodApi):
        def __init__(self, module: GoodModule) -> None:
            super().__init__(module)

            # FastAPI accepts this, but no request path (they all start with "/") can ever match it.
            @self.get("relative", operation_id="relative")
            async def relative() -> dict[str, str]:
                return {}

    problems = check_api(RelativeApi)
    assert problems[0] == "RelativeApi route 'relative' must start with '/' (paths are relative to the module)"


def test_router_without_routes() -> None:
    class EmptyApi(ModuleApi):
        module = GoodModule
        version = "v1"

    assert check_api(EmptyApi) == [
        "EmptyApi declares no route: add endpoints in its __init__ (@self.get('/things') ...)"
    ]


def test_api_that_does_not_call_super_init() -> None:
    class LazyApi(ModuleApi):
        module = GoodModule
        version = "v1"

        def __init__(self, module: GoodModule) -> None:
            pass

    assert check_api(LazyApi) == ["LazyApi.__init__ must call super().__init__(module)"]


def test_router_startup_handlers_are_reported() -> None:
    class StartupApi(GoodApi):
        def __init__(self, module: GoodModule) -> None:
            super().__init__(module)
            self.on_startup.append(lambda: None)

    problems = check_api(StartupApi)
    assert len(problems) == 1
    assert "registers on_startup handlers, which the host never runs" in problems[0]


def test_invalid_openapi_document() -> None:
    class BadDocApi(GoodApi):
        def __init__(self, module: GoodModule) -> None:
            super().__init__(module)

            @self.get("/odd", operation_id="odd", openapi_extra={"responses": {"200": {"description": 5}}})
            async def odd() -> dict[str, str]:
                return {}

    assert check_api(BadDocApi) == [
        "BadDocApi: its OpenAPI document is invalid at paths['/odd'].get.responses['200'].description: "
        "5 is not of type 'string'"
    ]


def test_openapi_document_too_malformed_for_the_validator() -> None:
    class WorseDocApi(GoodApi):
        def __init__(self, module: GoodModule) -> None:
            super().__init__(module)

            @self.get("/odd", operation_id="odd", openapi_extra={"parameters": [{"name": "x"}]})
            async def odd() -> dict[str, str]:
                return {}

    problems = check_api(WorseDocApi)
    assert problems[0] == (
        "WorseDocApi: its OpenAPI document is invalid at paths['/odd'].get.parameters[0]: 'in' is a required property"
    )
    assert all(p.startswith("WorseDocApi: its OpenAPI document is ") for p in problems), problems


# --- lifespan and health ---------------------------------------------------------------------


class FailingStartModule(GoodModule):
    @asynccontextmanager
    async def lifespan(self) -> AsyncIterator[None]:
        raise RuntimeError("database unreachable")
        yield  # type: ignore[unreachable]  # makes this a generator, as @asynccontextmanager needs


class FailingStopModule(GoodModule):
    @asynccontextmanager
    async def lifespan(self) -> AsyncIterator[None]:
        yield
        raise RuntimeError("could not flush")


class NoYieldModule(GoodModule):
    @asynccontextmanager
    async def lifespan(self) -> AsyncIterator[None]:
        if False:
            yield  # type: ignore[unreachable]  # a generator that never yields, on purpose


def _api_for(module_cls: type[Module]) -> type[ModuleApi]:
    return type(f"{module_cls.__name__}Api", (GoodApi,), {"module": module_cls})


def test_lifespan_that_raises_at_startup() -> None:
    assert check_api(_api_for(FailingStartModule)) == [
        "FailingStartModule.lifespan failed at start-up: RuntimeError: database unreachable "
        "(Module.lifespan must be an @asynccontextmanager method that yields exactly once)"
    ]


def test_lifespan_that_raises_at_shutdown() -> None:
    assert check_api(_api_for(FailingStopModule)) == [
        "FailingStopModule.lifespan failed at shutdown: RuntimeError: could not flush "
        "(Module.lifespan must be an @asynccontextmanager method that yields exactly once)"
    ]


def test_lifespan_that_never_yields() -> None:
    problems = check_api(_api_for(NoYieldModule))
    assert len(problems) == 1
    assert problems[0].startswith("NoYieldModule.lifespan failed at start-up: RuntimeError: generator didn't yield")


def test_lifespan_runs_once_and_is_restored() -> None:
    events: list[str] = []

    class CountedModule(GoodModule):
        @asynccontextmanager
        async def lifespan(self) -> AsyncIterator[None]:
            events.append("start")
            yield
            events.append("stop")

    assert check_api(_api_for(CountedModule)) == []
    assert events == ["start", "stop"]
    # The kit counts through a wrapper set on the instance; it must not outlive the check.
    module = CountedModule()
    assert check_session(module, _api_for(CountedModule)(module)) == []
    assert "lifespan" not in vars(module)
    assert events == ["start", "stop", "start", "stop"]


def test_resources_opened_in_lifespan_are_open_while_serving() -> None:
    class ResourceModule(GoodModule):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.connection: str | None = None

        @asynccontextmanager
        async def lifespan(self) -> AsyncIterator[None]:
            self.connection = "open"
            yield
            self.connection = None

        async def health(self) -> dict[str, Any]:
            return {"status": "ok" if self.connection == "open" else "down"}

    class ResourceApi(GoodApi):
        module = ResourceModule

        def __init__(self, module: ResourceModule) -> None:
            super().__init__(module)

            @self.get("/conn", operation_id="conn")
            async def conn() -> dict[str, str]:
                if module.connection is None:
                    raise RuntimeError("used before start-up")
                return {"connection": module.connection}

    assert check_api(ResourceApi) == []


@pytest.mark.parametrize(
    ("report", "expected"),
    [
        ("ok", "BadHealthModule.health() returned 'ok': return a dict with a 'status' string, like {'status': 'ok'}"),
        ({"state": "ok"}, "BadHealthModule.health() returned {'state': 'ok'}: return a dict with a 'status' string"),
        ({"status": "down"}, "BadHealthModule.health() reports {'status': 'down'} right after start-up"),
        ({"status": "ok", "since": object}, "which the core's /health cannot send as JSON"),
    ],
)
def test_bad_health_report(report: Any, expected: str) -> None:
    async def health(self: Module) -> Any:
        return report

    BadHealthModule = type("BadHealthModule", (GoodModule,), {"health": health})
    problems = check_api(_api_for(BadHealthModule))
    assert len(problems) == 1
    assert expected in problems[0]


def test_health_that_raises() -> None:
    async def health(self: Module) -> dict[str, Any]:
        raise ConnectionError("broker gateway down")

    RaisingHealthModule = type("RaisingHealthModule", (GoodModule,), {"health": health})
    assert check_api(_api_for(RaisingHealthModule)) == [
        "RaisingHealthModule.health() raised ConnectionError: broker gateway down"
    ]


def test_get_that_raises() -> None:
    class CrashApi(GoodApi):
        def __init__(self, module: GoodModule) -> None:
            super().__init__(module)

            @self.get("/crash", operation_id="crash")
            async def crash() -> dict[str, str]:
                raise ZeroDivisionError("oops")

            @self.get("/wrong-shape", operation_id="wrongShape")
            async def wrong_shape() -> dict[str, int]:
                return {"a": "not a number"}  # type: ignore[dict-item]

            @self.get("/teapot", operation_id="teapot", status_code=418)
            async def teapot() -> dict[str, str]:
                return {"a": "b"}

            # An endless stream, like a live feed: the kit must read its status and move on.
            @self.get("/live", operation_id="live", responses={200: {"content": {"text/plain": {}}}})
            async def live() -> StreamingResponse:
                async def forever() -> AsyncIterator[bytes]:
                    while True:
                        yield b"tick\n"
                        await asyncio.sleep(0.01)

                return StreamingResponse(forever(), media_type="text/plain")

    problems = check_api(CrashApi)
    assert len(problems) == 2
    assert problems[0] == "GET /crash raised ZeroDivisionError: oops"
    assert problems[1].startswith("GET /wrong-shape raised ResponseValidationError")


def test_module_constructor_that_raises() -> None:
    class BrokenInitModule(GoodModule):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            raise OSError("no disk")

    assert check_api(_api_for(BrokenInitModule)) == ["BrokenInitModule(ModuleContext(...)) raised OSError: no disk"]


# --- distributions ---------------------------------------------------------------------------


def test_fake_distribution_that_conforms(fake_dists: FakeDistributions) -> None:
    package = fake_dists.add("fake-plugin", entry_points={"fake.v1": "FakeApi"})
    assert check_distribution("fake-plugin") == []
    assert list(load_apis("fake_plugin")) == ["fake.v1"]
    assert load_apis("fake-plugin")["fake.v1"].__module__ == package


def test_distribution_not_installed() -> None:
    assert check_distribution("no-such-plugin") == [
        "distribution 'no-such-plugin' is not installed: pip install it (or 'pip install -e .' in its folder)"
    ]
    assert load_apis("no-such-plugin") == {}


def test_distribution_without_entry_points(fake_dists: FakeDistributions) -> None:
    fake_dists.add("empty-plugin", entry_points={})
    problems = check_distribution("empty-plugin")
    assert len(problems) == 1
    assert problems[0].startswith("empty-plugin 1.0.0 registers no entry point in the 'trading_api.modules' group")


@pytest.mark.parametrize("name", ["fake", "fake.1", "fake.v0", "Fake.v1", "fake.v1.x", ".v1"])
def test_entry_point_badly_named(fake_dists: FakeDistributions, name: str) -> None:
    package = fake_dists.add("fake-plugin", entry_points={name: "FakeApi"})
    assert check_distribution("fake-plugin") == [
        f"entry point '{name}' = '{package}:FakeApi' is not named '<module>.v<N>' (a lower-case module name, a dot, "
        "'v' and a major number, like 'news.v1'): rename it in pyproject.toml"
    ]


def test_entry_point_that_fails_to_import(fake_dists: FakeDistributions) -> None:
    fake_dists.add(
        "fake-plugin",
        entry_points={"fake.v1": "FakeApi", "fake.v2": "no_such_package_xyz.api:FakeApi"},
        version="2.0.0",
    )
    assert check_distribution("fake-plugin") == [
        "entry point 'fake.v2' = 'no_such_package_xyz.api:FakeApi' failed to import: "
        "ModuleNotFoundError: No module named 'no_such_package_xyz'"
    ]


def test_entry_point_whose_module_raises(fake_dists: FakeDistributions) -> None:
    package = fake_dists.add("fake-plugin", entry_points={"fake.v1": "FakeApi"}, source="raise ValueError('bad')\n")
    assert check_distribution("fake-plugin") == [
        f"entry point 'fake.v1' = '{package}:FakeApi' failed to import: ValueError: bad"
    ]


def test_entry_point_with_wrong_version_and_module(fake_dists: FakeDistributions) -> None:
    package = fake_dists.add("fake-plugin", entry_points={"other.v1": "FakeApi", "fake.v2": "FakeApi"}, version="2.0.0")
    assert check_distribution("fake-plugin") == [
        f"entry point 'fake.v2' = '{package}:FakeApi': registered as 'v2' but FakeApi.version is 'v1'",
        f"entry point 'other.v1' = '{package}:FakeApi': registered as module 'other' but FakeModule.name is 'fake'",
    ]
    assert load_apis("fake-plugin") == {}


def test_entry_point_that_is_not_a_module_api(fake_dists: FakeDistributions) -> None:
    package = fake_dists.add("fake-plugin", entry_points={"fake.v1": "FakeModule"})
    problems = check_distribution("fake-plugin")
    assert problems == [
        f"entry point 'fake.v1' = '{package}:FakeModule': <class '{package}.FakeModule'> is not a subclass of "
        "trading_core.ModuleApi"
    ]


def test_versions_with_different_module_classes(fake_dists: FakeDistributions) -> None:
    source = """
        from trading_core import Module, ModuleApi

        class FakeModule(Module):
            name = "fake"

        class OtherFakeModule(Module):
            name = "fake"

        class FakeApi(ModuleApi):
            module = FakeModule
            version = "v1"

        class FakeApiV2(ModuleApi):
            module = OtherFakeModule
            version = "v2"
    """
    package = fake_dists.add(
        "fake-plugin", version="2.0.0", entry_points={"fake.v1": "FakeApi", "fake.v2": "FakeApiV2"}, source=source
    )
    assert check_distribution("fake-plugin") == [
        f"the versions of module 'fake' name different Module classes (fake.v1 -> {package}.FakeModule; "
        f"fake.v2 -> {package}.OtherFakeModule): every version must set the same 'module' class, because the "
        "host builds one instance and shares it between versions"
    ]


def test_distribution_major_must_be_newest_api_version(fake_dists: FakeDistributions) -> None:
    fake_dists.add("fake-plugin", version="2.1.0", entry_points={"fake.v1": "FakeApi"})
    assert check_distribution("fake-plugin") == [
        "fake-plugin 2.1.0 serves API versions up to v1, but its major version is 2: release it as 1.x, since a "
        "release's major version names the newest API version it serves"
    ]


@pytest.mark.parametrize(
    ("requires", "expected"),
    [
        (
            [],
            "fake-plugin states no requirement on trading-core: add 'trading-core>=1.0,<2' to [project] dependencies",
        ),
        (
            ["trading-core[testing]>=1.0,<2; extra == 'test'"],
            "fake-plugin states no requirement on trading-core",
        ),
        (
            [f"trading-core=={CORE_VERSION}"],
            f"fake-plugin pins trading-core=={CORE_VERSION}: depend on a range such as",
        ),
        (
            ["trading-core>=1.0"],
            "fake-plugin requires trading-core>=1.0 with no upper bound: use 'trading-core>=1.0,<2'",
        ),
        (["trading_core"], "fake-plugin requires trading-core (any version) with no upper bound"),
        (
            ["trading-core>=2.0,<3"],
            f"fake-plugin requires trading-core<3,>=2.0, but trading-core {CORE_VERSION} is installed: release "
            f"fake-plugin for trading-core {CORE_VERSION}",
        ),
    ],
)
def test_trading_core_requirement(fake_dists: FakeDistributions, requires: list[str], expected: str) -> None:
    fake_dists.add("fake-plugin", entry_points={"fake.v1": "FakeApi"}, requires=requires)
    problems = check_distribution("fake-plugin")
    assert len(problems) == 1, problems
    assert expected in problems[0]


@pytest.mark.parametrize(
    "requires",
    [
        ["trading-core>=1.0,<2"],
        ["trading-core~=1.0"],
        ["trading-core==1.*"],
        ["fastapi", "trading-core>=1.0,<2; python_version >= '3.8'"],
    ],
)
def test_trading_core_ranges_that_are_accepted(fake_dists: FakeDistributions, requires: list[str]) -> None:
    fake_dists.add("fake-plugin", entry_points={"fake.v1": "FakeApi"}, requires=requires)
    assert check_distribution("fake-plugin") == []


def test_every_problem_is_reported_at_once(fake_dists: FakeDistributions) -> None:
    fake_dists.add(
        "fake-plugin",
        version="3.0.0",
        entry_points={"fake": "FakeApi", "fake.v2": "FakeApi", "fake.v3": "nope_xyz:Api"},
        requires=["trading-core>=5"],
    )
    problems = check_distribution("fake-plugin")
    assert len(problems) == 5, problems
    assert [p.split(" ")[0] for p in problems] == ["entry", "entry", "entry", "fake-plugin", "fake-plugin"]


# --- the pytest base class -------------------------------------------------------------------


def test_base_class_fails_with_a_readable_message(fake_dists: FakeDistributions) -> None:
    fake_dists.add("fake-plugin", entry_points={"fake.v1": "FakeApi"}, requires=[])

    class Conformance(ModuleConformance):
        distribution = "fake-plugin"

    with pytest.raises(AssertionError) as info:
        Conformance().test_distribution()
    message = str(info.value)
    assert message.startswith(
        "fake-plugin does not honour the Trading API plugin contract (1 problem):\n"
        "  - fake-plugin states no requirement on trading-core"
    )
    # The API itself conforms, so the other test passes.
    Conformance().test_api_versions()


def test_base_class_reports_api_problems_per_entry_point(fake_dists: FakeDistributions) -> None:
    source = """
        from contextlib import asynccontextmanager
        from trading_core import Module, ModuleApi

        class FakeModule(Module):
            name = "fake"

            @asynccontextmanager
            async def lifespan(self):
                raise RuntimeError("cannot open store")
                yield

        class FakeApi(ModuleApi):
            module = FakeModule
            version = "v1"

            def __init__(self, module):
                super().__init__(module)

                @self.get("/ping", operation_id="ping")
                async def ping() -> dict[str, str]:
                    return {}
    """
    fake_dists.add("fake-plugin", entry_points={"fake.v1": "FakeApi"}, source=source)

    class Conformance(ModuleConformance):
        distribution = "fake-plugin"

    Conformance().test_distribution()
    with pytest.raises(
        AssertionError,
        match=r"  - fake\.v1: FakeModule\.lifespan failed at start-up: RuntimeError: "
        r"cannot open store",
    ):
        Conformance().test_api_versions()


def test_base_class_passes_settings(fake_dists: FakeDistributions) -> None:
    fake_dists.add("fake-plugin", entry_points={"fake.v1": "FakeApi"})

    class Conformance(ModuleConformance):
        distribution = "fake-plugin"
        settings: ClassVar[Mapping[str, Any]] = {"unexpected": 1}

    with pytest.raises(AssertionError, match=r"fake\.v1: FakeModule rejected the settings \{'unexpected': 1\}"):
        Conformance().test_api_versions()


def test_base_class_without_distribution() -> None:
    with pytest.raises(AssertionError, match="Conformance must set 'distribution'"):
        ModuleConformance().test_distribution()


def test_importing_the_kit_needs_neither_pytest_nor_the_host() -> None:
    code = (
        "import sys, trading_core.testing as t; "
        "assert 'pytest' not in sys.modules and 'trading_host' not in sys.modules, sorted(sys.modules); "
        "print(sorted(t.__all__))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    exported = "['ModuleConformance', 'check_api', 'check_distribution', 'include_api', 'load_apis']"
    assert result.stdout.strip() == exported


def _split_router() -> APIRouter:
    router = APIRouter()

    @router.get("/orders", operation_id="listOrders")
    async def orders() -> list[int]:
        return [1]

    @router.get("/crash", operation_id="crashIncluded")
    async def crash() -> dict[str, str]:
        raise ZeroDivisionError("included")

    @router.get("/untyped", operation_id="untypedIncluded")
    async def untyped():
        return {}

    @router.get("/hello", operation_id="hello")  # the same id as GoodApi's own route
    async def hello() -> dict[str, str]:
        return {}

    return router


class SplitApi(GoodApi):
    def __init__(self, module: GoodModule) -> None:
        super().__init__(module)
        self.include_router(_split_router(), prefix="/desk")


def test_included_routers_are_checked_as_served() -> None:
    # FastAPI 0.137+ keeps an included router as one route; the kit reported it as "not an
    # APIRoute" and checked none of its routes. Now they are checked with their full paths.
    problems = check_api(SplitApi)
    assert not any("has a" in p and "APIRoute" in p for p in problems), problems
    assert "SplitApi route GET /desk/untyped declares no response schema" in "\n".join(problems)
    assert "GET /desk/crash raised ZeroDivisionError: included" in problems
    assert any("operation id 'hello'" in p and "GET /desk/hello" in p for p in problems), problems
    assert len(problems) == 3, problems


def test_an_api_made_of_included_routers_conforms() -> None:
    class Clean(GoodApi):
        def __init__(self, module: GoodModule) -> None:
            super().__init__(module)
            router = APIRouter()

            @router.get("/orders", operation_id="listOrders")
            async def orders() -> list[int]:
                return [1]

            self.include_router(router, prefix="/desk")

    assert check_api(Clean) == []
