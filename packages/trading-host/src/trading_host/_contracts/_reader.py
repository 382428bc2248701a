"""OpenAPI documents as the contract tools read them: loaded from a file, stdin or a URL, with
local ``$ref``s followed and each schema reduced to the facts the rules compare."""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeGuard

from .._documents._walk import canonical, resolve_pointer

Bound = tuple[float, bool]
"""A numeric bound: its value and whether it is exclusive."""


class DocumentError(ValueError):
    """A document that cannot be read or followed; the message names the problem and the fix."""


def load_document(source: str, *, label: str = "document") -> dict[str, Any]:
    """Read an OpenAPI 3.x document (JSON or YAML) from a path, ``-`` (stdin) or an http(s) URL."""
    if source == "-":
        text = sys.stdin.read()
    elif source.startswith(("http://", "https://")):
        try:
            with urllib.request.urlopen(source, timeout=30) as response:  # http(s) only, checked above
                text = response.read().decode("utf-8")
        except (urllib.error.URLError, OSError, UnicodeDecodeError) as exc:
            raise DocumentError(
                f"{label}: cannot fetch {source}: {exc}; check the URL and that the server runs"
            ) from exc
    else:
        try:
            text = Path(source).read_text(encoding="utf-8")
        except FileNotFoundError as exc:
            raise DocumentError(f"{label}: no file {source}; pass the path of an OpenAPI document") from exc
        except (OSError, UnicodeDecodeError) as exc:
            raise DocumentError(f"{label}: cannot read {source}: {exc}") from exc
    return parse_document(text, label=f"{label} ({source})")


def parse_document(text: str, *, label: str = "document") -> dict[str, Any]:
    """Parse and check an OpenAPI 3.x document given as JSON or YAML text."""
    try:
        data = json.loads(text)
    except ValueError:
        try:
            import yaml  # only for the documents that are not JSON: it adds to every command's start-up
        except ImportError:
            raise DocumentError(
                f"{label} is not JSON, and reading YAML needs PyYAML: pip install 'trading-host[contracts]'"
            ) from None

        try:
            # YAML is a superset of JSON: a document that is neither gets YAML's (better) message.
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise DocumentError(f"{label} is neither JSON nor YAML: {exc}") from exc
    return json_document(data, label=label)


def json_document(data: object, *, label: str = "document") -> dict[str, Any]:
    """A checked copy of ``data`` as JSON would hold it: YAML's dates and number keys (``200``)
    become strings, so every rule reads one form."""
    try:
        copied = json.loads(json.dumps(data, default=str))
    except (TypeError, ValueError) as exc:
        raise DocumentError(f"{label} cannot be held as JSON: {exc}") from exc
    return check_document(copied, label=label)


def check_document(data: object, *, label: str = "document") -> dict[str, Any]:
    """``data`` if it is an OpenAPI 3.x document; a :class:`DocumentError` saying what is wrong otherwise."""
    if not isinstance(data, dict):
        raise DocumentError(f"{label} is not an OpenAPI document: expected a mapping at the top, got {_kind(data)}")
    version = data.get("openapi")
    if not isinstance(version, str) or not version.startswith("3."):
        found = f"'openapi: {version}'" if version is not None else "no 'openapi' field"
        if "swagger" in data:
            found = f"Swagger {data['swagger']}"
        raise DocumentError(f"{label} is not an OpenAPI 3.x document ({found}); convert it to OpenAPI 3.0 or 3.1")
    paths = data.get("paths", {})
    if not isinstance(paths, dict):
        raise DocumentError(f"{label}: 'paths' must be a mapping of paths to path items, got {_kind(paths)}")
    return data


def _kind(value: object) -> str:
    return "null" if value is None else type(value).__name__


@dataclass(frozen=True)
class Shape:
    """One schema reduced to what the rules compare: ``$ref``s followed, ``allOf`` merged, and a
    ``null`` alternative (``anyOf: [X, {type: null}]``, ``type: [X, "null"]``, ``nullable``) folded
    into ``nullable``."""

    refs: tuple[str, ...]
    types: frozenset[str]
    """The JSON types allowed besides ``null``; empty means any."""
    format: str | None
    nullable: bool
    enum: tuple[Any, ...] | None
    properties: Mapping[str, Any]
    required: frozenset[str]
    items: Any
    additional: Any
    alternatives: tuple[str, tuple[Any, ...]] | None
    """``("anyOf" | "oneOf", schemas)`` when more than one non-null alternative remains."""
    keywords: Mapping[str, Any]
    read_only: bool
    write_only: bool
    has_default: bool

    def keyed_alternatives(self) -> dict[str, Any] | None:
        """The anyOf/oneOf alternatives by the key that recognises one on both sides of a diff (its
        ``$ref``, else its type), or None when the schema is not composed."""
        if self.alternatives is None:
            return None
        keyed: dict[str, Any] = {}
        for node in self.alternatives[1]:
            key = alternative_key(node)
            while key in keyed:  # two inline alternatives of one type: keep both
                key += "'"
            keyed[key] = node
        return keyed

    def length(self, keyword: str) -> Bound | None:
        value = self.keywords.get(keyword)
        return (float(value), False) if _is_number(value) else None

    def upper(self) -> Bound | None:
        return self._bound("maximum", "exclusiveMaximum", upper=True)

    def lower(self) -> Bound | None:
        return self._bound("minimum", "exclusiveMinimum", upper=False)

    def _bound(self, inclusive: str, exclusive: str, *, upper: bool) -> Bound | None:
        found: list[Bound] = []
        value, flag = self.keywords.get(inclusive), self.keywords.get(exclusive)
        if _is_number(value):
            # OpenAPI 3.0 writes an exclusive bound as `maximum: 5, exclusiveMaximum: true`.
            found.append((float(value), flag is True))
        if _is_number(flag):
            found.append((float(flag), True))
        if not found:
            return None
        # The tightest bound wins; at one value, the exclusive one is the tighter.
        return min(found, key=lambda b: (b[0] if upper else -b[0], not b[1]))


def alternative_key(node: object) -> str:
    """How an anyOf/oneOf alternative is recognised on both sides of a diff: its $ref, else its type."""
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            return str(node["$ref"])
        if "type" in node:
            return "type " + canonical(node["type"])
    return "schema " + canonical(node)


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _as_dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _as_list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


_REF = "$ref"


@dataclass(frozen=True)
class Spec:
    """A loaded document and the ``$ref`` resolution the rules need."""

    document: dict[str, Any]
    label: str = "document"

    def resolve(self, node: object, where: str) -> tuple[dict[str, Any], tuple[str, ...]]:
        """``node`` with its ``$ref`` chain followed (sibling keys override the target's) and the refs passed."""
        refs: list[str] = []
        siblings: dict[str, Any] = {}
        while isinstance(node, dict) and _REF in node:
            ref = node[_REF]
            if not isinstance(ref, str) or not ref.startswith("#/"):
                raise DocumentError(
                    f"{self.label}: {where}: only local references ('#/components/...') are supported, got {ref!r}; "
                    "bundle the document into one file first"
                )
            if ref in refs:
                raise DocumentError(f"{self.label}: {where}: the reference {ref} refers to itself")
            refs.append(ref)
            siblings = {**{k: v for k, v in node.items() if k != _REF}, **siblings}
            try:
                node = resolve_pointer(self.document, ref)
            except LookupError:
                raise DocumentError(
                    f"{self.label}: {where}: the reference {ref} points to nothing; fix or define it"
                ) from None
        if not isinstance(node, dict):
            raise DocumentError(f"{self.label}: {where}: expected a mapping, got {_kind(node)}")
        return ({**node, **siblings} if siblings else node), tuple(refs)

    def mapping(self, node: object, where: str) -> dict[str, Any]:
        """``node`` (resolved) if it is a mapping; a :class:`DocumentError` naming ``where`` otherwise."""
        if node is None:
            return {}
        return self.resolve(node, where)[0]

    def shape(self, node: object, where: str) -> Shape:
        """The facts of the schema ``node`` (``{}`` when the document gives none)."""
        flat, refs, nullable = self._flatten({} if node is None else node, where, ())
        types_value = flat.get("type")
        if isinstance(types_value, str):
            types = {types_value}
        elif isinstance(types_value, list) and all(isinstance(t, str) for t in types_value):
            types = set(types_value)
        elif types_value is None:
            types = set()
        else:
            raise DocumentError(f"{self.label}: {where}: 'type' must be a string or a list of strings")
        if "null" in types:
            nullable = True
            types.discard("null")
        nullable = nullable or flat.get("nullable") is True
        enum: tuple[Any, ...] | None = None
        if isinstance(flat.get("enum"), list):
            values = flat["enum"]
            nullable = nullable or None in values
            enum = tuple(v for v in values if v is not None)
        elif "const" in flat:
            if flat["const"] is None:
                nullable = True
            else:
                enum = (flat["const"],)
        properties = flat.get("properties", {})
        required = flat.get("required", [])
        if not isinstance(properties, dict) or not isinstance(required, list):
            raise DocumentError(f"{self.label}: {where}: 'properties' must be a mapping and 'required' a list")
        alternatives = None
        for key in ("anyOf", "oneOf"):
            if isinstance(flat.get(key), list):
                alternatives = (key, tuple(flat[key]))
        additional = flat.get("additionalProperties")
        return Shape(
            refs=refs,
            types=frozenset(types),
            format=flat["format"] if isinstance(flat.get("format"), str) else None,
            nullable=nullable,
            enum=enum,
            properties=properties,
            required=frozenset(r for r in required if isinstance(r, str)),
            items=flat.get("items") if isinstance(flat.get("items"), dict) else None,
            additional=additional if isinstance(additional, dict) else None,
            alternatives=alternatives,
            keywords=flat,
            read_only=flat.get("readOnly") is True,
            write_only=flat.get("writeOnly") is True,
            has_default="default" in flat,
        )

    def _flatten(
        self, node: object, where: str, active: tuple[str, ...]
    ) -> tuple[dict[str, Any], tuple[str, ...], bool]:
        """Follow refs, merge ``allOf`` and fold null alternatives; returns (schema, refs, nullable)."""
        resolved, refs = self.resolve(node, where)
        if set(refs) & set(active):
            raise DocumentError(
                f"{self.label}: {where}: the schema {refs[0]} includes itself through allOf/anyOf/oneOf"
            )
        active = active + refs
        nullable = False
        if "allOf" in resolved:
            parts = resolved["allOf"]
            if not isinstance(parts, list) or not parts:
                raise DocumentError(f"{self.label}: {where}: 'allOf' must be a non-empty list of schemas")
            own = {k: v for k, v in resolved.items() if k != "allOf"}
            flats = [self._flatten(part, where, active) for part in parts]
            merged: dict[str, Any] = {}
            properties: dict[str, Any] = {}
            required: list[str] = []
            # A merge, not a proof: properties and required add up, other keywords come from the
            # first part that has them, and the schema's own keywords win. That is what generators
            # (pydantic's allOf-wrapped $ref included) produce, and what the rules need.
            for flat, part_refs, part_nullable in [*flats, (own, (), False)]:
                refs += part_refs
                nullable = nullable or part_nullable
                properties.update(_as_dict(flat.get("properties")))
                required += [r for r in _as_list(flat.get("required")) if r not in required]
                for key, value in flat.items():
                    if key not in ("properties", "required"):
                        merged[key] = value if flat is own else merged.get(key, value)
            if properties:
                merged["properties"] = properties
            if required:
                merged["required"] = required
            resolved = merged
        for key in ("anyOf", "oneOf"):
            options = resolved.get(key)
            if options is None:
                continue
            if not isinstance(options, list) or not options:
                raise DocumentError(f"{self.label}: {where}: '{key}' must be a non-empty list of schemas")
            rest = [option for option in options if not self._is_null(option, where)]
            nullable = nullable or len(rest) < len(options)
            own = {k: v for k, v in resolved.items() if k != key}
            if not rest:  # only null: the schema is null alone
                resolved = own
                continue
            if len(rest) == 1:
                flat, part_refs, part_nullable = self._flatten(rest[0], where, active)
                return {**flat, **own}, refs + part_refs, nullable or part_nullable
            resolved = {**own, key: rest}
        return resolved, refs, nullable

    def _is_null(self, node: object, where: str) -> bool:
        resolved, _ = self.resolve(node, where)
        kind = resolved.get("type")
        return kind == "null" or kind == ["null"] or resolved.get("enum") == [None]
