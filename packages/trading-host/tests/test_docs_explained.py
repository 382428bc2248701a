"""The docs explain themselves: a deprecated version's lifecycle in words in its OpenAPI document
(each operation's and its tag's description), with local links under the app's root path; the
modules' Markdown documents as HTML pages for a browser and as Markdown for everyone else."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from host_fakes import FakeSite, plugin_package, write_config

from trading_core import Lifecycle
from trading_host import AppFactory
from trading_host._documents._openapi import deprecation_notice, mark_deprecated, under_root_path
from trading_host._documents._render import CONTENT_SECURITY_POLICY, prefers_html

GIZMO_V1 = """
[lifecycle.gizmo.v1]
status = "deprecated"
deprecation = 2027-01-01
sunset = 2027-07-01
successor = "v2"
migration_guide = "/docs/gizmo/migration-v1-to-v2"
"""
DEPRECATED_AT = 1798761600  # 2027-01-01T00:00:00Z
NOTICE = (
    "**Deprecated:** gizmo v1 is deprecated since 2027-01-01 and is sunset on 2027-07-01; from then on every "
    "request gets 410 Gone. Migrate to gizmo v2 (served at `/api/v2/gizmo`): see the "
    "[migration guide](/docs/gizmo/migration-v1-to-v2)."
)
GUIDE = """# From v1 to v2

Use **v2**; see the [v2 changes](CHANGELOG-v2).

| v1 | v2 |
|---|---|
| `/api/v1/gizmo` | `/api/v2/gizmo` |

<script>alert("raw HTML is text")</script>
"""
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def gizmo(site: FakeSite, tmp_path: Path) -> tuple[AppFactory, Clock]:
    """trading-gizmo: gizmo v1 (deprecated from 2027-01-01) and v2, shipping docs/ with a guide."""
    files = plugin_package("gizmo", ["v1", "v2"])
    files["docs/CHANGELOG-v2.md"] = "# gizmo v2\n"
    files["docs/migration-v1-to-v2.md"] = GUIDE
    files["docs/notes.txt"] = "plain text"
    package = site.package("gizmo", files)
    site.distribution("trading-gizmo", "2.0.0", {f"gizmo.{v}": f"{package}.api.{v}:GizmoApi" for v in ("v1", "v2")})
    clock = Clock(DEPRECATED_AT - 1)
    config = write_config(tmp_path / "c.toml", GIZMO_V1)
    return AppFactory(config, environ={"ENABLED_MODULES": "gizmo"}, clock=clock), clock


def operations(document: dict[str, Any], prefix: str) -> list[dict[str, Any]]:
    return [op for path, item in document["paths"].items() if path.startswith(prefix) for op in item.values()]


def test_the_deprecation_is_explained_in_each_operation_and_in_the_tag(gizmo: tuple[AppFactory, Clock]) -> None:
    factory, clock = gizmo
    with TestClient(factory.create_app()) as client:
        before = client.get("/api/v1/openapi.json").json()
        clock.now = DEPRECATED_AT
        during = client.get("/api/v1/openapi.json").json()
        successor = client.get("/api/v2/openapi.json").json()

    assert not any("Deprecated" in op.get("description", "") for op in operations(before, "/api/v1/gizmo"))
    marked = operations(during, "/api/v1/gizmo")
    assert marked
    assert all(op["description"] == NOTICE for op in marked)  # the route has no docstring of its own
    assert {"name": "gizmo", "description": NOTICE} in during["tags"]
    assert not any("Deprecated" in op.get("description", "") for op in operations(during, "/api/v1/core"))
    assert "Deprecated" not in str(successor)


def test_the_notice_keeps_the_descriptions_it_comes_before() -> None:
    lifecycle = Lifecycle(date(2027, 1, 1), date(2027, 7, 1), "v3", "https://example.org/guide")
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "v2"},
        "paths": {"/items": {"get": {"tags": ["alpha"], "description": "The items."}, "parameters": []}},
        "tags": [{"name": "alpha", "description": "Alpha things."}],
    }
    marked = mark_deprecated(document, lifecycle, module="alpha", version="v2")
    notice = deprecation_notice("alpha", "v2", lifecycle)

    assert notice.endswith("Migrate to alpha v3: see the [migration guide](https://example.org/guide).")
    assert marked["paths"]["/items"]["get"]["description"] == f"{notice}\n\nThe items."
    assert marked["tags"] == [{"name": "alpha", "description": f"{notice}\n\nAlpha things."}]
    assert document["paths"]["/items"]["get"]["description"] == "The items."  # a copy, the original untouched


def test_local_links_of_the_descriptions_follow_the_root_path(gizmo: tuple[AppFactory, Clock]) -> None:
    factory, clock = gizmo
    clock.now = DEPRECATED_AT
    with TestClient(factory.create_app(), root_path="/trading") as client:
        document = client.get("/trading/api/v1/openapi.json").json()
        again = client.get("/trading/api/v1/openapi.json").json()

    moved = NOTICE.replace("](/docs/", "](/trading/docs/")
    assert all(op["description"] == moved for op in operations(document, "/api/v1/gizmo"))
    assert {"name": "gizmo", "description": moved} in document["tags"]
    assert document["servers"] == [{"url": "/trading"}]
    assert again == document
    absolute = {"info": {"description": "[a](https://example.org/x) [b](//cdn.example.org/y) [c](/z)"}}
    assert under_root_path(absolute, "/p")["info"]["description"] == (
        "[a](https://example.org/x) [b](//cdn.example.org/y) [c](/p/z)"
    )
    assert under_root_path(absolute, "") is absolute


def test_a_browser_gets_the_guide_as_an_html_page(gizmo: tuple[AppFactory, Clock]) -> None:
    factory, _ = gizmo
    with TestClient(factory.create_app()) as client:
        page = client.get("/docs/gizmo/migration-v1-to-v2", headers={"Accept": BROWSER})
        index = client.get("/docs/gizmo/", headers={"Accept": BROWSER})
        text = client.get("/docs/gizmo/notes.txt", headers={"Accept": BROWSER})

    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert page.headers["vary"] == "Accept"
    assert "<title>gizmo: From v1 to v2</title>" in page.text
    assert "<h1>From v1 to v2</h1>" in page.text
    assert '<p>Use <strong>v2</strong>; see the <a href="CHANGELOG-v2">v2 changes</a>.</p>' in page.text
    assert "<td><code>/api/v1/gizmo</code></td>" in page.text
    assert "<script>" not in page.text  # a document's raw HTML is shown, never run
    assert "&lt;script&gt;" in page.text
    assert '<nav><a href="/docs/gizmo/">' in page.text
    assert index.headers["content-type"] == "text/html; charset=utf-8"
    assert '<a href="/docs/gizmo/migration-v1-to-v2">migration-v1-to-v2</a>' in index.text
    assert text.headers["content-type"] == "text/plain; charset=utf-8"  # only Markdown is rendered


@pytest.mark.parametrize("accept", [None, "*/*", "text/markdown", "text/markdown, text/html;q=0.9", "text/*"])
def test_everyone_else_gets_the_markdown(gizmo: tuple[AppFactory, Clock], accept: str | None) -> None:
    factory, _ = gizmo
    headers = {"Accept": accept} if accept is not None else {}
    with TestClient(factory.create_app()) as client:
        guide = client.get("/docs/gizmo/migration-v1-to-v2", headers=headers)
        index = client.get("/docs/gizmo/", headers=headers)

    assert guide.headers["content-type"] == "text/markdown; charset=utf-8"
    assert guide.text == GUIDE
    assert guide.headers["vary"] == "Accept"
    assert index.json()["module"] == "gizmo"


@pytest.mark.parametrize(
    ("accept", "html"),
    [
        (BROWSER, True),
        ("text/html", True),
        ("TEXT/HTML; q=1", True),
        ("text/markdown;q=0.5, text/html", True),
        ("text/html;q=0.5, text/markdown", False),
        ("text/html;q=0, */*", False),
        ("text/html;q=abc", False),
        ("*/*", False),
        ("", False),
        (None, False),
        ("application/json", False),
        (",,; ;", False),
    ],
)
def test_accept_negotiation(accept: str | None, html: bool) -> None:
    assert prefers_html(accept) is html
