"""OpenAPI documents: one per module version, merged into one per global version."""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fastapi.openapi.utils import get_openapi

from trading_core import Lifecycle, ModuleApi

from ._walk import METHODS, canonical

_SCHEMA_REF = "#/components/schemas/"
_PATHS_REF = "#/paths/"


def module_openapi(api: ModuleApi, *, title: str | None = None) -> dict[str, Any]:
    """The OpenAPI document of one module version, paths relative to the module (``/orders``)."""
    module = api.module
    return get_openapi(
        title=title or f"Trading API: {module.name} {api.version}",
        version=api.version,
        description=module.description or None,
        routes=api.routes,
        tags=[{"name": module.name, "description": module.description}] if module.description else None,
    )


def deprecation_notice(module: str, version: str, lifecycle: Lifecycle, successor_url: str | None = None) -> str:
    """The lifecycle of a deprecated module version in words (Markdown), for the docs pages: the
    dates, what happens at the sunset, the successor and a link to the migration guide."""
    successor = f"{module} {lifecycle.successor}"
    if successor_url is not None:
        successor += f" (served at `{successor_url}`)"
    return (
        f"**Deprecated:** {module} {version} is deprecated since {lifecycle.deprecation.isoformat()} "
        f"and is sunset on {lifecycle.sunset.isoformat()}; from then on every request gets 410 Gone. "
        f"Migrate to {successor}: see the [migration guide]({lifecycle.migration_guide})."
    )


def mark_deprecated(
    document: dict[str, Any],
    lifecycle: Lifecycle,
    *,
    module: str,
    version: str,
    successor_url: str | None = None,
) -> dict[str, Any]:
    """A copy of a module version's document with every operation ``deprecated: true`` and its
    sunset date as ``x-sunset``, so spec tools and generated clients see the deprecation too; and,
    for the people reading the docs pages, the lifecycle in words (:func:`deprecation_notice`) at
    the top of each operation's description and of the module's tag's description, since Swagger
    UI and ReDoc show a deprecated operation struck through and say nothing of why."""
    marked = copy.deepcopy(document)
    notice = deprecation_notice(module, version, lifecycle, successor_url)
    tags: set[str] = set()
    for item in marked.get("paths", {}).values():
        for method in METHODS:
            operation = item.get(method)
            if operation is not None:
                operation["deprecated"] = True
                operation["x-sunset"] = lifecycle.sunset.isoformat()
                operation["description"] = _prepend(notice, operation.get("description"))
                tags.update(operation.get("tags", ()))
    described = marked.setdefault("tags", [])
    for tag in described:
        if tag.get("name") in tags:
            tag["description"] = _prepend(notice, tag.get("description"))
            tags.discard(tag["name"])
    described.extend({"name": name, "description": notice} for name in sorted(tags))
    if not described:
        del marked["tags"]
    return marked


def _prepend(notice: str, text: str | None) -> str:
    return f"{notice}\n\n{text}" if text else notice


_LOCAL_LINK = re.compile(r"\]\(/(?!/)")


def under_root_path(document: dict[str, Any], root_path: str) -> dict[str, Any]:
    """A copy of ``document`` for an app served under ``root_path`` (a mount, a proxy's prefix):
    its ``servers`` say so, and the local links of the descriptions (``[guide](/docs/...)``), which
    a docs page resolves against its own origin, get the root path in front."""
    if not root_path:
        return document

    def walk(node: Any, key: str | None = None) -> Any:
        if isinstance(node, dict):
            return {k: walk(v, k) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        if key == "description" and isinstance(node, str):
            return _LOCAL_LINK.sub(f"]({root_path}/", node)
        return node

    localized: dict[str, Any] = walk({k: v for k, v in document.items() if k in ("info", "paths", "tags")})
    return {**document, **localized, "servers": [{"url": root_path}]}


@dataclass(frozen=True)
class Part:
    """A module version's document and the URL prefix it is served under in a global version."""

    module: str
    prefix: str
    document: dict[str, Any]


def _rename_refs(node: Any, renames: dict[str, str]) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(_SCHEMA_REF) and ref[len(_SCHEMA_REF) :] in renames:
            node = {**node, "$ref": _SCHEMA_REF + renames[ref[len(_SCHEMA_REF) :]]}
        return {k: _rename_refs(v, renames) for k, v in node.items()}
    if isinstance(node, list):
        return [_rename_refs(v, renames) for v in node]
    return node


def _free_name(name: str, taken: set[str]) -> str:
    candidate, n = name, 2
    while candidate in taken:
        candidate, n = f"{name}{n}", n + 1
    taken.add(candidate)
    return candidate


def _relink(operation: dict[str, Any], part: Part) -> None:
    """Point the links of ``operation``'s responses at their operations in the merged document:
    an ``operationId`` gets the module's name in front, as the operations do, and a local
    ``operationRef`` (``#/paths/~1orders~1{order_id}/get``) the part's path prefix."""
    for response in operation.get("responses", {}).values():
        for link in response.get("links", {}).values() if isinstance(response, dict) else ():
            if not isinstance(link, dict):
                continue
            if isinstance(link.get("operationId"), str):
                link["operationId"] = f"{part.module}_{link['operationId']}"
            ref = link.get("operationRef")
            if isinstance(ref, str) and ref.startswith(_PATHS_REF):
                path, slash, rest = ref[len(_PATHS_REF) :].partition("/")
                full = part.prefix + path.replace("~1", "/").replace("~0", "~")
                link["operationRef"] = _PATHS_REF + full.replace("~", "~0").replace("/", "~1") + slash + rest


def merge_openapi(parts: Sequence[Part], *, title: str, version: str, description: str | None = None) -> dict[str, Any]:
    """Merge module documents into one: paths get their prefix, operationIds (and the links
    naming them) become ``<module>_<operationId>``, and schemas that two modules define differently under one name get
    the module's name in front (``BrokerOrder``, ``BrokerOrder2`` if that is taken) so that nothing collides."""
    definitions: dict[str, dict[str, str]] = {}
    for part in parts:
        for name, schema in part.document.get("components", {}).get("schemas", {}).items():
            definitions.setdefault(name, {})[part.module] = canonical(schema)
    clashing = {name for name, by_module in definitions.items() if len(set(by_module.values())) > 1}
    # A renamed schema must not take a name another schema keeps (alpha's Item -> AlphaItem while
    # alpha also defines AlphaItem), or one silently replaces the other.
    taken = set(definitions) - clashing

    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    security_schemes: dict[str, Any] = {}
    tags: list[dict[str, Any]] = []
    for part in parts:
        part_components = part.document.get("components", {})
        renames = {
            name: _free_name(part.module.title().replace("_", "") + name, taken)
            for name in part_components.get("schemas", {})
            if name in clashing
        }
        document = _rename_refs(copy.deepcopy(part.document), renames)
        # A security scheme another module defines differently under the same name is renamed
        # too, with the operations' requirements that name it.
        scheme_renames: dict[str, str] = {}
        for name, scheme in document.get("components", {}).get("securitySchemes", {}).items():
            if name in security_schemes and canonical(security_schemes[name]) != canonical(scheme):
                scheme_renames[name] = _free_name(part.module.title().replace("_", "") + name, set(security_schemes))
            security_schemes[scheme_renames.get(name, name)] = scheme
        for path, item in document.get("paths", {}).items():
            for method in METHODS:
                operation = item.get(method)
                if operation is None:
                    continue
                if "operationId" in operation:
                    operation["operationId"] = f"{part.module}_{operation['operationId']}"
                _relink(operation, part)
                if scheme_renames and "security" in operation:
                    operation["security"] = [
                        {scheme_renames.get(k, k): v for k, v in requirement.items()}
                        for requirement in operation["security"]
                    ]
            paths[part.prefix + path] = item
        for name, schema in document.get("components", {}).get("schemas", {}).items():
            schemas[renames.get(name, name)] = schema
        tags.extend(t for t in document.get("tags", []) if t not in tags)

    merged: dict[str, Any] = {
        "openapi": parts[0].document["openapi"] if parts else "3.1.0",
        "info": {"title": title, "version": version, **({"description": description} if description else {})},
        "paths": paths,
    }
    components: dict[str, Any] = {}
    if schemas:
        components["schemas"] = dict(sorted(schemas.items()))
    if security_schemes:
        components["securitySchemes"] = security_schemes
    if components:
        merged["components"] = components
    if tags:
        merged["tags"] = tags
    return merged
