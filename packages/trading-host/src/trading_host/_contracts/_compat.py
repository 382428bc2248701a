"""The compatibility report from one API version to the next: which response fields of the old
version's operations the new version's matching operations lack (the seed's superset check)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._documents._openapi import module_openapi
from .._documents._walk import METHODS, path_template
from .._plan._discovery import Installed
from .._serve._factory import AppFactory
from ._committed import module_api
from ._reader import Spec, json_document

_VERSION_SUFFIX = re.compile(r"_?[Vv][0-9]+$")


def installed_document(
    module: str,
    version: str,
    *,
    config: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
    installed: Installed | None = None,
) -> dict[str, Any]:
    """The OpenAPI document of an installed module version, built from its entry point's API class
    with the module's configured settings (``installed`` replaces discovery). Raises
    :class:`ConfigError` when it cannot be served."""
    env = dict(os.environ if environ is None else environ)
    env.pop("GLOBAL_VERSION", None)  # a standalone document belongs to no global version
    return module_openapi(module_api(AppFactory(config, environ=env, installed=installed), module, version))


@dataclass(frozen=True)
class MissingField:
    status: str
    field: str


@dataclass
class OperationReport:
    """One operation of the old version, the new operation it was matched with, and what it lacks."""

    method: str
    path: str
    operation_id: str | None
    new_method: str | None = None
    new_path: str | None = None
    new_operation_id: str | None = None
    matched_by: str | None = None
    missing: list[MissingField] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "path": self.path,
            "operation_id": self.operation_id,
            "matched_by": self.matched_by,
            "new": (
                {"method": self.new_method, "path": self.new_path, "operation_id": self.new_operation_id}
                if self.matched_by
                else None
            ),
            "missing_fields": [{"status": m.status, "field": m.field} for m in self.missing],
        }


@dataclass
class CompatReport:
    """The old version's operations, each with the response fields the new version lacks."""

    operations: list[OperationReport]

    @property
    def unmatched(self) -> list[OperationReport]:
        return [op for op in self.operations if op.matched_by is None]

    @property
    def missing_count(self) -> int:
        return sum(len(op.missing) for op in self.operations)

    @property
    def compatible(self) -> bool:
        return not self.unmatched and self.missing_count == 0

    def to_json(self) -> dict[str, Any]:
        return {
            "compatible": self.compatible,
            "summary": {
                "operations": len(self.operations),
                "unmatched_operations": len(self.unmatched),
                "missing_fields": self.missing_count,
            },
            "operations": [op.to_json() for op in self.operations],
        }


@dataclass(frozen=True)
class _Operation:
    method: str
    path: str
    operation: dict[str, Any]

    @property
    def operation_id(self) -> str | None:
        value = self.operation.get("operationId")
        return value if isinstance(value, str) else None


def _operations(spec: Spec) -> list[_Operation]:
    found = []
    for path, raw in spec.document.get("paths", {}).items():
        item = spec.mapping(raw, f"paths.{path}")
        for method in METHODS:
            if method in item:
                found.append(_Operation(method.upper(), path, spec.mapping(item[method], f"{method} {path}")))
    return found


def _base_id(operation_id: str | None) -> str | None:
    """``listOrdersV2`` -> ``listOrders``: the same operation in another version."""
    return _VERSION_SUFFIX.sub("", operation_id) if operation_id else None


def _fields(spec: Spec, operation: Mapping[str, Any]) -> dict[str, set[str]]:
    """The response fields of each success status, as paths: ``symbol``, ``[].fills[].price``."""
    responses = spec.mapping(operation.get("responses"), "responses")
    found: dict[str, set[str]] = {}
    for status, raw in responses.items():
        if not str(status).startswith("2"):
            continue
        fields = found.setdefault(str(status), set())
        content = spec.mapping(spec.mapping(raw, f"response {status}").get("content"), f"response {status}")
        for media_type, media in content.items():
            if media_type == "application/json" or media_type.endswith("+json"):
                _collect(spec, spec.mapping(media, media_type).get("schema"), "", fields, frozenset())
    return found


def _collect(spec: Spec, node: object, prefix: str, fields: set[str], seen: frozenset[str]) -> None:
    shape = spec.shape(node, f"response field {prefix or '(body)'}")
    if shape.refs and shape.refs[-1] in seen:
        return  # recursive schema: its fields are listed once
    seen = seen | set(shape.refs)
    for name, child in shape.properties.items():
        if spec.shape(child, name).write_only:
            continue
        path = f"{prefix}.{name}" if prefix else name
        fields.add(path)
        _collect(spec, child, path, fields, seen)
    if shape.items is not None:
        _collect(spec, shape.items, f"{prefix}[]", fields, seen)
    for option in (shape.keyed_alternatives() or {}).values():
        _collect(spec, option, prefix, fields, seen)


def compat_report(old: Mapping[str, Any], new: Mapping[str, Any]) -> CompatReport:
    """Match each operation of ``old`` in ``new`` (by method and path, then by operationId without
    a version suffix such as ``V2``) and list the response fields of ``old`` that ``new`` lacks."""
    old_spec = Spec(json_document(old, label="OLD"), "OLD")
    new_spec = Spec(json_document(new, label="NEW"), "NEW")
    new_operations = _operations(new_spec)
    by_path = {(op.method, path_template(op.path)): op for op in new_operations}
    by_id = {_base_id(op.operation_id): op for op in new_operations if op.operation_id}
    reports = []
    for before in _operations(old_spec):
        report = OperationReport(before.method, before.path, before.operation_id)
        reports.append(report)
        after = by_path.get((before.method, path_template(before.path)))
        report.matched_by = "path" if after else None
        if after is None and before.operation_id:
            after = by_id.get(_base_id(before.operation_id))
            report.matched_by = "operationId" if after else None
        if after is None:
            continue
        report.new_method, report.new_path, report.new_operation_id = after.method, after.path, after.operation_id
        old_fields, new_fields = _fields(old_spec, before.operation), _fields(new_spec, after.operation)
        every_new = set().union(*new_fields.values()) if new_fields else set()
        for status, fields in sorted(old_fields.items()):
            # A status the new operation does not document (201 instead of 200) is compared with
            # every success response it does document.
            present = new_fields.get(status, every_new)
            report.missing += [MissingField(status, name) for name in sorted(fields - present)]
    return CompatReport(reports)
