"""The breaking-change guard: one minimal document pair per rule that triggers it and only it,
additive changes that must not be flagged, $ref handling, bad input, and properties that hold for
any document."""

from __future__ import annotations

import contextlib
import copy
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from trading_host._contracts._diff import BREAKING, NON_BREAKING, RULES, diff_openapi, report
from trading_host._contracts._reader import DocumentError, parse_document
from trading_host.cli import cli

B, N = BREAKING, NON_BREAKING
OK: dict[str, Any] = {"200": {"description": "ok"}}


def doc(paths: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": paths, **extra}


def one(operation: dict[str, Any], path: str = "/items", method: str = "post", **extra: Any) -> dict[str, Any]:
    return doc({path: {method: {"responses": OK, **operation}}}, **extra)


def body(schema: dict[str, Any], required: bool = True, media_type: str = "application/json") -> dict[str, Any]:
    return {"requestBody": {"required": required, "content": {media_type: {"schema": schema}}}}


def returns(schema: dict[str, Any], status: str = "200") -> dict[str, Any]:
    return {"responses": {status: {"description": "ok", "content": {"application/json": {"schema": schema}}}}}


def obj(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {"type": "object", "properties": properties, **({"required": required} if required else {})}


def query(required: bool = False, name: str = "q", schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "schema": schema or {"type": "string"}}


def ids(old: dict[str, Any], new: dict[str, Any], **options: Any) -> list[tuple[str, str]]:
    return [(c.id, c.level) for c in diff_openapi(old, new, **options)]


STRING = {"type": "string"}

# (rule id, level, old document, new document): each pair shows that change and nothing else.
DOCUMENT_CASES: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = [
    ("endpoint-added", N, doc({}), one({})),
    ("api-removed-without-deprecation", B, one({}), doc({})),
    ("api-removed-before-sunset", B, one({"deprecated": True, "x-sunset": "2999-12-31"}), doc({})),
    ("endpoint-deprecated", N, one({}), one({"deprecated": True, "x-sunset": "2999-12-31"})),
    ("endpoint-reactivated", N, one({"deprecated": True}), one({})),
    ("api-security-added", B, one({}), one({"security": [{"bearer": []}]})),
    ("api-security-relaxed", N, one({"security": [{"bearer": []}]}), one({"security": [{"bearer": []}, {}]})),
    ("new-required-request-parameter", B, one({}), one({"parameters": [query(True)]})),
    ("new-optional-request-parameter", N, one({}), one({"parameters": [query()]})),
    ("request-parameter-removed", B, one({"parameters": [query()]}), one({})),
    (
        "request-parameter-became-required",
        B,
        one({"parameters": [query()]}),
        one({"parameters": [query(required=True)]}),
    ),
    (
        "request-parameter-became-optional",
        N,
        one({"parameters": [query(required=True)]}),
        one({"parameters": [query()]}),
    ),
    ("request-body-added-required", B, one({}), one(body(STRING))),
    ("request-body-added-optional", N, one({}), one(body(STRING, required=False))),
    ("request-body-removed", B, one(body(STRING)), one({})),
    ("request-body-became-required", B, one(body(STRING, required=False)), one(body(STRING))),
    ("request-body-became-optional", N, one(body(STRING)), one(body(STRING, required=False))),
    (
        "request-body-media-type-removed",
        B,
        one({"requestBody": {"content": {"application/json": {"schema": STRING}, "text/plain": {"schema": STRING}}}}),
        one({"requestBody": {"content": {"application/json": {"schema": STRING}}}}),
    ),
    (
        "request-body-media-type-added",
        N,
        one({"requestBody": {"content": {"application/json": {"schema": STRING}}}}),
        one({"requestBody": {"content": {"application/json": {"schema": STRING}, "text/plain": {"schema": STRING}}}}),
    ),
    ("response-success-status-removed", B, one({"responses": {**OK, "201": {"description": "x"}}}), one({})),
    ("response-success-status-added", N, one({}), one({"responses": {**OK, "201": {"description": "x"}}})),
    ("response-non-success-status-removed", N, one({"responses": {**OK, "404": {"description": "x"}}}), one({})),
    ("response-non-success-status-added", N, one({}), one({"responses": {**OK, "404": {"description": "x"}}})),
    (
        "response-media-type-removed",
        B,
        one({"responses": {"200": {"description": "x", "content": {"text/csv": {}, "application/json": {}}}}}),
        one({"responses": {"200": {"description": "x", "content": {"application/json": {}}}}}),
    ),
    (
        "response-media-type-added",
        N,
        one({"responses": {"200": {"description": "x", "content": {"application/json": {}}}}}),
        one({"responses": {"200": {"description": "x", "content": {"text/csv": {}, "application/json": {}}}}}),
    ),
    ("new-required-request-property", B, one(body(obj({}))), one(body(obj({"p": STRING}, ["p"])))),
    ("new-optional-request-property", N, one(body(obj({}))), one(body(obj({"p": STRING})))),
    ("request-property-removed", B, one(body(obj({"p": STRING}))), one(body(obj({})))),
    ("request-property-became-required", B, one(body(obj({"p": STRING}))), one(body(obj({"p": STRING}, ["p"])))),
    ("request-property-became-optional", N, one(body(obj({"p": STRING}, ["p"]))), one(body(obj({"p": STRING})))),
    ("response-property-removed", B, one(returns(obj({"p": STRING}, ["p"]))), one(returns(obj({})))),
    ("response-property-added", N, one(returns(obj({}))), one(returns(obj({"p": STRING}, ["p"])))),
    ("response-property-became-optional", B, one(returns(obj({"p": STRING}, ["p"]))), one(returns(obj({"p": STRING})))),
    ("response-property-became-required", N, one(returns(obj({"p": STRING}))), one(returns(obj({"p": STRING}, ["p"])))),
]

NULLABLE_STRING = {"anyOf": [STRING, {"type": "null"}]}
ANY_OF = {"anyOf": [STRING, {"type": "integer"}]}
ONE_OF = {"oneOf": [STRING, {"type": "integer"}]}

# (rule id without "request-{subject}-" or "response-property-", level, old schema, new schema)
REQUEST_SCHEMA_CASES: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = [
    ("type-changed", B, STRING, {"type": "integer"}),
    ("type-generalized", N, {"type": "integer"}, {"type": "number"}),
    ("became-enum", B, STRING, {"type": "string", "enum": ["a", "b"]}),
    ("enum-value-removed", B, {"type": "string", "enum": ["a", "b"]}, {"type": "string", "enum": ["a"]}),
    ("enum-value-added", N, {"type": "string", "enum": ["a"]}, {"type": "string", "enum": ["a", "b"]}),
    ("became-not-nullable", B, NULLABLE_STRING, STRING),
    ("became-nullable", N, STRING, NULLABLE_STRING),
    ("pattern-added", B, STRING, {"type": "string", "pattern": "^a"}),
    ("pattern-changed", B, {"type": "string", "pattern": "^a"}, {"type": "string", "pattern": "^b"}),
    ("pattern-removed", N, {"type": "string", "pattern": "^a"}, STRING),
    ("any-of-removed", B, ANY_OF, STRING),
    ("any-of-added", N, STRING, ANY_OF),
    ("one-of-removed", B, ONE_OF, STRING),
    ("one-of-added", N, STRING, ONE_OF),
]
RESPONSE_SCHEMA_CASES: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = [
    ("type-changed", B, {"type": "integer"}, {"type": "number"}),
    ("type-specialized", N, {"type": "number"}, {"type": "integer"}),
    ("enum-value-added", B, {"type": "string", "enum": ["a"]}, {"type": "string", "enum": ["a", "b"]}),
    ("enum-value-removed", N, {"type": "string", "enum": ["a", "b"]}, {"type": "string", "enum": ["a"]}),
    ("became-enum", N, STRING, {"type": "string", "enum": ["a"]}),
    ("became-nullable", B, STRING, NULLABLE_STRING),
    ("became-not-nullable", N, NULLABLE_STRING, STRING),
    ("any-of-added", B, STRING, ANY_OF),
    ("any-of-removed", N, ANY_OF, STRING),
    ("one-of-added", B, STRING, ONE_OF),
    ("one-of-removed", N, ONE_OF, STRING),
]
# (slug, keyword, type, is an upper bound): a bound moves between a tight and a loose value.
BOUNDS = [
    ("max-length", "maxLength", "string", True),
    ("min-length", "minLength", "string", False),
    ("max-items", "maxItems", "array", True),
    ("min-items", "minItems", "array", False),
    ("max", "maximum", "number", True),
    ("min", "minimum", "number", False),
]
for slug, keyword, kind, upper in BOUNDS:
    tight, loose = ({keyword: 5} if upper else {keyword: 10}), ({keyword: 10} if upper else {keyword: 5})
    tightened, relaxed = ("decreased", "increased") if upper else ("increased", "decreased")
    REQUEST_SCHEMA_CASES += [
        (f"{slug}-{tightened}", B, {"type": kind, **loose}, {"type": kind, **tight}),
        (f"{slug}-{relaxed}", N, {"type": kind, **tight}, {"type": kind, **loose}),
    ]
    RESPONSE_SCHEMA_CASES += [
        (f"{slug}-{relaxed}", B, {"type": kind, **tight}, {"type": kind, **loose}),
        (f"{slug}-{tightened}", N, {"type": kind, **loose}, {"type": kind, **tight}),
    ]


def request_documents(subject: str, old: dict[str, Any], new: dict[str, Any]) -> tuple[dict[str, Any], ...]:
    if subject == "parameter":
        return one({"parameters": [query(schema=old)]}), one({"parameters": [query(schema=new)]})
    return one(body(obj({"p": old}))), one(body(obj({"p": new})))


@pytest.mark.parametrize(("rule", "level", "old", "new"), DOCUMENT_CASES, ids=[c[0] for c in DOCUMENT_CASES])
def test_each_rule_alone(rule: str, level: str, old: dict[str, Any], new: dict[str, Any]) -> None:
    assert ids(old, new) == [(rule, level)]


@pytest.mark.parametrize("subject", ["parameter", "property"])
@pytest.mark.parametrize(
    ("rule", "level", "old", "new"), REQUEST_SCHEMA_CASES, ids=[c[0] for c in REQUEST_SCHEMA_CASES]
)
def test_each_request_schema_rule_alone(
    subject: str, rule: str, level: str, old: dict[str, Any], new: dict[str, Any]
) -> None:
    assert ids(*request_documents(subject, old, new)) == [(f"request-{subject}-{rule}", level)]


@pytest.mark.parametrize(
    ("rule", "level", "old", "new"), RESPONSE_SCHEMA_CASES, ids=[c[0] for c in RESPONSE_SCHEMA_CASES]
)
def test_each_response_schema_rule_alone(rule: str, level: str, old: dict[str, Any], new: dict[str, Any]) -> None:
    before, after = one(returns(obj({"p": old}, ["p"]))), one(returns(obj({"p": new}, ["p"])))
    assert ids(before, after) == [(f"response-property-{rule}", level)]


def test_removal_after_sunset_is_accepted_only_when_asked() -> None:
    old = one({"deprecated": True, "x-sunset": "2000-01-01"})

    assert ids(old, doc({})) == [("api-removed-before-sunset", B)]
    assert ids(old, doc({}), allow_removal_after_sunset=True) == [("api-removed-after-sunset", N)]
    # Not before the sunset date, and not for an operation that was never deprecated.
    assert ids(old, doc({}), allow_removal_after_sunset=True, today=date(1999, 12, 31)) == [
        ("api-removed-before-sunset", B)
    ]
    assert ids(one({"x-sunset": "2000-01-01"}), doc({}), allow_removal_after_sunset=True) == [
        ("api-removed-without-deprecation", B)
    ]


def test_every_rule_has_its_test() -> None:
    tested = {rule for rule, *_ in DOCUMENT_CASES} | {"api-removed-after-sunset"}
    tested |= {f"request-{s}-{rule}" for s in ("parameter", "property") for rule, *_ in REQUEST_SCHEMA_CASES}
    tested |= {f"response-property-{rule}" for rule, *_ in RESPONSE_SCHEMA_CASES}

    assert tested == {rule.id for rule in RULES}


def test_additive_changes_are_not_breaking() -> None:
    """New operation, optional parameter and property, new response property, relaxed bounds and a
    new request enum value, all at once: reported, and none of them breaking."""
    old = one(
        {
            **body(obj({"side": {"type": "string", "enum": ["BUY"]}, "qty": {"type": "number", "maximum": 10}})),
            **returns(obj({"id": STRING}, ["id"])),
        }
    )
    new = copy.deepcopy(old)
    operation = new["paths"]["/items"]["post"]
    operation["parameters"] = [query(name="limit")]
    request = operation["requestBody"]["content"]["application/json"]["schema"]["properties"]
    request["side"]["enum"].append("SELL")
    request["qty"]["maximum"] = 100
    request["note"] = STRING
    operation["responses"]["200"]["content"]["application/json"]["schema"]["properties"]["price"] = {"type": "number"}
    new["paths"]["/items"]["get"] = {"responses": OK}

    changes = diff_openapi(old, new)

    assert {c.id for c in changes} == {
        "endpoint-added",
        "new-optional-request-parameter",
        "request-property-enum-value-added",
        "request-property-max-increased",
        "new-optional-request-property",
        "response-property-added",
    }
    assert report(changes)["breaking"] is False


def test_a_new_required_property_is_breaking_even_with_a_default() -> None:
    old = one(body(obj({})))
    new = one(body(obj({"account": {"type": "string", "default": "main"}}, ["account"])))

    [change] = diff_openapi(old, new)

    assert (change.id, change.level) == ("new-required-request-property", B)
    assert "default" in change.text


def test_changes_behind_refs_are_found() -> None:
    def with_order(properties: dict[str, Any]) -> dict[str, Any]:
        schema = {"$ref": "#/components/schemas/Order"}
        return one(
            {**body(schema), **returns({"type": "array", "items": schema})},
            components={"schemas": {"Order": obj(properties, list(properties))}},
        )

    changes = diff_openapi(with_order({"symbol": STRING, "price": STRING}), with_order({"symbol": STRING}))

    assert [(c.id, c.location) for c in changes] == [
        ("request-property-removed", "request property 'price'"),
        ("response-property-removed", "response property '[].price' (200)"),
    ]


def test_pydantic_shapes_are_read_through() -> None:
    """Optional[X] as anyOf with null, allOf-wrapped refs, exclusive bounds as 3.1 numbers."""
    components = {"schemas": {"Side": {"type": "string", "enum": ["BUY", "SELL"]}}}
    old = one(
        body(
            obj(
                {
                    "side": {"allOf": [{"$ref": "#/components/schemas/Side"}], "default": "BUY"},
                    "limit": {"anyOf": [{"type": "number", "exclusiveMinimum": 0}, {"type": "null"}]},
                }
            )
        ),
        components=components,
    )
    new = copy.deepcopy(old)
    new["components"]["schemas"]["Side"]["enum"] = ["BUY"]
    new["paths"]["/items"]["post"]["requestBody"]["content"]["application/json"]["schema"]["properties"]["limit"] = {
        "anyOf": [{"type": "number", "minimum": 0}, {"type": "null"}]
    }

    assert ids(old, new) == [
        ("request-property-min-decreased", N),  # exclusive 0 -> inclusive 0 lets 0 through
        ("request-property-enum-value-removed", B),
    ]


def test_recursive_schemas_end() -> None:
    def tree(extra: dict[str, Any]) -> dict[str, Any]:
        node = obj({"children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}}, **extra})
        return one(returns({"$ref": "#/components/schemas/Node"}), components={"schemas": {"Node": node}})

    assert ids(tree({}), tree({})) == []
    assert ids(tree({"name": STRING}), tree({})) == [("response-property-removed", B)]


def test_renamed_path_parameter_and_header_case_are_no_change() -> None:
    def get(path: str, name: str, header: str) -> dict[str, Any]:
        params = [
            {"name": name, "in": "path", "required": True, "schema": STRING},
            {"name": header, "in": "header", "schema": STRING},
        ]
        return one({"parameters": params}, path=path, method="get")

    assert ids(get("/orders/{id}", "id", "X-Trace"), get("/orders/{order_id}", "order_id", "x-trace")) == []


def test_security_alternatives() -> None:
    def secured(security: list[dict[str, list[str]]] | None) -> dict[str, Any]:
        return one({} if security is None else {"security": security})

    # Any alternative a caller holds must still be enough.
    assert ids(secured([{"key": []}, {"bearer": []}]), secured([{"bearer": []}])) == [("api-security-added", B)]
    assert ids(secured([{"oauth": ["read"]}]), secured([{"oauth": ["read", "write"]}])) == [("api-security-added", B)]
    assert ids(secured([{"oauth": ["read", "write"]}]), secured([{"oauth": ["read"]}])) == [("api-security-relaxed", N)]
    assert ids(secured([{"bearer": []}]), secured(None)) == [("api-security-relaxed", N)]
    # Document-level security applies where an operation sets none.
    assert ids(secured(None), {**secured(None), "security": [{"bearer": []}]}) == [("api-security-added", B)]


def test_read_only_and_write_only_properties_belong_to_one_direction() -> None:
    old = one({**body(obj({})), **returns(obj({}))})
    new = one(
        {
            **body(obj({"id": {"type": "string", "readOnly": True}}, ["id"])),
            **returns(obj({"secret": {"type": "string", "writeOnly": True}})),
        }
    )

    assert ids(old, new) == []


def test_change_json_is_a_stable_format() -> None:
    payload = report(diff_openapi(one({}), doc({})))

    assert payload == {
        "breaking": True,
        "summary": {"breaking": 1, "non-breaking": 0},
        "changes": [
            {
                "id": "api-removed-without-deprecation",
                "level": "breaking",
                "operation": "POST /items",
                "method": "POST",
                "path": "/items",
                "location": "operation",
                "text": "removed the operation without deprecating it first (deprecated: true and an x-sunset date)",
            }
        ],
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json: [", "neither JSON nor YAML"),
        ("[1, 2]", "expected a mapping at the top"),
        ('{"swagger": "2.0", "paths": {}}', "Swagger 2.0"),
        ('{"openapi": "3.1.0", "paths": []}', "'paths' must be a mapping"),
    ],
)
def test_unreadable_documents_say_why(text: str, message: str) -> None:
    with pytest.raises(DocumentError, match=message):
        parse_document(text)


def test_a_broken_ref_names_the_ref() -> None:
    broken = one(body({"$ref": "#/components/schemas/Missing"}))

    with pytest.raises(DocumentError, match="#/components/schemas/Missing points to nothing"):
        diff_openapi(one(body(STRING)), broken)


def test_yaml_documents_are_read() -> None:
    text = """
openapi: 3.0.3
info: {title: t, version: '1'}
paths:
  /a:
    get:
      responses:
        200: {description: ok}
"""
    document = parse_document(text)

    assert ids(document, doc({})) == [("api-removed-without-deprecation", B)]


# ---------------------------------------------------------------------------------------------
# Properties over generated documents

NAMES = st.text(alphabet="abcxyz_", min_size=1, max_size=6)
SCALARS = st.sampled_from(["string", "integer", "number", "boolean"])


def _schemas() -> st.SearchStrategy[dict[str, Any]]:
    scalar = st.builds(
        lambda kind, bound, enum, nullable: (
            {"anyOf": [{"type": kind, **bound, **enum}, {"type": "null"}]}
            if nullable
            else {"type": kind, **bound, **enum}
        ),
        SCALARS,
        st.one_of(st.just({}), st.builds(lambda v: {"maximum": v}, st.integers(0, 9))),
        st.one_of(st.just({}), st.builds(lambda v: {"enum": v}, st.lists(st.integers(0, 3), min_size=1, unique=True))),
        st.booleans(),
    )
    return st.recursive(
        scalar,
        lambda inner: st.one_of(
            st.builds(lambda items: {"type": "array", "items": items}, inner),
            st.builds(
                lambda props, req: {"type": "object", "properties": props, "required": [n for n in props if req]},
                st.dictionaries(NAMES, inner, max_size=3),
                st.booleans(),
            ),
        ),
        max_leaves=8,
    )


@st.composite
def documents(draw: st.DrawFn) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for name in draw(st.lists(NAMES, min_size=1, max_size=3, unique=True)):
        operation: dict[str, Any] = {
            "parameters": [query(draw(st.booleans()), p, draw(_schemas())) for p in draw(st.sets(NAMES, max_size=2))],
            **body(draw(_schemas()), draw(st.booleans())),
            **returns(draw(_schemas())),
        }
        paths[f"/{name}"] = {draw(st.sampled_from(["get", "post", "put"])): operation}
    return doc(paths)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_a_document_diffed_with_itself_reports_nothing(document: dict[str, Any]) -> None:
    assert diff_openapi(document, copy.deepcopy(document)) == []


def _wrap_bodies(document: dict[str, Any], added: dict[str, Any] | None = None) -> dict[str, Any]:
    """Every request body as the property ``wrapped`` of an object, plus ``added`` if given."""
    wrapped = copy.deepcopy(document)
    for item in wrapped["paths"].values():
        for operation in item.values():
            media = operation["requestBody"]["content"]["application/json"]
            extra = {"added": added} if added is not None else {}
            media["schema"] = obj({"wrapped": media["schema"], **extra}, ["wrapped"])
    return wrapped


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents(), _schemas())
def test_adding_an_optional_request_property_is_never_breaking(document: dict[str, Any], extra: dict[str, Any]) -> None:
    changes = diff_openapi(_wrap_bodies(document), _wrap_bodies(document, extra))

    assert {(c.id, c.level) for c in changes} == {("new-optional-request-property", N)}


SCHEMA_KEYWORDS = [
    *("type", "properties", "items", "required", "enum", "anyOf", "oneOf", "allOf", "$ref", "maximum"),
    *("exclusiveMinimum", "maxLength", "pattern", "nullable", "format", "const", "default", "readOnly"),
]
SCHEMA_KEYWORDS = [
    *("type", "properties", "items", "required", "enum", "anyOf", "oneOf", "allOf", "$ref", "maximum"),
    *("exclusiveMinimum", "maxLength", "pattern", "nullable", "format", "const", "default", "readOnly"),
]
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.floats(allow_nan=False) | st.text(max_size=4),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(SCHEMA_KEYWORDS),
            inner,
            max_size=4,
        )
    ),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None)
@given(JSON_VALUES, JSON_VALUES)
def test_malformed_schemas_give_a_document_error_or_a_report(old: Any, new: Any) -> None:
    """Anything may be written where a schema belongs: the guard reports or names the problem,
    and a readable document still shows no change against itself."""
    before, after = one({**body(old), **returns(old)}), one({**body(new), **returns(new)})
    with contextlib.suppress(DocumentError):
        diff_openapi(before, after)
    with contextlib.suppress(DocumentError):
        assert diff_openapi(before, copy.deepcopy(before)) == []


# ---------------------------------------------------------------------------------------------
# The command

runner = CliRunner()


def write(tmp_path: Path, name: str, document: dict[str, Any]) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(document))
    return str(path)


def test_command_exit_status_and_text(tmp_path: Path) -> None:
    old, new = write(tmp_path, "old.json", one({})), write(tmp_path, "new.json", doc({}))

    same = runner.invoke(cli, ["diff", old, old])
    broken = runner.invoke(cli, ["diff", old, new])
    additive = runner.invoke(cli, ["diff", new, old])

    assert (same.exit_code, same.stdout) == (0, "no changes\n")
    assert broken.exit_code == 1
    assert "breaking      POST /items: removed the operation" in broken.stdout
    assert "[api-removed-without-deprecation]" in broken.stdout
    assert "1 change: 1 breaking, 0 non-breaking" in broken.stdout
    assert additive.exit_code == 0
    assert "[endpoint-added]" in additive.stdout


def test_command_json_and_stdin(tmp_path: Path) -> None:
    old = write(tmp_path, "old.json", one({}))

    result = runner.invoke(cli, ["diff", old, "-", "--json"], input=json.dumps(one({"deprecated": True})))

    assert result.exit_code == 0
    assert json.loads(result.stdout)["changes"][0]["id"] == "endpoint-deprecated"


def test_command_allows_removal_after_sunset_when_asked(tmp_path: Path) -> None:
    old = write(tmp_path, "old.json", one({"deprecated": True, "x-sunset": "2001-02-03"}))
    new = write(tmp_path, "new.json", doc({}))

    assert runner.invoke(cli, ["diff", old, new]).exit_code == 1
    allowed = runner.invoke(cli, ["diff", old, new, "--allow-removal-after-sunset"])
    assert allowed.exit_code == 0
    assert "after its sunset date 2001-02-03" in allowed.stdout


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no file"),
        ("{}", "not an OpenAPI 3.x document (no 'openapi' field)"),
        (
            '{"openapi": "3.1.0", "paths": {"/a": {"get": {"requestBody": {"$ref": "elsewhere.json#/x"}}}}}',
            "only local",
        ),
    ],
)
def test_command_bad_input_exits_2_with_the_reason(tmp_path: Path, content: str | None, message: str) -> None:
    bad = tmp_path / "bad.json"
    if content is not None:
        bad.write_text(content)
    good = write(tmp_path, "good.json", doc({"/a": {"get": {"responses": OK}}}))

    result = runner.invoke(cli, ["diff", good, str(bad)])

    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stdout == ""
