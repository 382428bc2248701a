"""The dict-based dispatcher: a request reaches its module version by prefix, or a 404 that lists
what is served."""

from __future__ import annotations

import asyncio
from functools import cache
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient
from host_fakes import factory_for
from host_plugins import AlphaV1, AlphaV2, BetaV1, CoreApi
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.routing import Match, NoMatchFound
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocketDisconnect

from trading_host import SCOPE_KEY, Installed, ServedVersion
from trading_host._asgi import route_path
from trading_host._serve._dispatch import ROUTE_KEY, NotServed, Target, VersionRoutes, prefixed, run_route


def _router(label: str) -> APIRouter:
    router = APIRouter()

    @router.get("/items/{item_id}", name="get_item")
    async def get_item(item_id: int) -> dict[str, Any]:
        return {"label": label, "item_id": item_id}

    return router


MONOLITH = {
    "/api/v1/alpha": ServedVersion("v1", "alpha", "v1", "/api/v1/alpha"),
    "/api/v1/beta": ServedVersion("v1", "beta", "v1", "/api/v1/beta"),
    "/api/v2/alpha": ServedVersion("v2", "alpha", "v2", "/api/v2/alpha"),
    "/api/v2/beta": ServedVersion("v2", "beta", "v1", "/api/v2/beta"),
}
STANDALONE = {
    "/v1": ServedVersion(None, "alpha", "v1", "/v1"),
    "/core/v1": ServedVersion(None, "core", "v1", "/core/v1"),
}


def version_routes(layout: dict[str, ServedVersion]) -> tuple[VersionRoutes, dict[str, Target]]:
    targets = {
        prefix: Target(run_route, mount, prefixed(_router(prefix).routes, prefix)) for prefix, mount in layout.items()
    }
    return VersionRoutes(targets), targets


def _landed(child: Scope, target: Target) -> bool:
    """Whether a child scope is one of ``target``'s: its mount, and one of its routes or none."""
    route = child[ROUTE_KEY]
    return child[SCOPE_KEY] == target.mount and (route is None or any(route is r for r in target.routes))


def http_scope(path: str, root_path: str = "") -> Scope:
    return {"type": "http", "path": root_path + path, "root_path": root_path, "method": "GET"}


def test_a_request_under_a_prefix_reaches_that_version() -> None:
    routes, apps = version_routes(MONOLITH)

    match, child = routes.matches(http_scope("/api/v2/beta/items/3"))

    assert match is Match.FULL
    assert _landed(child, apps["/api/v2/beta"])
    assert child[SCOPE_KEY] == MONOLITH["/api/v2/beta"]
    assert child["route"].path == "/api/v2/beta/items/{item_id}"
    assert child["path_params"] == {"item_id": "3"}  # converted by the endpoint, as in any FastAPI app
    assert "root_path" not in child  # the routes carry full paths: no root path per request


def test_the_prefix_itself_matches() -> None:
    routes, apps = version_routes(MONOLITH)

    match, child = routes.matches(http_scope("/api/v1/alpha"))

    assert match is Match.FULL
    assert _landed(child, apps["/api/v1/alpha"])
    assert child[ROUTE_KEY] is None  # no route of the module: a 404 from inside the module


@pytest.mark.parametrize(
    "path", ["/api/v1/alphabet", "/api/v1", "/api", "/", "", "/api/v3/alpha/items", "/API/v1/alpha", "/apiv1/alpha"]
)
def test_paths_that_only_resemble_a_prefix_do_not_match(path: str) -> None:
    routes, _ = version_routes(MONOLITH)

    assert routes.matches(http_scope(path)) == (Match.NONE, {})


def test_websocket_scopes_match_and_lifespan_scopes_do_not() -> None:
    routes, apps = version_routes(MONOLITH)

    match, child = routes.matches({"type": "websocket", "path": "/api/v1/beta/ws"})
    assert match is Match.FULL
    assert _landed(child, apps["/api/v1/beta"])
    assert routes.matches({"type": "lifespan"}) == (Match.NONE, {})


def test_root_path_is_honoured() -> None:
    routes, apps = version_routes(MONOLITH)

    match, child = routes.matches(http_scope("/api/v1/alpha/items/1", root_path="/outer"))

    assert match is Match.FULL
    assert _landed(child, apps["/api/v1/alpha"])
    assert child["route"].path == "/api/v1/alpha/items/{item_id}"
    assert "root_path" not in child


def test_standalone_layout_with_prefixes_of_two_depths() -> None:
    routes, apps = version_routes(STANDALONE)

    assert _landed(routes.matches(http_scope("/v1/items/2"))[1], apps["/v1"])
    assert _landed(routes.matches(http_scope("/v1"))[1], apps["/v1"])
    assert _landed(routes.matches(http_scope("/core/v1/health"))[1], apps["/core/v1"])
    assert routes.matches(http_scope("/core/v2/health"))[0] is Match.NONE
    assert routes.matches(http_scope("/v2/items"))[0] is Match.NONE


def test_route_path() -> None:
    assert route_path({"path": "/a/b", "root_path": ""}) == "/a/b"
    assert route_path({"path": "/root/a", "root_path": "/root"}) == "/a"
    assert route_path({"path": "/root", "root_path": "/root"}) == ""
    assert route_path({"path": "/rooted/a", "root_path": "/root"}) == "/rooted/a"
    assert route_path({"path": "/a"}) == "/a"


def test_handle_runs_the_matched_app_with_the_child_scope() -> None:
    routes, _ = version_routes(MONOLITH)
    app = FastAPI()
    app.router.routes.append(routes)

    response = TestClient(app).get("/api/v2/alpha/items/7")

    assert response.status_code == 200
    assert response.json() == {"label": "/api/v2/alpha", "item_id": 7}


def test_url_path_for_monolith_names() -> None:
    routes, _ = version_routes(MONOLITH)

    assert routes.url_path_for("v2:beta:get_item", item_id=5) == "/api/v2/beta/items/5"
    assert routes.url_path_for("v1:alpha:get_item", item_id=1) == "/api/v1/alpha/items/1"
    with pytest.raises(NoMatchFound):
        routes.url_path_for("v3:alpha:get_item", item_id=1)
    with pytest.raises(NoMatchFound):
        routes.url_path_for("get_item", item_id=1)
    with pytest.raises(NoMatchFound):
        routes.url_path_for("v1:alpha:no_such_route")


def test_url_path_for_standalone_names_when_module_and_core_share_a_version() -> None:
    routes, _ = version_routes(STANDALONE)

    # "<version>:<route>" is the standalone module, even when core is served at the same version.
    assert routes.url_path_for("v1:get_item", item_id=4) == "/v1/items/4"
    assert routes.url_path_for("alpha:v1:get_item", item_id=4) == "/v1/items/4"
    assert routes.url_path_for("core:v1:get_item", item_id=4) == "/core/v1/items/4"


def _run_asgi(app: Any, scope: Scope) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent


def test_not_served_matches_only_below_its_prefix() -> None:
    route = NotServed("/api", {"global_versions": {"v1": {"core": "v1"}}})

    assert route.matches(http_scope("/api/v9/x"))[0] is Match.FULL
    assert route.matches(http_scope("/api"))[0] is Match.FULL
    assert route.matches(http_scope("/apis"))[0] is Match.NONE
    assert route.matches(http_scope("/other"))[0] is Match.NONE
    assert route.matches({"type": "lifespan"})[0] is Match.NONE
    assert NotServed("", {}).matches(http_scope("/anything"))[0] is Match.FULL


def test_not_served_answers_404_listing_what_is_served() -> None:
    app = FastAPI()
    app.router.routes.append(NotServed("/api", {"global_versions": {"v1": {"core": "v1"}}}))

    response = TestClient(app).get("/api/v9/broker/orders")

    assert response.status_code == 404
    assert response.json() == {
        "detail": "no global version v9 is served at /api/v9/broker/orders; served: v1",
        "served": {"global_versions": {"v1": {"core": "v1"}}},
    }


def test_not_served_closes_a_websocket_with_policy_violation() -> None:
    app = FastAPI()
    app.router.routes.append(NotServed("/api", {}))

    with pytest.raises(WebSocketDisconnect) as caught, TestClient(app).websocket_connect("/api/v9/x/ws"):
        pass

    assert caught.value.code == 1008


def test_not_served_is_never_the_target_of_url_for() -> None:
    route = NotServed("/api", {})

    with pytest.raises(NoMatchFound):
        route.url_path_for("anything")


def test_handle_of_not_served_over_raw_asgi() -> None:
    route = NotServed("/api", {"x": 1})

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await route.handle(scope, receive, send)

    messages = _run_asgi(app, http_scope("/api/nope"))

    assert messages[0]["status"] == 404
    assert b'"served":{"x":1}' in messages[1]["body"]


# --- properties -----------------------------------------------------------------------------

_segment = st.sampled_from(["api", "v1", "v2", "v9", "alpha", "beta", "core", "items", "3", "", "x", "alphabet", "V1"])
_paths = st.lists(_segment, max_size=6).map(lambda parts: "/" + "/".join(parts))


def _expected_prefix(path: str, layout: dict[str, ServedVersion]) -> str | None:
    found = [p for p in layout if path == p or path.startswith(p + "/")]
    assert len(found) <= 1
    return found[0] if found else None


@given(_paths, st.sampled_from(["", "/root"]))
def test_any_path_reaches_the_one_prefix_it_is_under_or_nothing(path: str, root_path: str) -> None:
    for layout in (MONOLITH, STANDALONE):
        routes, apps = version_routes(layout)

        match, child = routes.matches(http_scope(path, root_path=root_path))

        expected = _expected_prefix(path, layout)
        if expected is None:
            assert (match, child) == (Match.NONE, {})
        else:
            assert match is Match.FULL
            assert _landed(child, apps[expected])
            assert child[SCOPE_KEY] == layout[expected]


@cache
def _client() -> TestClient:
    installed = Installed.from_apis([CoreApi, AlphaV1, AlphaV2, BetaV1])
    return TestClient(factory_for(installed).create_app())


_SERVED = {
    f"/api/{g}/{m}": (g, m)
    for g, modules in {"v1": ("core", "alpha", "beta"), "v2": ("core", "alpha", "beta")}.items()
    for m in modules
}


# A client cannot send a path that starts with "//" (it would read as a host name).
_request_paths = st.tuples(_segment.filter(bool), st.lists(_segment, max_size=5)).map(
    lambda parts: "/" + "/".join([parts[0], *parts[1]])
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_request_paths)
def test_any_request_path_gets_its_module_or_a_404_never_a_server_error(path: str) -> None:
    response = _client().get(path, follow_redirects=False)

    assert response.status_code < 500
    prefix = next((p for p in _SERVED if path == p or path.startswith(p + "/")), None)
    docs = {f"/api/{g}/{page}" for g in ("v1", "v2") for page in ("docs", "redoc", "openapi.json")}
    if prefix is not None:
        # Inside a served module version: its own answer, never the host's not-served listing.
        assert "served" not in response.text
        if path == prefix + "/items":
            assert response.status_code == 200
    elif path in docs:
        assert response.status_code == 200
    elif path in {"/api", "/api/", "/docs", "/docs/"} or path.rstrip("/") in {"/api/v1", "/api/v2"}:
        assert response.status_code == 200  # the landing page, or a global version's part of it
        assert "global_versions" in response.json()
    elif path == "/api" or path.startswith("/api/"):
        assert response.status_code == 404
        assert response.json()["served"]["global_versions"]["v2"]["alpha"] == "v2"
    else:
        assert response.status_code == 404
        assert "served" not in response.json()


def _dispatch_app(layout: dict[str, ServedVersion]) -> TestClient:
    routes, _ = version_routes(layout)
    app = FastAPI()
    app.router.routes.append(routes)
    return TestClient(app)


def test_a_wrong_method_is_a_405_as_in_a_router() -> None:
    response = _dispatch_app(MONOLITH).post("/api/v1/alpha/items/1")

    assert response.status_code == 405
    assert response.headers["allow"] == "GET"


def test_a_trailing_slash_redirects_as_in_a_router() -> None:
    client = _dispatch_app(MONOLITH)

    response = client.get("/api/v1/alpha/items/1/", follow_redirects=False)

    assert response.status_code == 307
    assert response.headers["location"] == "http://testserver/api/v1/alpha/items/1"
    assert client.get("/api/v1/alpha/nothing/").status_code == 404


def test_an_unknown_path_inside_a_module_is_a_plain_404() -> None:
    response = _dispatch_app(MONOLITH).get("/api/v1/alpha/nothing")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}


def test_prefixed_views_share_the_endpoint_and_refuse_mounts() -> None:
    router = _router("x")
    (view,) = prefixed(router.routes, "/api/v1/x")
    original = router.routes[0]

    assert view.path == "/api/v1/x/items/{item_id}"  # type: ignore[attr-defined]
    assert view.endpoint is original.endpoint  # type: ignore[attr-defined]
    assert original.path == "/items/{item_id}"  # type: ignore[attr-defined]
    router.mount("/static", FastAPI())
    with pytest.raises(TypeError, match="not mounts or hosts"):
        prefixed(router.routes, "/api/v1/x")


def test_mount_is_a_deprecated_alias_of_served_version() -> None:
    import trading_host

    with pytest.warns(DeprecationWarning, match="trading_host.ServedVersion"):
        alias = trading_host.Mount
    assert alias is ServedVersion
    assert "Mount" not in trading_host.__all__
