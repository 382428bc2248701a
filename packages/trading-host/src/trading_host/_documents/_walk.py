"""Walking the JSON documents the host makes and reads (OpenAPI, AsyncAPI): which keys of a path item
are operations, a path's template, a node's canonical text, and the node a local ``$ref`` points at.

Written once here for the documents layer and the contract tools above it, so that they walk a
document the same way.
"""

from __future__ import annotations

import json
import re
from typing import Any

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
"""The keys of an OpenAPI path item that hold an operation, in the specification's order."""

_PARAMETER = re.compile(r"\{[^}/]*\}")


def path_template(path: str) -> str:
    """The path with its parameter names blanked: renaming ``{id}`` to ``{order_id}`` is no change."""
    return _PARAMETER.sub("{}", path)


def canonical(value: Any) -> str:
    """The text two equal JSON values share, whatever the order of their keys."""
    return json.dumps(value, sort_keys=True)


def resolve_pointer(document: object, ref: str) -> object:
    """The node of ``document`` that the local reference ``ref`` (``#/components/schemas/Order``;
    ``~1`` stands for ``/`` and ``~0`` for ``~`` in a name) points at; :class:`LookupError` when it
    points at nothing."""
    node = document
    for raw in ref[1:].split("/")[1:]:
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise LookupError(ref)
    return node
