"""Swagger UI and ReDoc pages whose every URL is local, with their files served by the app itself,
in a monolith, in standalone mode, embedded under a prefix and behind a root path."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import fastapi_offline
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from host_fakes import factory_for

from trading_host import Installed, embed
from trading_host._documents._pages import CONTENT_SECURITY_POLICY, assets_folder

ABSOLUTE = re.compile(r"(?:[a-z][a-z0-9+.-]*:)?//", re.IGNORECASE)


class _Urls(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [value for name, value in attrs if name in ("src", "href", "spec-url") and value]


def page_urls(html: str) -> list[str]:
    """Every URL the page loads: tag attributes, and the document URL handed to Swagger UI."""
    parser = _Urls()
    parser.feed(html)
    return parser.urls + re.findall(r"url: '([^']*)'", html)


def check_page(client: TestClient, path: str, expected: set[str]) -> None:
    """The page at ``path`` loads exactly ``expected`` (all local), and each of them is served."""
    response = client.get(path)
    assert response.status_code == 200, path
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert not ABSOLUTE.search(response.text), f"{path} refers to another host:\n{response.text}"
    urls = set(page_urls(response.text))
    assert urls == expected
    for url in urls:
        served = client.get(url)
        assert served.status_code == 200, url
        if url.endswith(".js"):
            assert "javascript" in served.headers["content-type"]
            assert served.content == (assets_folder() / url.rsplit("/", 1)[1]).read_bytes()
        elif url.endswith(".css"):
            assert served.headers["content-type"].startswith("text/css")
        elif url.endswith("openapi.json"):
            assert served.json()["paths"]


def swagger(base: str) -> set[str]:
    assets = f"{base}/_assets"
    return {
        f"{assets}/swagger-ui.css",
        f"{assets}/favicon.png",
        f"{assets}/swagger-ui-bundle.js",
        f"{base}/openapi.json",
    }


def redoc(base: str) -> set[str]:
    return {f"{base}/_assets/favicon.png", f"{base}/_assets/redoc.standalone.js", f"{base}/openapi.json"}


def test_each_global_version_has_local_docs(installed: Installed) -> None:
    with TestClient(factory_for(installed).create_app()) as client:
        for version in ("v1", "v2"):
            check_page(client, f"/api/{version}/docs", swagger(f"/api/{version}"))
            check_page(client, f"/api/{version}/redoc", redoc(f"/api/{version}"))


def test_standalone_docs_are_local(installed: Installed) -> None:
    app = factory_for(installed, {"ENABLED_MODULES": "alpha", "MODULE_VERSION": "v2"}).create_app()

    with TestClient(app) as client:
        check_page(client, "/v2/docs", swagger("/v2"))
        check_page(client, "/core/v1/redoc", redoc("/core/v1"))
        # The module's own routes are still reached past the docs routes in front of them.
        assert client.get("/v2/items").status_code == 200


def test_embedded_docs_use_the_prefix(installed: Installed) -> None:
    app = FastAPI()
    embed(app, prefix="/trading", factory=factory_for(installed))

    with TestClient(app) as client:
        check_page(client, "/trading/v1/docs", swagger("/trading/v1"))
        check_page(client, "/trading/v2/redoc", redoc("/trading/v2"))


def test_docs_behind_a_root_path(installed: Installed) -> None:
    app = factory_for(installed).create_app()

    with TestClient(app, root_path="/gateway") as client:
        check_page(client, "/gateway/api/v1/docs", swagger("/gateway/api/v1"))
        check_page(client, "/gateway/api/v1/redoc", redoc("/gateway/api/v1"))


def test_the_pages_may_load_only_from_their_own_origin() -> None:
    directives = dict(d.strip().split(" ", 1) for d in CONTENT_SECURITY_POLICY.split(";"))

    assert directives["default-src"] == "'self'"
    # Nothing but the page's own origin (and data:/blob: URLs it makes itself) in any directive.
    for sources in directives.values():
        assert set(sources.split()) <= {"'self'", "'unsafe-inline'", "data:", "blob:", "'none'"}


def test_swagger_ui_does_not_call_the_online_validator(installed: Installed) -> None:
    with TestClient(factory_for(installed).create_app()) as client:
        html = client.get("/api/v1/docs").text

    assert '"validatorUrl": null' in html


def test_missing_assets_are_named_with_the_fix(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "static").mkdir()
    (tmp_path / "static" / "favicon.png").write_bytes(b"")
    monkeypatch.setattr(fastapi_offline, "__file__", str(tmp_path / "__init__.py"))

    with pytest.raises(
        RuntimeError, match=re.escape("swagger-ui-bundle.js, swagger-ui.css, redoc.standalone.js")
    ) as caught:
        assets_folder.__wrapped__()

    assert "pip install --force-reinstall 'fastapi-offline>=1.7'" in str(caught.value)
