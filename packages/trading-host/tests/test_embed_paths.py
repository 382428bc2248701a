"""``embed(app, prefix=...)``: everything the platform serves lives under the prefix (the docs, the
module documents, the metrics, the guide links), and a user route on one of those paths is an
error naming both routes, at ``embed()`` and at start-up."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient
from host_fakes import FakeSite, plugin_package, write_config

from trading_host import AppFactory, ConfigError, embed

GIZMO_V1 = """
[lifecycle.gizmo.v1]
status = "deprecated"
deprecation = 2027-01-01
sunset = 2027-07-01
successor = "v2"
migration_guide = "/docs/gizmo/migration-v1-to-v2"
"""
DEPRECATED_AT = 1798761600.0  # 2027-01-01T00:00:00Z


@pytest.fixture
def factory(site: FakeSite, tmp_path: Path) -> AppFactory:
    files = plugin_package("gizmo", ["v1", "v2"])
    files["docs/migration-v1-to-v2.md"] = "# From v1 to v2\n"
    package = site.package("gizmo", files)
    site.distribution("trading-gizmo", "2.0.0", {f"gizmo.{v}": f"{package}.api.{v}:GizmoApi" for v in ("v1", "v2")})
    config = write_config(tmp_path / "c.toml", GIZMO_V1)
    return AppFactory(config, environ={"ENABLED_MODULES": "gizmo"}, clock=lambda: DEPRECATED_AT)


def test_everything_embedded_lives_under_the_prefix(factory: AppFactory) -> None:
    app = FastAPI()
    embed(app, prefix="/trading", factory=factory)
    with TestClient(app) as client:
        metrics = client.get("/trading/metrics")
        guide = client.get("/trading/docs/gizmo/migration-v1-to-v2")
        index = client.get("/trading/docs/gizmo/")
        v1 = client.get("/trading/v1/gizmo/version")
        versions = client.get("/trading/v1/core/versions").json()
        outside = [client.get(path).status_code for path in ("/metrics", "/docs/gizmo/migration-v1-to-v2")]
    assert metrics.status_code == 200
    assert "trading_api_requests_total" in metrics.text
    assert guide.status_code == 200
    assert guide.text.startswith("# From v1 to v2")
    assert index.json()["documents"] == [
        {"name": "migration-v1-to-v2", "url": "/trading/docs/gizmo/migration-v1-to-v2"}
    ]
    assert v1.headers["x-api-migration-guide"] == "/trading/docs/gizmo/migration-v1-to-v2"
    assert v1.headers["link"].startswith('</trading/docs/gizmo/migration-v1-to-v2>; rel="deprecation"')
    (gizmo_v1,) = [v for v in versions if (v["module"], v["version"]) == ("gizmo", "v1")]
    assert gizmo_v1["migration_guide"] == "/trading/docs/gizmo/migration-v1-to-v2"
    assert outside == [404, 404]


def test_the_docs_pages_link_the_guide_where_it_is_served(factory: AppFactory) -> None:
    """The deprecation notice in the OpenAPI document links the guide under the prefix, as the
    Link header does (it linked /docs/..., outside the prefix, a 404)."""
    app = FastAPI()
    embed(app, prefix="/trading", factory=factory)
    with TestClient(app) as client:
        document = client.get("/trading/v1/openapi.json").json()
        (operation,) = [item["get"] for path, item in document["paths"].items() if path.endswith("/gizmo/version")]
        guide = client.get("/trading/docs/gizmo/migration-v1-to-v2")
    assert "[migration guide](/trading/docs/gizmo/migration-v1-to-v2)" in operation["description"]
    assert guide.status_code == 200


def test_the_metrics_go_where_the_user_says(factory: AppFactory) -> None:
    app = FastAPI()
    embed(app, prefix="/trading", factory=factory, metrics_path="/internal/metrics")
    with TestClient(app) as client:
        assert "trading_api_requests_total" in client.get("/internal/metrics").text
        assert client.get("/trading/metrics").status_code == 404


def test_an_app_of_its_own_keeps_its_paths(factory: AppFactory) -> None:
    with TestClient(factory.create_app()) as client:
        assert client.get("/metrics").status_code == 200
        assert client.get("/docs/gizmo/migration-v1-to-v2").status_code == 200
        assert client.get("/api/v1/gizmo/version").headers["x-api-migration-guide"] == "/docs/gizmo/migration-v1-to-v2"


def test_a_user_route_on_a_platform_path_is_refused_at_embed(factory: AppFactory) -> None:
    app = FastAPI()

    @app.get("/trading/metrics")
    async def my_metrics() -> dict[str, str]:
        return {}

    before = list(app.router.routes)
    with pytest.raises(ConfigError) as caught:
        embed(app, prefix="/trading", factory=factory)
    (problem,) = caught.value.problems
    assert problem.code == "embed-route-collision"
    assert (
        "your route GET /trading/metrics (my_metrics) collides with the Trading API's metrics at /trading/metrics"
        in (problem.message)
    )
    assert "embed(app, prefix=...)" in problem.fix
    assert app.router.routes == before


def test_a_user_route_added_after_embed_is_refused_at_start_up(factory: AppFactory) -> None:
    app = FastAPI()
    embed(app, prefix="/trading", factory=factory)
    router = APIRouter()

    @router.get("/v1/orders")
    async def my_orders() -> list[int]:
        return []

    app.include_router(router, prefix="/trading")  # an included router (one route on FastAPI 0.137+) too

    with (
        pytest.raises(
            RuntimeError,
            match=r"your route GET /trading/v1/orders \(my_orders\) collides with the "
            r"Trading API's API prefix at /trading",
        ),
        TestClient(app),
    ):
        pass


def test_a_catch_all_mount_in_front_is_refused(factory: AppFactory, tmp_path: Path) -> None:
    app = FastAPI()
    app.mount("/", FastAPI(), name="site")
    with pytest.raises(ConfigError, match=r"your route mount / \(site\) collides with the Trading API's metrics"):
        embed(app, prefix="/trading", factory=factory)


def test_user_routes_elsewhere_are_fine(factory: AppFactory) -> None:
    app = FastAPI()  # with its own /docs, /redoc and /openapi.json

    @app.get("/tradingdesk")
    async def desk() -> dict[str, str]:
        return {"desk": "mine"}

    embed(app, prefix="/trading", factory=factory)
    with TestClient(app) as client:
        assert client.get("/tradingdesk").json() == {"desk": "mine"}
        assert client.get("/docs").status_code == 200


def test_at_an_empty_prefix_the_users_later_routes_are_not_swallowed(factory: AppFactory) -> None:
    app = FastAPI()
    embed(app, prefix="", factory=factory)

    @app.get("/hello")
    async def hello() -> dict[str, str]:
        return {"hello": "mine"}

    with TestClient(app) as client:
        assert client.get("/hello").json() == {"hello": "mine"}  # the catch-all 404 used to answer it
        assert client.get("/v1/gizmo/version").status_code == 200
        assert "served" in client.get("/v7/gizmo").json()
        assert client.get("/").status_code == 404  # the user's root: no landing page there
