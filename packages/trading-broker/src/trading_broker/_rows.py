"""Between the domain dataclasses and the database: a column holds the field of the same name.

Reading, pydantic converts a row or a JSON document into the dataclass (enums from their values,
nested dataclasses and times from JSON); writing, a field goes to its column as it is, an enum as
its value, a JSON column the field itself (the engine's serializer writes it: see ``_database``). A
new field or table needs no code here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields, is_dataclass
from enum import Enum
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import TypeAdapter
from pydantic_core import to_json
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
    """The values of ``table``'s columns from ``obj``'s fields: enums as their value, a JSON
    column's field as it is (the engine's JSON serializer, pydantic-core's, writes dataclasses,
    enums and datetimes: see ``_database``)."""
    plain, as_json = _columns(type(obj), table)
    row = {name: _plain(getattr(obj, name)) for name in plain}
    row.update((name, getattr(obj, name)) for name in as_json)
    return row


def json_text(value: Any) -> str:
    """The JSON text of a JSON column's value: the engines' serializer (see ``_database``).

    A column is given the domain object itself (see :func:`to_row`), which pydantic-core writes in
    one pass: a dataclass through its class's adapter, several times faster than the standard json
    module over its plain-dict form, on the path of every order placed (the order, its outbox events)."""
    if is_dataclass(value) and not isinstance(value, type):
        return _adapter(type(value)).dump_json(value).decode()
    return to_json(value).decode()


def _plain(value: object) -> object:
    return value.value if isinstance(value, Enum) else value


def from_row(cls: type[T], row: Mapping[Any, Any], **fields: Any) -> T:
    """A ``cls`` from a row (or a JSON document) and ``fields``; keys that are not fields are ignored."""
    return _adapter(cls).validate_python({**row, **fields})
