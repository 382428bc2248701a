"""The breaking-change guard: compare two OpenAPI 3.x documents and classify every change by rule.

No maintained Python library does this (oasdiff, the reference, is a Go program that no registry
here serves), so the rules are written here, small and table-driven: one :class:`Rule` per change
(id, level, the kind of pair it looks at, description, check). Ids are oasdiff's where oasdiff has
one. Within a released major version only additive changes are allowed, so a removal is breaking
even where oasdiff only warns.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Generic, Literal, TypeVar

from .._documents._walk import METHODS, canonical, path_template
from ._reader import Bound, DocumentError, Shape, Spec, json_document

Level = Literal["breaking", "non-breaking"]
BREAKING: Level = "breaking"
NON_BREAKING: Level = "non-breaking"
Direction = Literal["request", "response"]
Subject = Literal["parameter", "property"]


@dataclass(frozen=True)
class Options:
    """How to judge: removals after a deprecated operation's ``x-sunset`` date are breaking
    unless ``allow_removal_after_sunset``; ``today`` is the date they are judged on."""

    allow_removal_after_sunset: bool = False
    today: date = field(default_factory=lambda: datetime.now(UTC).date())


@dataclass(frozen=True)
class Change:
    """One difference between the documents, as one rule classifies it."""

    id: str
    level: Level
    method: str
    path: str
    location: str
    text: str

    def to_json(self) -> dict[str, str]:
        return {
            "id": self.id,
            "level": self.level,
            "operation": f"{self.method} {self.path}",
            "method": self.method,
            "path": self.path,
            "location": self.location,
            "text": self.text,
        }


# The pairs the rules look at. The walker builds one per operation, parameter, request body,
# media type, response status, property (its presence and requiredness) and schema (its facts).


@dataclass(frozen=True)
class OperationPair:
    old: Mapping[str, Any] | None
    new: Mapping[str, Any] | None
    old_security: list[Any]
    new_security: list[Any]
    options: Options


@dataclass(frozen=True)
class ParameterPair:
    label: str
    old: Mapping[str, Any] | None
    new: Mapping[str, Any] | None

    @property
    def old_required(self) -> bool:
        return _param_required(self.old)

    @property
    def new_required(self) -> bool:
        return _param_required(self.new)


@dataclass(frozen=True)
class BodyPair:
    old: Mapping[str, Any] | None
    new: Mapping[str, Any] | None


@dataclass(frozen=True)
class MediaTypePair:
    direction: Direction
    label: str
    media_type: str
    old: bool
    new: bool


@dataclass(frozen=True)
class ResponsePair:
    status: str
    old: bool
    new: bool

    @property
    def success(self) -> bool:
        return self.status.startswith("2")


@dataclass(frozen=True)
class PropertyPair:
    direction: Direction
    label: str
    old: Shape | None
    new: Shape | None
    old_required: bool
    new_required: bool


@dataclass(frozen=True)
class SchemaPair:
    direction: Direction
    subject: Subject
    label: str
    old: Shape
    new: Shape

    @property
    def composed(self) -> bool:
        """Either side is an anyOf/oneOf of several schemas: those are compared one by one."""
        return self.old.alternatives is not None or self.new.alternatives is not None


P = TypeVar("P")
SchemaCheck = Callable[[SchemaPair], str | None]


@dataclass(frozen=True)
class Rule(Generic[P]):
    """One kind of change: ``check`` returns the change's text when the pair shows it, else None."""

    id: str
    level: Level
    scope: type[P]
    description: str
    check: Callable[[P], str | None]


# ---------------------------------------------------------------------------------------------
# Operations


def _deprecated(op: Mapping[str, Any] | None) -> bool:
    return op is not None and op.get("deprecated") is True


def _sunset(op: Mapping[str, Any]) -> date | str | None:
    """The operation's ``x-sunset`` as a date, the raw text when it is not one, or None."""
    raw = op.get("x-sunset")
    if raw is None:
        return None
    try:
        return datetime.fromisoformat(str(raw)).date()
    except ValueError:
        return str(raw)


def _removed(pair: OperationPair) -> Mapping[str, Any] | None:
    return pair.old if pair.old is not None and pair.new is None else None


def _removable_after_sunset(pair: OperationPair) -> bool:
    old = _removed(pair)
    if old is None or not _deprecated(old) or not pair.options.allow_removal_after_sunset:
        return False
    sunset = _sunset(old)
    return isinstance(sunset, date) and sunset <= pair.options.today


def _endpoint_added(pair: OperationPair) -> str | None:
    return "added the operation" if pair.old is None and pair.new is not None else None


def _removed_undeprecated(pair: OperationPair) -> str | None:
    old = _removed(pair)
    if old is None or _deprecated(old):
        return None
    return "removed the operation without deprecating it first (deprecated: true and an x-sunset date)"


def _removed_before_sunset(pair: OperationPair) -> str | None:
    old = _removed(pair)
    if old is None or not _deprecated(old) or _removable_after_sunset(pair):
        return None
    sunset = _sunset(old)
    if sunset is None:
        return "removed the deprecated operation, which has no x-sunset date to be removed after"
    if isinstance(sunset, str):
        return f"removed the deprecated operation, whose x-sunset {sunset!r} is not a date (write YYYY-MM-DD)"
    if sunset > pair.options.today:
        return f"removed the deprecated operation before its sunset date {sunset}"
    return (
        f"removed the deprecated operation after its sunset date {sunset}; "
        "pass --allow-removal-after-sunset to accept removals after the sunset date"
    )


def _removed_after_sunset(pair: OperationPair) -> str | None:
    old = _removed(pair)
    if old is None or not _removable_after_sunset(pair):
        return None
    return f"removed the deprecated operation after its sunset date {_sunset(old)}"


def _endpoint_deprecated(pair: OperationPair) -> str | None:
    if pair.old is None or pair.new is None or _deprecated(pair.old) or not _deprecated(pair.new):
        return None
    sunset = pair.new.get("x-sunset")
    return "deprecated the operation" + (f" with sunset date {sunset}" if sunset is not None else "")


def _endpoint_reactivated(pair: OperationPair) -> str | None:
    if pair.old is None or pair.new is None or not _deprecated(pair.old) or _deprecated(pair.new):
        return None
    return "the operation is no longer deprecated"


Requirement = frozenset[tuple[str, frozenset[str]]]


def _requirements(security: list[Any]) -> list[Requirement]:
    """Security as alternatives (any one suffices), each a set of (scheme, scopes); none means anonymous."""
    alternatives = [
        frozenset(
            (str(scheme), frozenset(scopes if isinstance(scopes, list) else [])) for scheme, scopes in item.items()
        )
        for item in security
        if isinstance(item, dict)
    ]
    return alternatives or [frozenset()]


def _satisfies(held: Requirement, wanted: Requirement) -> bool:
    """A client holding the credentials of ``held`` can meet ``wanted``."""
    scopes = dict(held)
    return all(scheme in scopes and wanted_scopes <= scopes[scheme] for scheme, wanted_scopes in wanted)


def _requirement_text(requirement: Requirement) -> str:
    if not requirement:
        return "no credentials"
    parts = [f"{scheme}[{', '.join(sorted(scopes))}]" if scopes else scheme for scheme, scopes in sorted(requirement)]
    return " + ".join(parts)


def _locked_out(pair: OperationPair) -> list[Requirement]:
    if pair.old is None or pair.new is None:
        return []
    new = _requirements(pair.new_security)
    return [old for old in _requirements(pair.old_security) if not any(_satisfies(old, n) for n in new)]


def _security_added(pair: OperationPair) -> str | None:
    locked = _locked_out(pair)
    if not locked:
        return None
    before = " or ".join(_requirement_text(r) for r in locked)
    now = " or ".join(_requirement_text(r) for r in _requirements(pair.new_security))
    return f"added a security requirement: a client with {before} can no longer call it (it now needs {now})"


def _security_relaxed(pair: OperationPair) -> str | None:
    if pair.old is None or pair.new is None or _locked_out(pair):
        return None
    old, new = set(_requirements(pair.old_security)), set(_requirements(pair.new_security))
    if old == new:
        return None
    added = " or ".join(_requirement_text(r) for r in sorted(new - old, key=_requirement_text))
    return f"the operation also accepts {added}"


# ---------------------------------------------------------------------------------------------
# Parameters, request bodies, media types, response statuses


def _param_required(param: Mapping[str, Any] | None) -> bool:
    return param is not None and (param.get("required") is True or param.get("in") == "path")


def _default_note(has_default: bool) -> str:
    return " (it has a default, but a request without it is no longer valid)" if has_default else ""


def _param_has_default(param: Mapping[str, Any]) -> bool:
    schema = param.get("schema")
    return isinstance(schema, dict) and "default" in schema


def _new_required_parameter(pair: ParameterPair) -> str | None:
    if pair.old is not None or pair.new is None or not pair.new_required:
        return None
    return f"added the required {pair.label}{_default_note(_param_has_default(pair.new))}"


def _new_optional_parameter(pair: ParameterPair) -> str | None:
    if pair.old is not None or pair.new is None or pair.new_required:
        return None
    return f"added the optional {pair.label}"


def _parameter_removed(pair: ParameterPair) -> str | None:
    return f"removed the {pair.label}" if pair.old is not None and pair.new is None else None


def _parameter_became_required(pair: ParameterPair) -> str | None:
    both = pair.old is not None and pair.new is not None
    return f"the {pair.label} became required" if both and not pair.old_required and pair.new_required else None


def _parameter_became_optional(pair: ParameterPair) -> str | None:
    both = pair.old is not None and pair.new is not None
    return f"the {pair.label} became optional" if both and pair.old_required and not pair.new_required else None


def _body_required(body: Mapping[str, Any] | None) -> bool:
    return body is not None and body.get("required") is True


def _body_added(required: bool) -> Callable[[BodyPair], str | None]:
    def check(pair: BodyPair) -> str | None:
        if pair.old is not None or pair.new is None or _body_required(pair.new) != required:
            return None
        return f"added {'a required' if required else 'an optional'} request body"

    return check


def _body_removed(pair: BodyPair) -> str | None:
    return "removed the request body" if pair.old is not None and pair.new is None else None


def _body_became(required: bool) -> Callable[[BodyPair], str | None]:
    def check(pair: BodyPair) -> str | None:
        if pair.old is None or pair.new is None:
            return None
        if _body_required(pair.old) == required or _body_required(pair.new) != required:
            return None
        return f"the request body became {'required' if required else 'optional'}"

    return check


def _media_type(direction: Direction, added: bool) -> Callable[[MediaTypePair], str | None]:
    def check(pair: MediaTypePair) -> str | None:
        if pair.direction != direction or (pair.old, pair.new) != ((False, True) if added else (True, False)):
            return None
        return f"{'added' if added else 'removed'} the media type {pair.media_type} of {pair.label}"

    return check


def _status(success: bool, added: bool) -> Callable[[ResponsePair], str | None]:
    def check(pair: ResponsePair) -> str | None:
        if pair.success != success or (pair.old, pair.new) != ((False, True) if added else (True, False)):
            return None
        kind = "success" if success else "non-success"
        return f"{'added' if added else 'removed'} the {kind} response with status {pair.status}"

    return check


# ---------------------------------------------------------------------------------------------
# Properties: presence and requiredness


def _added(direction: Direction, required: bool | None) -> Callable[[PropertyPair], str | None]:
    def check(pair: PropertyPair) -> str | None:
        if pair.direction != direction or pair.old is not None or pair.new is None:
            return None
        if required is not None and pair.new_required != required:
            return None
        if direction == "response":
            return f"added the {pair.label}"
        kind = "required" if required else "optional"
        return f"added the {kind} {pair.label}{_default_note(required is True and pair.new.has_default)}"

    return check


def _property_removed(direction: Direction) -> Callable[[PropertyPair], str | None]:
    def check(pair: PropertyPair) -> str | None:
        if pair.direction != direction or pair.old is None or pair.new is not None:
            return None
        return f"removed the {pair.label}"

    return check


def _became(direction: Direction, required: bool) -> Callable[[PropertyPair], str | None]:
    def check(pair: PropertyPair) -> str | None:
        if pair.direction != direction or pair.old is None or pair.new is None:
            return None
        if pair.old_required == required or pair.new_required != required:
            return None
        return f"the {pair.label} became {'required' if required else 'optional'}"

    return check


# ---------------------------------------------------------------------------------------------
# Schemas: type, nullability, enum, bounds, pattern, alternatives


def _accepts(wide: frozenset[str], narrow: frozenset[str]) -> bool:
    """Every value of a type in ``narrow`` is a value of a type in ``wide`` (empty means any)."""
    if not wide:
        return True
    return bool(narrow) and all(t in wide or (t == "integer" and "number" in wide) for t in narrow)


def _type_text(shape: Shape) -> str:
    text = "/".join(sorted(shape.types)) or "any type"
    return f"{text} ({shape.format})" if shape.format else text


def _type_narrowed(direction: Direction, pair: SchemaPair) -> bool:
    """The change rejects values (request) or returns values (response) the old contract did not."""
    before, after = (pair.old, pair.new) if direction == "request" else (pair.new, pair.old)
    # In a request the new schema must take what the old one took; in a response the old schema
    # must cover what the new one returns. A format (date-time, uuid...) narrows a string.
    return not _accepts(after.types, before.types) or (after.format is not None and after.format != before.format)


def _type_rule(direction: Direction, breaking: bool) -> Callable[[SchemaPair], str | None]:
    def check(pair: SchemaPair) -> str | None:
        if pair.direction != direction or pair.composed:
            return None
        if (pair.old.types, pair.old.format) == (pair.new.types, pair.new.format):
            return None
        if _type_narrowed(direction, pair) != breaking:
            return None
        return f"the type of {pair.label} changed from {_type_text(pair.old)} to {_type_text(pair.new)}"

    return check


def _nullable_rule(direction: Direction, nullable: bool) -> Callable[[SchemaPair], str | None]:
    def check(pair: SchemaPair) -> str | None:
        if pair.direction != direction or pair.old.nullable == nullable or pair.new.nullable != nullable:
            return None
        return f"{pair.label} became {'nullable' if nullable else 'not nullable'}"

    return check


def _enum_diff(pair: SchemaPair) -> tuple[list[str], list[str]] | None:
    """(added, removed) enum values when both sides are enums."""
    if pair.old.enum is None or pair.new.enum is None:
        return None
    old = {canonical(v) for v in pair.old.enum}
    new = {canonical(v) for v in pair.new.enum}
    return sorted(new - old), sorted(old - new)


def _enum_rule(direction: Direction, change: str) -> Callable[[SchemaPair], str | None]:
    def check(pair: SchemaPair) -> str | None:
        if pair.direction != direction or pair.composed:
            return None
        if change == "became":
            if pair.old.enum is not None or pair.new.enum is None:
                return None
            return f"{pair.label} was restricted to the values {', '.join(map(canonical, pair.new.enum))}"
        if change == "added" and pair.old.enum is not None and pair.new.enum is None:
            return f"{pair.label} is no longer restricted to the values {', '.join(map(canonical, pair.old.enum))}"
        found = _enum_diff(pair)
        if found is None:
            return None
        values = found[0] if change == "added" else found[1]
        if not values:
            return None
        verb = "added" if change == "added" else "removed"
        return f"{verb} the value{'s' if len(values) > 1 else ''} {', '.join(values)} of {pair.label}"

    return check


def _bound_text(bound: Bound | None) -> str:
    if bound is None:
        return "none"
    value = int(bound[0]) if bound[0].is_integer() else bound[0]
    return f"{value} (exclusive)" if bound[1] else str(value)


def _tighter(a: Bound | None, b: Bound | None, *, upper: bool) -> bool:
    """``a`` admits strictly fewer values than ``b``."""
    if a is None:
        return False
    if b is None:
        return True
    if a[0] != b[0]:
        return a[0] < b[0] if upper else a[0] > b[0]
    return a[1] and not b[1]


@dataclass(frozen=True)
class _BoundKind:
    slug: str
    keyword: str
    upper: bool
    read: Callable[[Shape], Bound | None]


_BOUNDS = (
    _BoundKind("max-length", "maxLength", True, lambda s: s.length("maxLength")),
    _BoundKind("min-length", "minLength", False, lambda s: s.length("minLength")),
    _BoundKind("max-items", "maxItems", True, lambda s: s.length("maxItems")),
    _BoundKind("min-items", "minItems", False, lambda s: s.length("minItems")),
    _BoundKind("max", "maximum", True, Shape.upper),
    _BoundKind("min", "minimum", False, Shape.lower),
)


def _limit(direction: Direction, kind: _BoundKind, tightened: bool) -> Callable[[SchemaPair], str | None]:
    def check(pair: SchemaPair) -> str | None:
        if pair.direction != direction or pair.composed:
            return None
        old, new = kind.read(pair.old), kind.read(pair.new)
        if not (_tighter(new, old, upper=kind.upper) if tightened else _tighter(old, new, upper=kind.upper)):
            return None
        return f"the {kind.keyword} of {pair.label} changed from {_bound_text(old)} to {_bound_text(new)}"

    return check


def _verb(kind: _BoundKind, tightened: bool) -> str:
    return "decreased" if kind.upper == tightened else "increased"


_COMPOSED = (("anyOf", "any-of"), ("oneOf", "one-of"))


def _pattern(shape: Shape) -> str | None:
    value = shape.keywords.get("pattern")
    return value if isinstance(value, str) else None


def _pattern_rule(change: str) -> Callable[[SchemaPair], str | None]:
    def check(pair: SchemaPair) -> str | None:
        if pair.direction != "request" or pair.composed:
            return None
        old, new = _pattern(pair.old), _pattern(pair.new)
        if change == "added" and old is None and new is not None:
            return f"added the pattern {new!r} to {pair.label}"
        if change == "changed" and old is not None and new is not None and old != new:
            return f"changed the pattern of {pair.label} from {old!r} to {new!r}"
        if change == "removed" and old is not None and new is None:
            return f"removed the pattern {old!r} of {pair.label}"
        return None

    return check


def _keyed(shape: Shape, node: object) -> dict[str, Any]:
    """A composed schema's alternatives by key; a plain schema (``node``) stands for one alternative."""
    keyed = shape.keyed_alternatives()
    if keyed is not None:
        return keyed
    return {shape.refs[-1] if shape.refs else "type " + canonical(shape.keywords.get("type")): node}


def _composed_rule(direction: Direction, kind: str, added: bool) -> Callable[[SchemaPair], str | None]:
    def check(pair: SchemaPair) -> str | None:
        if pair.direction != direction or not pair.composed:
            return None
        # The kind is the composed side's; when both are composed, the side the schemas went to
        # (added) or came from (removed).
        first, second = (pair.new, pair.old) if added else (pair.old, pair.new)
        composed = first.alternatives or second.alternatives
        if composed is None or composed[0] != kind:
            return None
        old = _keyed(pair.old, None)
        new = _keyed(pair.new, None)
        keys = sorted(set(new) - set(old)) if added else sorted(set(old) - set(new))
        if not keys:
            return None
        plural = "s" if len(keys) > 1 else ""
        return f"{'added' if added else 'removed'} the {kind} schema{plural} {', '.join(keys)} of {pair.label}"

    return check


# ---------------------------------------------------------------------------------------------
# The table


def _rules(scope: type[P], rows: Iterable[tuple[str, Level, str, Callable[[P], str | None]]]) -> list[Rule[P]]:
    return [Rule(rule_id, level, scope, description, check) for rule_id, level, description, check in rows]


def _subject_rules(subject: Subject, rows: Iterable[tuple[str, Level, str, SchemaCheck]]) -> list[Rule[SchemaPair]]:
    """Rules that look at a request parameter's schema, or at a request body's, not both."""

    def only(check: SchemaCheck) -> SchemaCheck:
        return lambda pair: check(pair) if pair.subject == subject else None

    return _rules(SchemaPair, [(rule_id, level, text, only(check)) for rule_id, level, text, check in rows])


_B, _N = BREAKING, NON_BREAKING


# fmt: off
def _schema_rules() -> Iterator[Rule[SchemaPair]]:
    subjects: tuple[Subject, ...] = ("parameter", "property")
    for subject in subjects:
        req = f"request-{subject}"
        yield from _subject_rules(subject, [
            (f"{req}-type-changed", _B, "a request value's type or format narrowed", _type_rule("request", True)),
            (f"{req}-type-generalized", _N, "a request value's type widened", _type_rule("request", False)),
            (f"{req}-became-enum", _B, "a request value became an enum", _enum_rule("request", "became")),
            (f"{req}-enum-value-removed", _B, "a request value lost an enum value", _enum_rule("request", "removed")),
            (f"{req}-enum-value-added", _N, "a request value accepts more enum values", _enum_rule("request", "added")),
            (f"{req}-became-not-nullable", _B, "a request value refuses null", _nullable_rule("request", False)),
            (f"{req}-became-nullable", _N, "a request value accepts null", _nullable_rule("request", True)),
            (f"{req}-pattern-added", _B, "a request value got a pattern", _pattern_rule("added")),
            (f"{req}-pattern-changed", _B, "the pattern of a request value changed", _pattern_rule("changed")),
            (f"{req}-pattern-removed", _N, "the pattern of a request value was removed", _pattern_rule("removed")),
        ])
        for b in _BOUNDS:
            yield from _subject_rules(subject, [
                (f"{req}-{b.slug}-{_verb(b, True)}", _B, f"request {b.keyword} tightened", _limit("request", b, True)),
                (f"{req}-{b.slug}-{_verb(b, False)}", _N, f"request {b.keyword} relaxed", _limit("request", b, False)),
            ])
        for kind, slug in _COMPOSED:
            yield from _subject_rules(subject, [
                (f"{req}-{slug}-removed", _B, f"request {kind} schema removed", _composed_rule("request", kind, False)),
                (f"{req}-{slug}-added", _N, f"request {kind} schema added", _composed_rule("request", kind, True)),
            ])
    res = "response-property"
    yield from _rules(SchemaPair, [
        (f"{res}-type-changed", _B, "a response value's type widened or changed", _type_rule("response", True)),
        (f"{res}-type-specialized", _N, "a response value's type narrowed", _type_rule("response", False)),
        (f"{res}-enum-value-added", _B, "a response value may take a new enum value", _enum_rule("response", "added")),
        (f"{res}-enum-value-removed", _N, "a response value lost an enum value", _enum_rule("response", "removed")),
        (f"{res}-became-enum", _N, "a response value became an enum", _enum_rule("response", "became")),
        (f"{res}-became-nullable", _B, "a response value may be null", _nullable_rule("response", True)),
        (f"{res}-became-not-nullable", _N, "a response value is never null", _nullable_rule("response", False)),
    ])
    for b in _BOUNDS:
        yield from _rules(SchemaPair, [
            (f"{res}-{b.slug}-{_verb(b, False)}", _B, f"response {b.keyword} relaxed", _limit("response", b, False)),
            (f"{res}-{b.slug}-{_verb(b, True)}", _N, f"response {b.keyword} tightened", _limit("response", b, True)),
        ])
    for kind, slug in _COMPOSED:
        yield from _rules(SchemaPair, [
            (f"{res}-{slug}-added", _B, f"response {kind} schema added", _composed_rule("response", kind, True)),
            (f"{res}-{slug}-removed", _N, f"response {kind} schema removed", _composed_rule("response", kind, False)),
        ])


RULES: tuple[Rule[Any], ...] = (
    *_rules(OperationPair, [
        ("endpoint-added", _N, "an operation was added", _endpoint_added),
        ("api-removed-without-deprecation", _B, "an operation was removed without deprecation", _removed_undeprecated),
        ("api-removed-before-sunset", _B, "a deprecated operation was removed too soon", _removed_before_sunset),
        ("api-removed-after-sunset", _N, "a deprecated operation was removed after sunset", _removed_after_sunset),
        ("endpoint-deprecated", _N, "an operation was deprecated", _endpoint_deprecated),
        ("endpoint-reactivated", _N, "an operation is no longer deprecated", _endpoint_reactivated),
        ("api-security-added", _B, "some callers can no longer authenticate", _security_added),
        ("api-security-relaxed", _N, "more ways to authenticate are accepted", _security_relaxed),
    ]),
    *_rules(ParameterPair, [
        ("new-required-request-parameter", _B, "a required parameter was added", _new_required_parameter),
        ("new-optional-request-parameter", _N, "an optional parameter was added", _new_optional_parameter),
        ("request-parameter-removed", _B, "a parameter was removed", _parameter_removed),
        ("request-parameter-became-required", _B, "a parameter became required", _parameter_became_required),
        ("request-parameter-became-optional", _N, "a parameter became optional", _parameter_became_optional),
    ]),
    *_rules(BodyPair, [
        ("request-body-added-required", _B, "a required request body was added", _body_added(True)),
        ("request-body-added-optional", _N, "an optional request body was added", _body_added(False)),
        ("request-body-removed", _B, "the request body was removed", _body_removed),
        ("request-body-became-required", _B, "the request body became required", _body_became(True)),
        ("request-body-became-optional", _N, "the request body became optional", _body_became(False)),
    ]),
    *_rules(MediaTypePair, [
        ("request-body-media-type-removed", _B, "a request media type was removed", _media_type("request", False)),
        ("request-body-media-type-added", _N, "a request media type was added", _media_type("request", True)),
        ("response-media-type-removed", _B, "a response media type was removed", _media_type("response", False)),
        ("response-media-type-added", _N, "a response media type was added", _media_type("response", True)),
    ]),
    *_rules(ResponsePair, [
        ("response-success-status-removed", _B, "a 2xx response was removed", _status(True, False)),
        ("response-success-status-added", _N, "a 2xx response was added", _status(True, True)),
        ("response-non-success-status-removed", _N, "a non-2xx response was removed", _status(False, False)),
        ("response-non-success-status-added", _N, "a non-2xx response was added", _status(False, True)),
    ]),
    *_rules(PropertyPair, [
        ("new-required-request-property", _B, "a required request property was added", _added("request", True)),
        ("new-optional-request-property", _N, "an optional request property was added", _added("request", False)),
        ("request-property-removed", _B, "a request property was removed", _property_removed("request")),
        ("request-property-became-required", _B, "a request property became required", _became("request", True)),
        ("request-property-became-optional", _N, "a request property became optional", _became("request", False)),
        ("response-property-removed", _B, "a response property was removed", _property_removed("response")),
        ("response-property-added", _N, "a response property was added", _added("response", None)),
        ("response-property-became-optional", _B, "a response property became optional", _became("response", False)),
        ("response-property-became-required", _N, "a response property became required", _became("response", True)),
    ]),
    *_schema_rules(),
)
"""Every rule, in the order its changes are reported within one pair."""
# fmt: on


def _index(rules: Iterable[Rule[Any]]) -> dict[type, list[Rule[Any]]]:
    by_scope: dict[type, list[Rule[Any]]] = {}
    for rule in rules:
        by_scope.setdefault(rule.scope, []).append(rule)
    return by_scope


_BY_SCOPE = _index(RULES)
assert len({r.id for r in RULES}) == len(RULES), "rule ids must be unique"


# ---------------------------------------------------------------------------------------------
# The walk over both documents


@dataclass(frozen=True)
class _Operation:
    path: str
    item: dict[str, Any]
    operation: dict[str, Any]


class _Walker:
    def __init__(self, old: Spec, new: Spec, options: Options) -> None:
        self.old, self.new, self.options = old, new, options
        self.changes: list[Change] = []
        self._method = self._path = ""

    def emit(self, pair: object, location: str) -> None:
        for rule in _BY_SCOPE[type(pair)]:
            text = rule.check(pair)
            if text is not None:
                self.changes.append(Change(rule.id, rule.level, self._method, self._path, location, text))

    def run(self) -> list[Change]:
        old, new = self._operations(self.old), self._operations(self.new)
        for key in sorted(old.keys() | new.keys(), key=lambda k: (k[1], METHODS.index(k[0]))):
            before, after = old.get(key), new.get(key)
            shown = after or before
            assert shown is not None
            self._method, self._path = key[0].upper(), shown.path
            self.emit(
                OperationPair(
                    before.operation if before else None,
                    after.operation if after else None,
                    self._security(self.old, before),
                    self._security(self.new, after),
                    self.options,
                ),
                "operation",
            )
            if before is not None and after is not None:
                self._parameters(before, after)
                self._request_body(before, after)
                self._responses(before, after)
        return self.changes

    def _operations(self, spec: Spec) -> dict[tuple[str, str], _Operation]:
        found: dict[tuple[str, str], _Operation] = {}
        for path, raw_item in spec.document.get("paths", {}).items():
            item = spec.mapping(raw_item, f"paths.{path}")
            for method in METHODS:
                if method in item:
                    operation = spec.mapping(item[method], f"{method.upper()} {path}")
                    found[(method, path_template(path))] = _Operation(path, item, operation)
        return found

    @staticmethod
    def _security(spec: Spec, entry: _Operation | None) -> list[Any]:
        if entry is None:
            return []
        security = entry.operation.get("security", spec.document.get("security", []))
        if not isinstance(security, list):
            raise DocumentError(f"{spec.label}: 'security' must be a list of requirements")
        return security

    def _parameter_map(self, spec: Spec, entry: _Operation) -> dict[tuple[str, str], dict[str, Any]]:
        names = re.findall(r"\{([^}/]*)\}", entry.path)
        where = f"{self._method} {entry.path}"
        found: dict[tuple[str, str], dict[str, Any]] = {}
        for source in (entry.item, entry.operation):
            raw = source.get("parameters", [])
            if not isinstance(raw, list):
                raise DocumentError(f"{spec.label}: {where}: 'parameters' must be a list")
            for node in raw:
                param = spec.mapping(node, f"{where} parameters")
                name, place = param.get("name"), param.get("in")
                if not isinstance(name, str) or not isinstance(place, str):
                    raise DocumentError(f"{spec.label}: {where}: every parameter needs a string 'name' and 'in'")
                # Path parameters are matched by position, header names case-insensitively.
                key = name.lower() if place == "header" else name
                if place == "path" and name in names:
                    key = str(names.index(name))
                found[(place, key)] = param
        return found

    def _parameters(self, before: _Operation, after: _Operation) -> None:
        old, new = self._parameter_map(self.old, before), self._parameter_map(self.new, after)
        for key in sorted(old.keys() | new.keys()):
            o, n = old.get(key), new.get(key)
            shown = n or o
            assert shown is not None
            place, name = key[0], str(shown["name"])
            label = f"{place} parameter '{name}'"
            self.emit(ParameterPair(label, o, n), label)
            if o is not None and n is not None:

                def describe(sub: str, label: str = label) -> str:
                    return f"property '{sub}' of {label}" if sub else label

                self._schema(
                    "request",
                    "parameter",
                    "",
                    describe,
                    self._param_schema(self.old, o),
                    self._param_schema(self.new, n),
                )

    @staticmethod
    def _param_schema(spec: Spec, param: Mapping[str, Any]) -> object:
        if "schema" in param:
            return param["schema"]
        content = spec.mapping(param.get("content"), "parameter content")
        for media in content.values():
            return spec.mapping(media, "parameter content").get("schema")
        return None

    def _request_body(self, before: _Operation, after: _Operation) -> None:
        where = f"{self._method} {self._path} requestBody"
        old = self.old.mapping(before.operation["requestBody"], where) if "requestBody" in before.operation else None
        new = self.new.mapping(after.operation["requestBody"], where) if "requestBody" in after.operation else None
        self.emit(BodyPair(old, new), "request body")
        if old is not None and new is not None:
            self._content("request", "the request body", old, new, "")

    def _responses(self, before: _Operation, after: _Operation) -> None:
        where = f"{self._method} {self._path} responses"
        # YAML reads an unquoted 200 as a number: statuses are compared as text.
        old = {str(k): v for k, v in self.old.mapping(before.operation.get("responses"), where).items()}
        new = {str(k): v for k, v in self.new.mapping(after.operation.get("responses"), where).items()}
        for status in sorted(old.keys() | new.keys()):
            label = f"response {status}"
            self.emit(ResponsePair(status, status in old, status in new), label)
            if status in old and status in new:
                self._content(
                    "response",
                    f"the {label}",
                    self.old.mapping(old[status], f"{where} {status}"),
                    self.new.mapping(new[status], f"{where} {status}"),
                    status,
                )

    def _content(
        self, direction: Direction, label: str, old: Mapping[str, Any], new: Mapping[str, Any], status: str
    ) -> None:
        where = f"{self._method} {self._path} {label}"
        old_content = self.old.mapping(old.get("content"), where)
        new_content = self.new.mapping(new.get("content"), where)
        for media_type in sorted(old_content.keys() | new_content.keys()):
            self.emit(
                MediaTypePair(direction, label, media_type, media_type in old_content, media_type in new_content),
                f"{label} {media_type}",
            )
            if media_type in old_content and media_type in new_content:
                old_schema = self.old.mapping(old_content[media_type], where).get("schema")
                new_schema = self.new.mapping(new_content[media_type], where).get("schema")
                if direction == "request":

                    def describe(sub: str) -> str:
                        return f"request property '{sub}'" if sub else "the request body"

                else:

                    def describe(sub: str) -> str:
                        return f"response property '{sub}' ({status})" if sub else f"the response body ({status})"

                self._schema(direction, "property", "", describe, old_schema, new_schema)

    def _schema(
        self,
        direction: Direction,
        subject: Subject,
        name: str,
        describe: Callable[[str], str],
        old_node: object,
        new_node: object,
        seen: frozenset[tuple[tuple[str, ...], tuple[str, ...]]] = frozenset(),
    ) -> None:
        where = f"{self._method} {self._path} {describe(name)}"
        old, new = self.old.shape(old_node, where), self.new.shape(new_node, where)
        refs = (old.refs, new.refs)
        if refs in seen:
            return  # a recursive schema, already being compared further up
        if old.refs or new.refs:
            seen = seen | {refs}
        label = describe(name)
        self.emit(SchemaPair(direction, subject, label, old, new), label)

        hidden = "readOnly" if direction == "request" else "writeOnly"
        for prop in sorted(old.properties.keys() | new.properties.keys()):
            child = f"{name}.{prop}" if name else prop
            o = self._visible(self.old, old.properties, prop, hidden, where)
            n = self._visible(self.new, new.properties, prop, hidden, where)
            if o is None and n is None:
                continue
            self.emit(
                PropertyPair(direction, describe(child), o, n, prop in old.required, prop in new.required),
                describe(child),
            )
            if o is not None and n is not None:
                self._schema(direction, subject, child, describe, old.properties[prop], new.properties[prop], seen)
        if old.items is not None and new.items is not None:
            self._schema(direction, subject, f"{name}[]", describe, old.items, new.items, seen)
        if old.additional is not None and new.additional is not None:
            self._schema(direction, subject, f"{name}.*", describe, old.additional, new.additional, seen)
        if old.alternatives is not None or new.alternatives is not None:
            # A plain schema on one side stands for one alternative: anyOf [A, B] -> A drops B.
            o_map, n_map = _keyed(old, old_node), _keyed(new, new_node)
            for key in sorted(o_map.keys() & n_map.keys()):
                self._schema(direction, subject, name, describe, o_map[key], n_map[key], seen)

    @staticmethod
    def _visible(spec: Spec, properties: Mapping[str, Any], prop: str, hidden: str, where: str) -> Shape | None:
        """The property's shape, or None when it is absent or not part of this direction's contract."""
        if prop not in properties:
            return None
        shape = spec.shape(properties[prop], f"{where} property {prop}")
        return None if shape.keywords.get(hidden) is True else shape


def diff_openapi(
    old: Mapping[str, Any],
    new: Mapping[str, Any],
    *,
    allow_removal_after_sunset: bool = False,
    today: date | None = None,
) -> list[Change]:
    """Every change from ``old`` to ``new`` (OpenAPI 3.x documents), classified by :data:`RULES`.

    Raises :class:`DocumentError` when a document cannot be read (a bad ``$ref``, a malformed part).
    """
    options = Options(allow_removal_after_sunset, today or Options().today)
    old_spec = Spec(json_document(old, label="OLD"), "OLD")
    new_spec = Spec(json_document(new, label="NEW"), "NEW")
    return _Walker(old_spec, new_spec, options).run()


def report(changes: list[Change]) -> dict[str, Any]:
    """The stable JSON form of a diff: ``breaking``, counts per level, and every change."""
    breaking = sum(1 for c in changes if c.level == BREAKING)
    return {
        "breaking": breaking > 0,
        "summary": {"breaking": breaking, "non-breaking": len(changes) - breaking},
        "changes": [c.to_json() for c in changes],
    }
