"""AppFactory and embed: layouts, one shared service per module, lifespans run once, 404s, url_for."""

from __future__ import annotations

import importlib
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, ClassVar

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from host_fakes import factory_for
from host_plugins import AlphaModule, AlphaV1, AlphaV2, CoreApi
from pydantic import BaseModel, ConfigDict, model_validator
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.responses import Response
from starlette.routing import NoMatchFound
from starlette.websockets import WebSocketDisconnect

from trading_core import Module, ModuleApi
from trading_host import AppFactory, ConfigError, Installed, embed

# --- monolith -------------------------------------------------------------------------------


def test_monolith_serves_each_global_version_with_its_row(installed: Installed) -> None:
    app = factory_for(installed).create_app()

    with TestClient(app) as client:
        assert client.get("/api/v1/alpha/items").status_code == 200
        assert client.get("/api/v1/core/health").json()["status"] == "ok"
        v1 = client.get("/api/v1/alpha/where").json()
        v2 = client.get("/api/v2/alpha/where").json()
        assert client.get("/api/v2/beta/items").json() == [{"symbol": "AAPL", "price": 1.5}]

    assert (v1["global_version"], v1["module"], v1["version"], v1["prefix"]) == ("v1", "alpha", "v1", "/api/v1/alpha")
    assert (v2["global_version"], v2["version"]) == ("v2", "v2")
    assert v2["root_path"] == ""  # module routes carry full paths: the app's root path is unchanged
    assert app.state.trading_plan.serve == ["v1", "v2"]


def test_one_service_shared_by_every_version_and_global_version(installed: Installed) -> None:
    app = factory_for(installed).create_app()

    with TestClient(app) as client:
        assert client.post("/api/v1/alpha/items", json={"name": "first"}).status_code == 201
        assert client.post("/api/v2/alpha/items", json={"name": "second"}).json() == {"name": "second", "position": 1}
        listed_v1 = client.get("/api/v1/alpha/items").json()
        listed_v2 = client.get("/api/v2/alpha/items").json()
        instance_v1 = client.get("/api/v1/alpha/settings").json()["instance"]
        instance_v2 = client.get("/api/v2/alpha/settings").json()["instance"]

    assert listed_v1 == [{"name": "first"}, {"name": "second"}]
    assert listed_v2 == [{"name": "first", "position": 0}, {"name": "second", "position": 1}]
    assert instance_v1 == instance_v2
    assert AlphaModule.instances == 1


def test_each_lifespan_runs_once_with_several_versions_served(installed: Installed) -> None:
    app = factory_for(installed).create_app()

    with TestClient(app) as client:
        assert (AlphaModule.started, AlphaModule.stopped) == (1, 0)
        assert client.get("/api/v1/alpha/settings").json()["running"] is True
        assert client.get("/api/v2/alpha/settings").json()["running"] is True

    assert (AlphaModule.started, AlphaModule.stopped) == (1, 1)


def test_two_apps_of_one_factory_share_the_service_and_one_lifespan(installed: Installed) -> None:
    factory = factory_for(installed)
    app_v1 = factory.create_app(global_version="v1")
    app_v2 = factory.create_app(global_version="v2")

    with TestClient(app_v1) as client_v1:
        with TestClient(app_v2) as client_v2:
            assert (AlphaModule.started, AlphaModule.stopped) == (1, 0)
            client_v1.post("/api/v1/alpha/items", json={"name": "shared"})
            assert client_v2.get("/api/v2/alpha/items").json() == [{"name": "shared", "position": 0}]
            assert client_v1.get("/api/v2/alpha/items").status_code == 404  # app_v1 serves v1 only
        # The other app still runs: its modules must not have been stopped.
        assert AlphaModule.stopped == 0
        assert client_v1.get("/api/v1/alpha/settings").json()["running"] is True
        versions = client_v1.get("/api/v1/core/versions").json()

    assert (AlphaModule.started, AlphaModule.stopped) == (1, 1)
    assert AlphaModule.instances == 1
    # core lists what every app of the process serves, with the global versions of each.
    by_key = {(v["module"], v["version"]): v for v in versions}
    assert by_key[("alpha", "v1")]["global_versions"] == ["v1"]
    assert by_key[("alpha", "v2")]["global_versions"] == ["v2"]
    assert by_key[("core", "v1")]["global_versions"] == ["v1", "v2"]


def test_lifespan_starts_again_after_a_full_stop(installed: Installed) -> None:
    app = factory_for(installed).create_app()

    with TestClient(app):
        pass
    with TestClient(app):
        assert (AlphaModule.started, AlphaModule.stopped) == (2, 1)

    assert AlphaModule.stopped == 2


def test_two_factories_do_not_share_a_service(installed: Installed) -> None:
    first = factory_for(installed).create_app()
    second = factory_for(installed).create_app()

    with TestClient(first) as a, TestClient(second) as b:
        a.post("/api/v1/alpha/items", json={"name": "only-in-first"})
        assert b.get("/api/v1/alpha/items").json() == []

    assert AlphaModule.instances == 2


def test_not_served_global_version_gets_a_404_listing_the_served_ones(installed: Installed) -> None:
    app = factory_for(installed).create_app(enabled_module_names=["alpha"])

    with TestClient(app) as client:
        unknown_global = client.get("/api/v9/alpha/items")
        disabled_module = client.get("/api/v1/beta/items")
        unknown_route = client.get("/api/v1/alpha/nope")
        outside = client.get("/elsewhere")

    served = {"global_versions": {"v1": {"core": "v1", "alpha": "v1"}, "v2": {"core": "v1", "alpha": "v2"}}}
    assert unknown_global.status_code == 404
    assert unknown_global.json() == {
        "detail": "no global version v9 is served at /api/v9/alpha/items; served: v1, v2",
        "served": served,
    }
    assert disabled_module.status_code == 404
    assert disabled_module.json() == {
        "detail": "no module beta in global version v1 at /api/v1/beta/items; v1 serves: core, alpha",
        "served": served,
    }
    assert unknown_route.status_code == 404
    assert unknown_route.json() == {"detail": "Not Found"}  # the module's own 404
    assert outside.status_code == 404
    assert "served" not in outside.json()


def test_websocket_through_the_dispatcher(installed: Installed) -> None:
    app = factory_for(installed).create_app()

    with TestClient(app) as client:
        with client.websocket_connect("/api/v2/beta/ws") as ws:
            ws.send_text("hi")
            assert ws.receive_text() == "beta:hi"
        with pytest.raises(WebSocketDisconnect) as caught, client.websocket_connect("/api/v9/beta/ws"):
            pass
    assert caught.value.code == 1008


def test_api_prefix_from_the_environment(installed: Installed) -> None:
    app = factory_for(installed, {"TRADING_API_PREFIX": "/trading"}).create_app()

    with TestClient(app) as client:
        assert client.get("/trading/v1/alpha/items").status_code == 200
        assert client.get("/trading/v1/openapi.json").status_code == 200
        assert client.get("/api/v1/alpha/items").status_code == 404
        assert "served" in client.get("/trading/v7/alpha").json()


def test_url_for_names_in_a_monolith(installed: Installed) -> None:
    app = factory_for(installed).create_app()

    assert app.url_path_for("v1:alpha:list_items") == "/api/v1/alpha/items"
    assert app.url_path_for("v2:beta:list_items") == "/api/v2/beta/items"
    assert app.url_path_for("v2:core:health") == "/api/v2/core/health"
    assert app.url_path_for("api:v2:openapi") == "/api/v2/openapi.json"
    assert app.url_path_for("api:v1:docs") == "/api/v1/docs"
    with pytest.raises(NoMatchFound):
        app.url_path_for("v3:alpha:list_items")
    with TestClient(app) as client:
        assert client.get("/api/v2/alpha/where").json()["items_url"] == "http://testserver/api/v2/alpha/items"


def test_module_settings_reach_the_one_instance(installed: Installed) -> None:
    factory = factory_for(
        installed, {"TRADING_MODULES__ALPHA__GREETING": "howdy", "TRADING_MODULES__ALPHA__LIMIT": "4"}
    )

    with TestClient(factory.create_app()) as client:
        settings = client.get("/api/v1/alpha/settings").json()

    assert (settings["greeting"], settings["limit"]) == ("howdy", 4)


class CountedSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    validations: ClassVar[int] = 0

    size: int = 1

    @model_validator(mode="before")
    @classmethod
    def _count(cls, data: Any) -> Any:
        cls.validations += 1
        return data


class CountedModule(Module[CountedSettings]):
    name = "counted"


class CountedV1(ModuleApi):
    module = CountedModule
    version = "v1"


def test_module_settings_are_validated_once_and_the_plans_object_reaches_the_module() -> None:
    CountedSettings.validations = 0
    factory = factory_for(Installed.from_apis([CoreApi, CountedV1]), {"TRADING_MODULES__COUNTED__SIZE": "3"})

    app = factory.create_app()

    assert CountedSettings.validations == 1  # by the configuration check, not again by the module
    module = factory.runtime.modules["counted"]
    assert isinstance(module, CountedModule)
    assert module.settings is app.state.trading_plan.module_settings["counted"]
    assert module.settings.size == 3


def test_modules_see_each_others_health_never_their_instances(installed: Installed) -> None:
    factory = factory_for(installed)
    factory.create_app()
    platform = factory.runtime.modules["alpha"].context.platform

    assert set(platform.health) == {"core", "alpha", "beta"}
    assert all(getattr(check, "__self__", None) is None for check in platform.health.values())
    with pytest.raises(TypeError):
        platform.health["gamma"] = platform.health["beta"]  # type: ignore[index]
    with pytest.warns(DeprecationWarning, match="Platform.modules is deprecated"):
        views = platform.modules
    assert not any(isinstance(view, Module) for view in views.values())


def test_health_reports_each_module_and_503_when_one_is_down(installed: Installed) -> None:
    app = factory_for(installed).create_app()

    with TestClient(app) as client:
        healthy = client.get("/api/v1/core/health")
        AlphaModule.healthy = False
        degraded = client.get("/api/v2/core/health")

    assert healthy.status_code == 200
    assert healthy.json() == {"status": "ok", "modules": {"alpha": {"status": "ok"}, "beta": {"status": "ok"}}}
    assert degraded.status_code == 503
    assert degraded.json()["status"] == "degraded"
    assert degraded.json()["modules"]["alpha"] == {"status": "down", "error": "RuntimeError: storage unreachable"}


def test_create_app_refuses_a_bad_configuration_with_every_problem(installed: Installed) -> None:
    factory = factory_for(installed, {"ENABLED_MODULES": "alpha,broker", "GLOBAL_VERSION": "v1,v9"})

    with pytest.raises(ConfigError) as caught:
        factory.create_app()

    assert sorted(p.code for p in caught.value.problems) == ["module-not-installed", "unknown-global-version"]
    assert AlphaModule.instances == 0  # nothing was built


# --- standalone -----------------------------------------------------------------------------


def test_standalone_serves_one_module_at_its_version(installed: Installed) -> None:
    app = factory_for(installed, {"ENABLED_MODULES": "alpha", "MODULE_VERSION": "v2"}).create_app()

    with TestClient(app) as client:
        client.post("/v2/items", json={"name": "x"})
        items = client.get("/v2/items").json()
        where = client.get("/v2/where").json()
        health = client.get("/core/v1/health")
        module_doc = client.get("/v2/openapi.json").json()
        core_doc = client.get("/core/v1/openapi.json").json()
        docs = client.get("/v2/docs")
        not_served = client.get("/v1/items")
        monolith_path = client.get("/api/v1/alpha/items")

    assert items == [{"name": "x", "position": 0}]
    assert (where["global_version"], where["module"], where["version"], where["prefix"]) == (None, "alpha", "v2", "/v2")
    assert where["items_url"] == "http://testserver/v2/items"
    assert health.status_code == 200
    assert set(module_doc["paths"]) == {"/items", "/where", "/settings"}
    assert module_doc["info"]["version"] == "v2"
    assert set(core_doc["paths"]) == {"/health", "/versions"}
    assert "/v2/openapi.json" in docs.text
    assert not_served.status_code == 404
    assert not_served.json() == {
        "detail": "no API version is served at /v1/items; this deployment serves alpha v2, core v1",
        "served": {"standalone": {"alpha": "v2", "core": "v1"}},
    }
    assert monolith_path.status_code == 404
    assert (AlphaModule.started, AlphaModule.stopped) == (1, 1)


def test_standalone_url_for_names_when_module_and_core_share_v1(installed: Installed) -> None:
    app = factory_for(installed).create_app(enabled_module_names=["alpha"], module_version="v1")

    assert app.url_path_for("v1:list_items") == "/v1/items"
    assert app.url_path_for("alpha:v1:list_items") == "/v1/items"
    assert app.url_path_for("core:v1:health") == "/core/v1/health"
    assert app.url_path_for("v1:openapi") == "/v1/openapi.json"
    assert app.url_path_for("core:v1:openapi") == "/core/v1/openapi.json"
    with TestClient(app) as client:
        assert client.get("/v1/where").json()["items_url"] == "http://testserver/v1/items"


def test_standalone_websocket(installed: Installed) -> None:
    app = factory_for(installed, {"ENABLED_MODULES": "beta", "MODULE_VERSION": "v1"}).create_app()

    with TestClient(app) as client, client.websocket_connect("/v1/ws") as ws:
        ws.send_text("x")
        assert ws.receive_text() == "beta:x"


# --- lifespan order and failure ---------------------------------------------------------------


class RecordingCore(Module):
    name = "core"

    @asynccontextmanager
    async def lifespan(self) -> AsyncIterator[None]:
        AlphaModule.events.append("core:start")
        yield
        AlphaModule.events.append("core:stop")


class RecordingCoreV1(ModuleApi):
    module = RecordingCore
    version = "v1"


class FailingModule(Module):
    name = "zfail"

    @asynccontextmanager
    async def lifespan(self) -> AsyncIterator[None]:
        raise RuntimeError("cannot open storage")
        yield  # type: ignore[unreachable]  # makes this a generator, as @asynccontextmanager needs


class FailingV1(ModuleApi):
    module = FailingModule
    version = "v1"


@pytest.mark.parametrize("environ", [{}, {"ENABLED_MODULES": "alpha", "MODULE_VERSION": "v1"}])
def test_core_starts_first_and_stops_last(environ: dict[str, str]) -> None:
    installed = Installed.from_apis([AlphaV1, RecordingCoreV1])
    app = factory_for(installed, environ).create_app()

    with TestClient(app):
        pass

    assert AlphaModule.events == ["core:start", "alpha:start", "alpha:stop", "core:stop"]


def test_a_failing_lifespan_stops_the_modules_already_started() -> None:
    app = factory_for(Installed.from_apis([CoreApi, AlphaV1, FailingV1])).create_app()

    with pytest.raises(RuntimeError, match="cannot open storage"), TestClient(app):
        pass

    assert (AlphaModule.started, AlphaModule.stopped) == (1, 1)


# --- embed ----------------------------------------------------------------------------------


def user_app(events: list[str]) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
        events.append("user:start")
        yield {"greeting": "from user lifespan"}
        events.append("user:stop")

    app = FastAPI(title="User app", lifespan=lifespan)

    class Tag(BaseHTTPMiddleware):
        async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
            response = await call_next(request)
            response.headers["x-user-middleware"] = "yes"
            return response

    app.add_middleware(Tag)

    @app.get("/hello")
    async def hello(request: Request) -> dict[str, Any]:
        return {"greeting": request.state.greeting}

    return app


def test_embed_keeps_the_users_routes_middleware_and_lifespan(installed: Installed) -> None:
    events: list[str] = []
    app = user_app(events)
    plan = embed(app, prefix="/custom", factory=factory_for(installed))

    with TestClient(app) as client:
        events.append("serving")
        hello = client.get("/hello")
        items = client.get("/custom/v1/alpha/items")
        running = client.get("/custom/v2/alpha/settings").json()["running"]
        where = client.get("/custom/v2/alpha/where").json()
        not_served = client.get("/custom/v9/alpha")
        doubled = client.get("/custom/custom/v1/alpha/items")
        user_doc = client.get("/openapi.json").json()

    assert plan.api_prefix == "/custom"
    assert hello.json() == {"greeting": "from user lifespan"}
    assert hello.headers["x-user-middleware"] == "yes"
    assert items.status_code == 200
    assert items.headers["x-user-middleware"] == "yes"
    assert running is True
    assert where["prefix"] == "/custom/v2/alpha"
    assert where["items_url"] == "http://testserver/custom/v2/alpha/items"
    assert not_served.status_code == 404
    assert set(not_served.json()["served"]["global_versions"]) == {"v1", "v2"}
    assert doubled.status_code == 404
    assert set(user_doc["paths"]) == {"/hello"}  # the user's own document is left as it was
    assert events == ["user:start", "serving", "user:stop"]
    assert (AlphaModule.started, AlphaModule.stopped) == (1, 1)


def test_embed_order_of_lifespans(installed: Installed) -> None:
    app = user_app(AlphaModule.events)
    embed(app, prefix="/custom", factory=factory_for(installed))

    with TestClient(app):
        pass

    assert AlphaModule.events == ["alpha:start", "user:start", "user:stop", "alpha:stop"]


def test_embedded_documents_carry_the_chosen_prefix_once(installed: Installed) -> None:
    app = FastAPI()
    embed(app, prefix="/custom", factory=factory_for(installed))

    with TestClient(app) as client:
        document = client.get("/custom/v1/openapi.json").json()
        docs = client.get("/custom/v1/docs").text

    assert "/custom/v1/alpha/items" in document["paths"]
    assert not any(path.startswith("/custom/custom") for path in document["paths"])
    assert "servers" not in document
    assert "/custom/v1/openapi.json" in docs


def test_embed_at_an_empty_prefix(installed: Installed) -> None:
    app = FastAPI()
    embed(app, prefix="", factory=factory_for(installed), global_version="v2")

    with TestClient(app) as client:
        assert client.get("/v2/alpha/items").status_code == 200
        assert client.get("/v1/alpha/items").json()["served"] == {
            "global_versions": {"v2": {"core": "v1", "alpha": "v2", "beta": "v1"}}
        }


def test_url_for_a_user_route_added_after_embed(installed: Installed) -> None:
    app = FastAPI()
    embed(app, prefix="/custom", factory=factory_for(installed))

    @app.get("/mine")
    async def mine(request: Request) -> dict[str, str]:
        return {"self": str(request.url_for("mine")), "items": str(request.url_for("v1:alpha:list_items"))}

    with TestClient(app) as client:
        response = client.get("/mine")

    assert response.status_code == 200
    assert response.json() == {
        "self": "http://testserver/mine",
        "items": "http://testserver/custom/v1/alpha/items",
    }
    assert app.url_path_for("v2:alpha:list_items") == "/custom/v2/alpha/items"
    with pytest.raises(NoMatchFound):
        app.url_path_for("no_such_route")


def test_embed_refuses_a_bad_configuration_and_leaves_the_app_alone(installed: Installed) -> None:
    app = FastAPI()
    routes_before = list(app.router.routes)
    lifespan_before = app.router.lifespan_context

    with pytest.raises(ConfigError) as caught:
        embed(app, factory=factory_for(installed), global_version="v9")

    assert [p.code for p in caught.value.problems] == ["unknown-global-version"]
    assert app.router.routes == routes_before
    assert app.router.lifespan_context is lifespan_before


def test_embed_and_create_app_of_one_factory_share_the_service(installed: Installed) -> None:
    factory = factory_for(installed)
    standalone = factory.create_app(global_version="v1")
    user = FastAPI()
    embed(user, prefix="/custom", factory=factory, global_version="v2")

    with TestClient(standalone) as first, TestClient(user) as second:
        first.post("/api/v1/alpha/items", json={"name": "both"})
        assert second.get("/custom/v2/alpha/items").json() == [{"name": "both", "position": 0}]
        assert AlphaModule.started == 1

    assert AlphaModule.instances == 1
    assert AlphaModule.stopped == 1


# --- the default app and discovery ------------------------------------------------------------


def test_factory_discovers_when_nothing_is_given() -> None:
    factory = AppFactory(environ={})

    assert "core" in factory.installed.modules()
    assert factory.installed is factory.installed  # discovered once


def _import_main(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.delitem(sys.modules, "trading_host.main", raising=False)
    module = importlib.import_module("trading_host.main")
    monkeypatch.delitem(sys.modules, "trading_host.main")
    return module


def test_main_app_is_configured_by_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENABLED_MODULES", "core")
    monkeypatch.setenv("MODULE_VERSION", "v1")

    main = _import_main(monkeypatch)

    with TestClient(main.app) as client:
        response = client.get("/v1/versions")
    assert response.status_code == 200
    assert [(v["module"], v["version"], v["distribution"]) for v in response.json()] == [("core", "v1", "trading-core")]


def test_main_exits_with_status_2_and_every_problem(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ENABLED_MODULES", "core,no_such_module")
    monkeypatch.setenv("GLOBAL_VERSION", "v9")

    with pytest.raises(SystemExit) as caught:
        _import_main(monkeypatch)

    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert "2 configuration problems" in err
    assert "unknown-global-version" in err
    assert "module-not-installed" in err
    assert "Traceback" not in err


def test_apps_built_directly_from_objects_need_no_installed_package() -> None:
    installed = Installed.from_apis([CoreApi, AlphaV2])

    with TestClient(factory_for(installed).create_app(global_version="v2")) as client:
        assert client.get("/api/v2/alpha/items").status_code == 200
