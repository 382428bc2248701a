"""Validation of generated documents: OpenAPI with openapi-spec-validator, AsyncAPI 3.0 with its
official JSON Schema (vendored in ``_vendor/asyncapi``) and jsonschema.

Both validators come with the ``contracts`` extra (``pip install 'trading-host[contracts]'``);
serving needs neither, so they are imported only here.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from functools import cache
from importlib.resources import files
from typing import Any

from .._documents._walk import resolve_pointer

ASYNCAPI_SCHEMA = "asyncapi-3.0.0.json"
_EXTRA = "pip install 'trading-host[contracts]'"


class MissingValidator(RuntimeError):
    """A validator library is not installed; the message says what to install."""


def openapi_errors(document: dict[str, Any]) -> list[str]:
    """Every problem openapi-spec-validator finds in an OpenAPI 3.0 or 3.1 document."""
    try:
        from openapi_spec_validator import OpenAPIV30SpecValidator, OpenAPIV31SpecValidator
    except ImportError as exc:
        raise MissingValidator(f"validating OpenAPI documents needs openapi-spec-validator: {_EXTRA}") from exc
    version = str(document.get("openapi", ""))
    if version.startswith("3.1."):
        validator: Any = OpenAPIV31SpecValidator(document)
    elif version.startswith("3.0."):
        validator = OpenAPIV30SpecValidator(document)
    else:
        return [f"'openapi: {version}' is not OpenAPI 3.0 or 3.1"]
    try:
        return [_describe(error) for error in validator.iter_errors()]
    except Exception as exc:  # its walk of the document can fail on shapes the schema would reject
        return [f"the document cannot be validated: {type(exc).__name__}: {exc}"]


@cache
def _asyncapi_validator() -> Any:
    try:
        # Imported by name: jsonschema ships no type hints, and its stubs are not a dependency.
        jsonschema: Any = importlib.import_module("jsonschema")
    except ImportError as exc:
        raise MissingValidator(f"validating AsyncAPI documents needs jsonschema: {_EXTRA}") from exc
    schema = json.loads(
        files("trading_host").joinpath("_contracts", "_vendor", "asyncapi", ASYNCAPI_SCHEMA).read_text("utf-8")
    )
    # Draft 7, as the schema declares; every $ref in it names a definition inside the file, so
    # nothing is fetched.
    return jsonschema.Draft7Validator(schema)


def asyncapi_errors(document: dict[str, Any]) -> list[str]:
    """Every problem in an AsyncAPI 3.0 document: the official JSON Schema's findings, and any
    local ``$ref`` that points at nothing (which the schema does not check)."""
    errors = [_describe(error) for error in _asyncapi_validator().iter_errors(document)]
    for where, ref in _refs(document, "#"):
        if ref.startswith("#") and not _resolves(document, ref):
            errors.append(f"{where}: $ref {ref} points at nothing in the document")
    return errors


def _describe(error: Any) -> str:
    where = "/".join(str(part) for part in error.absolute_path) or "(top)"
    return f"{where}: {error.message}"


def _refs(node: object, where: str) -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            yield where, ref
        for key, value in node.items():
            yield from _refs(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _refs(value, f"{where}/{index}")


def _resolves(document: dict[str, Any], ref: str) -> bool:
    try:
        resolve_pointer(document, ref)
    except LookupError:
        return False
    return True
