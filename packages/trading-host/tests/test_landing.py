"""The composed API explains itself: a landing page at ``/`` (HTML for a browser, JSON otherwise),
``/api`` and ``/docs`` too, each global version at ``/api/{global}``, and 404s that say what is
missing and what is served."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from host_fakes import factory_for, write_config

from trading_host import AppFactory, Installed, embed
from trading_host._serve._landing import wants_html

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
ALPHA_V1 = """
[lifecycle.alpha.v1]
status = "deprecated"
deprecation = 2027-01-01
sunset = 2027-07-01
successor = "v2"
migration_guide = "https://example.org/guides/alpha-v1-to-v2"
"""
DEPRECATED_AT = 1798761600.0  # 2027-01-01T00:00:00Z


@pytest.fixture
def factory(installed: Installed, tmp_path: Path) -> AppFactory:
    config = write_config(tmp_path / "c.toml", ALPHA_V1)
    return AppFactory(config, environ={}, installed=installed, clock=lambda: DEPRECATED_AT)


def test_the_landing_page_lists_versions_docs_statuses_and_health(factory: AppFactory) -> None:
    with TestClient(factory.create_app()) as client:
        pages = {path: client.get(path) for path in ("/", "/api", "/api/", "/docs")}
    for path, page in pages.items():
        assert page.status_code == 200, path
        assert page.headers["content-type"] == "application/json", path
        assert page.headers["vary"] == "Accept"
    body = pages["/"].json()
    assert {k: pages[k].json() for k in pages} == dict.fromkeys(pages, body)
    assert list(body["global_versions"]) == ["v1", "v2"]
    v1 = body["global_versions"]["v1"]
    assert v1["docs"] == "/api/v1/docs"
    assert v1["openapi"] == "/api/v1/openapi.json"
    assert v1["modules"]["core"] == {"version": "v1", "url": "/api/v1/core", "status": "stable"}
    assert v1["modules"]["alpha"] == {
        "version": "v1",
        "url": "/api/v1/alpha",
        "status": "deprecated",
        "deprecation": "2027-01-01",
        "sunset": "2027-07-01",
        "successor": "v2",
        "migration_guide": "https://example.org/guides/alpha-v1-to-v2",
    }
    assert body["global_versions"]["v2"]["modules"]["alpha"]["status"] == "stable"
    assert body["metrics"] == "/metrics"
    assert body["health"]["status"] == "ok"
    assert set(body["health"]["modules"]) == {"alpha", "beta"}


def test_a_browser_gets_the_landing_page_in_html(factory: AppFactory) -> None:
    with TestClient(factory.create_app()) as client:
        page = client.get("/", headers={"Accept": BROWSER})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert '<a href="/api/v1/docs">docs</a>' in page.text
    assert "deprecated (sunset 2027-07-01, successor v2" in page.text
    assert '<a href="https://example.org/guides/alpha-v1-to-v2">migration guide</a>' in page.text
    assert "<script" not in page.text


@pytest.mark.parametrize(
    ("accept", "html"),
    [
        (BROWSER, True),
        ("*/*", False),
        ("", False),
        ("application/json", False),
        ("application/json, text/html;q=0.5", False),
        ("text/html;q=0.5, application/json;q=0.4", True),
        ("text/html;q=0", False),
    ],
)
def test_content_negotiation(accept: str, html: bool) -> None:
    assert wants_html({"headers": [(b"accept", accept.encode())]}) is html


def test_a_global_version_answers_with_its_part(factory: AppFactory) -> None:
    with TestClient(factory.create_app()) as client:
        v2 = client.get("/api/v2")
        v2_slash = client.get("/api/v2/")
    assert v2.status_code == 200
    assert v2.json() == v2_slash.json()
    assert list(v2.json()["global_versions"]) == ["v2"]
    assert v2.json()["global_versions"]["v2"]["modules"]["alpha"]["version"] == "v2"


def test_404s_say_what_is_missing_and_keep_listing_what_is_served(factory: AppFactory) -> None:
    served = {
        "global_versions": {
            "v1": {"core": "v1", "alpha": "v1", "beta": "v1"},
            "v2": {"core": "v1", "alpha": "v2", "beta": "v1"},
        }
    }
    with TestClient(factory.create_app()) as client:
        module = client.get("/api/v1/gamma/items")
        version = client.get("/api/v9")
    assert module.status_code == 404
    assert module.json() == {
        "detail": "no module gamma in global version v1 at /api/v1/gamma/items; v1 serves: core, alpha, beta",
        "served": served,
    }
    assert version.status_code == 404
    assert version.json() == {"detail": "no global version v9 is served at /api/v9; served: v1, v2", "served": served}


def test_embedded_the_landing_page_is_at_the_prefix_and_the_users_root_stays_theirs(installed: Installed) -> None:
    app = FastAPI()

    @app.get("/")
    async def home() -> dict[str, str]:
        return {"home": "mine"}

    embed(app, prefix="/trading", factory=factory_for(installed))
    with TestClient(app) as client:
        assert client.get("/").json() == {"home": "mine"}
        landing = client.get("/trading").json()
        assert client.get("/trading/docs").json() == landing
        assert landing["global_versions"]["v1"]["docs"] == "/trading/v1/docs"
        assert landing["metrics"] == "/trading/metrics"
        assert client.get("/trading/v1").json()["global_versions"]["v1"]["url"] == "/trading/v1"
