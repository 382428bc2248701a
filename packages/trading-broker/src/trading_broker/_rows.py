"""Between the domain dataclasses and the database: a column holds the field of the same name.

Reading, pydantic converts a row or a JSON document into the dataclass (enums from their values,
nested dataclasses and times from JSON); writing, a field goes to its column as it is, an enum as
its value, a JSON column as the field's JSON form. A new field or table needs no code here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from enum import Enum
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import TypeAdapter
from pydantic_core import to_jsonable_python
from sqlalchemy import JSON, Table

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

T = TypeVar("T")

_adapters: dict[type[Any], TypeAdapter[Any]] = {}


def _adapter(cls: type[T]) -> TypeAdapter[T]:
    # Built once per class: building an adapter costs far more than using it. (A dict, not
    # functools.cache, which would lose the adapter's type.)
    adapter = _adapters.get(cls)
    if adapter is None:
        adapter = _adapters[cls] = TypeAdapter(cls)
    return adapter


@cache
def _columns(cls: type[DataclassInstance], table: Table) -> tuple[list[str], list[str]]:
    """The names of ``table``'s columns that ``cls`` has a field for: plain ones, JSON ones. (A
    table's own columns, like ``seq``, are left to the database.)"""
    names = {f.name for f in fields(cls)}
    shared = [c for c in table.columns if c.name in names]
    plain = [c.name for c in shared if not isinstance(c.type, JSON)]
    return plain, [c.name for c in shared if c.name not in plain]


def to_row(obj: DataclassInstance, table: Table) -> dict[str, Any]:
    """The values of ``table``'s columns from ``obj``'s fields: enums as their value, JSON
    columns as the field's JSON form."""
    plain, as_json = _columns(type(obj), table)
    row = {name: _plain(getattr(obj, name)) for name in plain}
    row.update((name, to_jsonable_python(getattr(obj, name))) for name in as_json)
    return row


def _plain(value: object) -> object:
    return value.value if isinstance(value, Enum) else value


def to_json(obj: DataclassInstance) -> Any:
    """``obj`` as a JSON document, nested dataclasses included; :func:`from_row` reads it back."""
    return _adapter(type(obj)).dump_python(obj, mode="json")


def from_row(cls: type[T], row: Mapping[Any, Any], **fields: Any) -> T:
    """A ``cls`` from a row (or a JSON document) and ``fields``; keys that are not fields are ignored."""
    return _adapter(cls).validate_python({**row, **fields})
