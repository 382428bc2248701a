"""The composed API explains itself: a landing page listing what is served, and accurate 404s.

``/`` (and the API prefix, and ``/docs``) of an app of its own, or the prefix in a user's app,
answers with the served global versions, their docs, each module version with its lifecycle
status, the module documents, the metrics and the health: HTML for a browser, JSON otherwise.
``{prefix}/{global}`` answers with that global version's part.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

from starlette.datastructures import URLPath
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Match, NoMatchFound
from starlette.types import Receive, Scope, Send

from .._asgi import route_path
from .._plan._matrix import Plan
from ._runtime import Runtime
from ._startup import StartupFailed
from ._wiring import PlanWiring

# The page has no script and loads nothing; its one style sheet is inline.
_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"


def _quality(accept: str, media_type: str) -> float:
    """The quality ``accept`` gives ``media_type`` by name (``type/subtype``), 0 if it is not named.

    Hand-written because Starlette has no Accept parser and this needs one comparison: a browser
    names ``text/html`` first, ``curl`` and HTTP clients send ``*/*`` or ``application/json``."""
    best = 0.0
    for part in accept.split(","):
        name, *params = (p.strip() for p in part.split(";"))
        if name.lower() != media_type:
            continue
        quality = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        best = max(best, quality)
    return best


def wants_html(scope: Scope) -> bool:
    """Whether the request's ``Accept`` header prefers HTML to JSON (a browser's does)."""
    accept = next((v.decode("latin-1") for k, v in scope.get("headers", ()) if k == b"accept"), "")
    html_quality = _quality(accept, "text/html")
    return html_quality > 0 and html_quality >= _quality(accept, "application/json")


class Landing:
    """What a plan serves, described for people and for scripts."""

    def __init__(self, plan: Plan, wiring: PlanWiring, runtime: Runtime, title: str) -> None:
        self.plan = plan
        self.wiring = wiring
        self.runtime = runtime
        self.title = title

    def _module(self, module: str, version: str, base: str, now: float) -> dict[str, Any]:
        entry: dict[str, Any] = {"version": version, "url": f"{base}/{module}", "status": "stable"}
        lifecycle = self.wiring.lifecycle((module, version))
        if lifecycle is not None:
            entry["status"] = lifecycle.status_at(now)
            entry.update(
                deprecation=lifecycle.deprecation.isoformat(),
                sunset=lifecycle.sunset.isoformat(),
                successor=lifecycle.successor,
                migration_guide=lifecycle.migration_guide,
            )
        return entry

    def global_version(self, global_version: str, root_path: str) -> dict[str, Any]:
        plan, now = self.plan, self.plan.clock()
        base = f"{root_path}{plan.api_prefix}/{global_version}"
        return {
            "url": base,
            "docs": f"{base}/docs",
            "redoc": f"{base}/redoc",
            "openapi": f"{base}/openapi.json",
            "health": f"{base}/core/health",
            "modules": {m: self._module(m, v, base, now) for m, v in plan.rows[global_version].items()},
        }

    async def health(self) -> dict[str, Any]:
        """The core module's report of every module, as at ``/core/health``."""
        if not self.runtime.started:
            try:
                await self.runtime.start_without_lifespan()
            except StartupFailed as failed:
                return {"status": "down", "error": failed.problem.message}
        core = self.runtime.modules.get("core")
        gather = getattr(core, "module_health", None)
        if gather is None:
            return {"status": "unknown"}
        reports: dict[str, Any] = await gather()
        ok = all(r.get("status") == "ok" for r in reports.values())
        return {"status": "ok" if ok else "degraded", "modules": reports}

    async def describe(self, root_path: str) -> dict[str, Any]:
        plan, wiring = self.plan, self.wiring
        body: dict[str, Any] = {
            "title": self.title,
            "global_versions": {g: self.global_version(g, root_path) for g in plan.rows},
        }
        if plan.rollout is not None:
            body["aliases"] = {plan.rollout.alias: dict(plan.rollout.weights)}
        folders = plan.docs_folders()
        if folders:
            body["documents"] = {m: f"{root_path}{wiring.documents_path}/{m}/" for m in folders}
        if wiring.metrics is not None:
            body["metrics"] = root_path + wiring.metrics_path
        body["health"] = await self.health()
        return body

    async def answer(self, scope: Scope, receive: Receive, send: Send, only: str | None = None) -> None:
        """The landing page (or the part of global version ``only``), HTML or JSON as asked."""
        root_path = scope.get("root_path", "")
        body: dict[str, Any]
        if only is None:
            body = await self.describe(root_path)
        else:
            body = {"title": f"{self.title} {only}", "global_versions": {only: self.global_version(only, root_path)}}
        response: Response
        if wants_html(scope):
            response = HTMLResponse(render(body), headers={"Content-Security-Policy": _CSP, "Vary": "Accept"})
        else:
            response = JSONResponse(body, headers={"Vary": "Accept"})
        await response(scope, receive, send)


def _link(url: str, text: str | None = None) -> str:
    return f'<a href="{html.escape(url)}">{html.escape(text or url)}</a>'


def render(body: Mapping[str, Any]) -> str:
    """The landing page in HTML: every value escaped, no script."""
    e = html.escape
    parts = [f"<h1>{e(body['title'])}</h1>"]
    for global_version, part in body["global_versions"].items():
        links = " · ".join(_link(part[k], k) for k in ("docs", "redoc", "openapi", "health"))
        parts.append(f"<h2>Global version {e(global_version)}</h2><p>{_link(part['url'])} — {links}</p>")
        rows = []
        for module, entry in part["modules"].items():
            status = e(entry["status"])
            if "sunset" in entry:
                status += f" (sunset {e(entry['sunset'])}, successor {e(entry['successor'])}, "
                status += f"{_link(entry['migration_guide'], 'migration guide')})"
            rows.append(
                f"<tr><td>{_link(entry['url'], module)}</td><td>{e(entry['version'])}</td><td>{status}</td></tr>"
            )
        parts.append("<table><tr><th>module</th><th>version</th><th>status</th></tr>" + "".join(rows) + "</table>")
    if "aliases" in body:
        for alias, weights in body["aliases"].items():
            shares = ", ".join(f"{e(g)}: {int(w)}" for g, w in weights.items())
            parts.append(f"<p>Rollout alias <code>{e(alias)}</code>: {shares}</p>")
    if "documents" in body:
        items = "".join(f"<li>{_link(url, module)}</li>" for module, url in body["documents"].items())
        parts.append(f"<h2>Module documents</h2><ul>{items}</ul>")
    if "metrics" in body:
        parts.append(f"<p>Metrics: {_link(body['metrics'])}</p>")
    if "health" in body:
        health = body["health"]
        modules = health.get("modules", {})
        items = "".join(f"<li>{e(m)}: {e(str(r.get('status')))}</li>" for m, r in modules.items())
        parts.append(f"<h2>Health: {e(str(health['status']))}</h2><ul>{items}</ul>")
    style = "body{font-family:sans-serif;max-width:60em;margin:2em auto}td,th{padding:.2em 1em;text-align:left}"
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{e(body["title"])}</title>'
        f"<style>{style}</style></head><body>{''.join(parts)}</body></html>"
    )


class LandingRoute(BaseRoute):
    """``GET`` the landing page at each of ``paths`` (exact paths)."""

    def __init__(self, paths: Sequence[str], landing: Landing) -> None:
        self._paths = frozenset(paths)
        self._landing = landing

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http" and route_path(scope) in self._paths:
            return Match.FULL, {}
        return Match.NONE, {}

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] not in ("GET", "HEAD"):
            response = JSONResponse({"detail": "method not allowed"}, status_code=405, headers={"Allow": "GET, HEAD"})
            await response(scope, receive, send)
            return
        await self._landing.answer(scope, receive, send)

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        raise NoMatchFound(name, path_params)
