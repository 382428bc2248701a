"""``trading-host clients --typescript``: one npm package per module version (``@trading/alpha-v1``)
made by openapi-typescript from the committed documents, with the stream's message types from the
AsyncAPI document; the workspace's lockfile follows; a stale package or lockfile entry is reported;
without Node.js the error names the fix.

The generation tests run the generator locked by the repository's workspace
(``clients/typescript/package-lock.json``, installed with ``npm ci`` into the test's tmp folder): they
are skipped when node is missing, except under CI."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from host_plugins import AlphaV1, AlphaV2

from trading_core.core.api.v1 import CoreApi
from trading_host import Installed
from trading_host._contracts import _typescript
from trading_host._contracts._clients import ClientsError, ClientSource, sources
from trading_host._contracts._committed import compare, generate, write
from trading_host._contracts._typescript import generate_typescript, stream_document, typescript_sources

INSTALLED = Installed.from_apis([CoreApi, AlphaV1, AlphaV2], distribution="trading-alpha")
REPOSITORY_WORKSPACE = Path(__file__).resolve().parents[3] / "clients" / "typescript"
# The tests sharing the generated packages (one generation, one `npm ci`) run in one xdist worker.
generated = pytest.mark.xdist_group("clients-typescript-gen")


def message(name: str, payload: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "payload": payload}


def typed(name: str, ref: str | None = None) -> dict[str, Any]:
    properties: dict[str, Any] = {"type": {"const": name}}
    if ref is not None:
        properties["payload"] = {"$ref": ref}
    return {"type": "object", "properties": properties, "required": ["type"]}


ASYNCAPI: dict[str, Any] = {
    "asyncapi": "3.0.0",
    "info": {"title": "alpha v2", "version": "v2"},
    "channels": {
        "ws": {
            "address": "/ws",
            "messages": {
                "ticks.subscribe": message("ticks.subscribe", typed("ticks.subscribe")),
                "ticks.subscribe.response": message("ticks.subscribe.response", typed("ticks.subscribe.response")),
                "ticks.update": message("ticks.update", typed("ticks.update", "#/components/schemas/Tick")),
                "error": message("error", typed("error")),
            },
        }
    },
    "operations": {
        "ticks.subscribe": {
            "action": "receive",
            "channel": {"$ref": "#/channels/ws"},
            "messages": [{"$ref": "#/channels/ws/messages/ticks.subscribe"}],
            "reply": {
                "channel": {"$ref": "#/channels/ws"},
                "messages": [
                    {"$ref": "#/channels/ws/messages/ticks.subscribe.response"},
                    {"$ref": "#/channels/ws/messages/error"},
                ],
            },
        },
        "ticks.update": {
            "action": "send",
            "channel": {"$ref": "#/channels/ws"},
            "messages": [{"$ref": "#/channels/ws/messages/ticks.update"}],
        },
    },
    "components": {
        "schemas": {"Tick": {"type": "object", "properties": {"price": {"type": "number"}}, "required": ["price"]}}
    },
}


def test_stream_messages_become_schemas_split_by_who_sends_them(tmp_path: Path) -> None:
    path = tmp_path / "alpha.v2.asyncapi.json"
    path.write_text(json.dumps(ASYNCAPI))

    stream = stream_document(path)

    assert stream.client == ["ticks.subscribe"]
    assert stream.server == ["ticks.subscribe.response", "error", "ticks.update"]
    schemas = stream.document["components"]["schemas"]
    assert set(schemas) == {"Tick", "ticks.subscribe", "ticks.subscribe.response", "ticks.update", "error"}
    assert schemas["ticks.update"]["properties"]["payload"] == {"$ref": "#/components/schemas/Tick"}
    assert stream.document["openapi"] == "3.1.0"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d["components"]["schemas"].update({"error": {}}), "message 'error' has the name of a schema"),
        (
            lambda d: d["channels"]["ws"]["messages"]["ticks.update"]["payload"].update({"$ref": "#/other/Tick"}),
            "refers to #/other/Tick",
        ),
    ],
)
def test_a_stream_the_generator_cannot_type_is_refused_by_name(tmp_path: Path, change: Any, expected: str) -> None:
    document = json.loads(json.dumps(ASYNCAPI))
    change(document)
    path = tmp_path / "alpha.v2.asyncapi.json"
    path.write_text(json.dumps(document))

    with pytest.raises(ClientsError, match=expected):
        stream_document(path)


def test_without_node_the_error_names_the_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    found = shutil.which
    monkeypatch.setattr(shutil, "which", lambda name: None if name == "node" else found(name))
    source = ClientSource("alpha", "trading-alpha", "1.2.3", {"v1": tmp_path / "alpha.v1.openapi.json"})

    with pytest.raises(ClientsError) as raised:
        generate_typescript(typescript_sources([source]), tmp_path)

    text = str(raised.value)
    assert "need Node.js (20 or later) and npm on PATH, and node is not found" in text
    assert "install Node.js" in text
    assert "without --typescript" in text


def test_without_a_workspace_the_error_says_where_it_looked(tmp_path: Path) -> None:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are not installed")
    source = ClientSource("alpha", "trading-alpha", "1.2.3", {"v1": tmp_path / "alpha.v1.openapi.json"})

    with pytest.raises(ClientsError, match=r"no npm workspace at .*typescript.*pass the repository's clients folder"):
        generate_typescript(typescript_sources([source]), tmp_path / "elsewhere")


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """alpha's committed documents (with an AsyncAPI document of v2) and its TypeScript packages,
    generated once in a copy of the repository's workspace."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        if os.environ.get("CI"):  # CI must run these: install Node.js 20 or later
            raise RuntimeError("node and npm are needed under CI to test `trading-host clients --typescript`")
        pytest.skip("node and npm are not installed: install Node.js 20 or later")
    root = tmp_path_factory.mktemp("ts-clients")
    specs = generate(out=root / "specs", modules=["alpha"], installed=INSTALLED, environ={})
    write(compare(specs), specs)
    (root / "specs" / "alpha.v2.asyncapi.json").write_text(json.dumps(ASYNCAPI))
    workspace = root / "clients" / "typescript"
    workspace.mkdir(parents=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copy(REPOSITORY_WORKSPACE / name, workspace / name)
    ts_sources = typescript_sources(sources(["alpha"], specs=root / "specs", installed=INSTALLED))
    results = generate_typescript(ts_sources, root / "clients")
    return {"root": root, "workspace": workspace, "sources": ts_sources, "results": results}


@generated
def test_one_package_per_module_version_at_the_release_with_the_lockfile_following(made: dict[str, Any]) -> None:
    workspace: Path = made["workspace"]
    lock = json.loads((workspace / "package-lock.json").read_text())
    release = INSTALLED.distributions("alpha")[0][1]

    assert [r.stale for r in made["results"]] == [True, True]  # written
    for version in ("v1", "v2"):
        package = workspace / "packages" / f"alpha-{version}"
        manifest = json.loads((package / "package.json").read_text())
        assert (manifest["name"], manifest["version"]) == (f"@trading/alpha-{version}", release)
        assert manifest["dependencies"] == {"openapi-fetch": _typescript.RUNTIME_RANGE}
        assert lock["packages"][f"packages/alpha-{version}"]["version"] == release
        assert f"export function createAlphaApi{version.upper()}(options)" in (package / "index.js").read_text()
        declarations = (package / "index.d.ts").read_text()
        assert f"export type AlphaApi{version.upper()} = Client<paths>;" in declarations
        schema = (package / "schema.d.ts").read_text()
        assert schema.startswith("// Generated by `trading-host clients --typescript` from trading-alpha")
        assert "export interface paths" in schema
        assert str(made["root"]) not in schema  # the generator's header, naming its input, is replaced
    assert not (workspace / "packages" / "alpha-v1" / "stream.d.ts").exists()


@generated
def test_the_stream_types_come_from_the_asyncapi_document(made: dict[str, Any]) -> None:
    package = made["workspace"] / "packages" / "alpha-v2"
    stream = (package / "stream.d.ts").read_text()
    schema = (package / "stream-schema.d.ts").read_text()

    assert 'export type ClientMessage =\n  | StreamMessages["ticks.subscribe"];' in stream
    assert '  | StreamMessages["ticks.update"];' in stream
    assert '"ticks.update": {' in schema
    assert 'type: "ticks.update";' in schema
    assert 'payload?: components["schemas"]["Tick"];' in schema
    assert "ServerMessage" in (package / "index.d.ts").read_text()
    assert json.loads((package / "package.json").read_text())["exports"]["./stream"] == {"types": "./stream.d.ts"}


@generated
def test_the_check_passes_when_fresh_and_lists_what_changed(made: dict[str, Any]) -> None:
    workspace: Path = made["workspace"]
    out = made["root"] / "clients"
    assert not any(r.stale for r in generate_typescript(made["sources"], out, check=True))

    (workspace / "packages" / "alpha-v1" / "schema.d.ts").write_text("// edited\n")
    (workspace / "packages" / "alpha-v1" / "extra.js").write_text("")
    (workspace / "packages" / "alpha-v2" / "README.md").unlink()
    lock_path = workspace / "package-lock.json"
    lock = json.loads(lock_path.read_text())
    lock["packages"]["packages/alpha-v2"]["version"] = "0.0.1"
    lock_path.write_text(json.dumps(lock))
    v1, v2 = generate_typescript(made["sources"], out, check=True)

    assert (v1.changed, v1.extra, v1.missing) == (["schema.d.ts"], ["extra.js"], [])
    assert v2.missing == ["README.md"]
    assert v2.changed == [
        f"package-lock.json (its entry of @trading/alpha-v2 {made['sources'][1].distribution_version})"
    ]
