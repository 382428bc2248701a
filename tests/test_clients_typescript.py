"""The generated TypeScript clients (``clients/typescript/``) as a front end uses them: installed with
``npm ci`` from the committed lockfile, type-checked with ``tsc --noEmit``, and a Node program that
imports @trading/broker-v1, @trading/broker-v2, @trading/core-v1 and @trading/datafeed-v1 side by
side, places an order through v1, reads it through v2 and follows it on the v2 stream typed by the
AsyncAPI message types, against a live ``trading-host serve``.

One ``npm ci`` per module, in the test's own tmp folder (npm's own cache is the only thing outside).
Node and npm missing skips the tests, except under CI, where they must run."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from broker_support import broker_env, configured_key, serve_command, sqlite_database
from harness import Server, start_server

ROOT = Path(__file__).resolve().parents[1]
WORKSPACE = ROOT / "clients" / "typescript"
PACKAGES = ["broker-v1", "broker-v2", "core-v1", "datafeed-v1"]

pytestmark = [pytest.mark.modules("broker"), pytest.mark.independent, pytest.mark.xdist_group("clients-ts")]

if shutil.which("node") is None or shutil.which("npm") is None:
    if os.environ.get("CI"):  # CI must run these: install Node.js 20 or later and npm
        raise RuntimeError("node and npm are needed by tests/test_clients_typescript.py under CI: install Node.js")
    pytest.skip(
        "node and npm are not installed: install Node.js 20 or later to test the TypeScript clients",
        allow_module_level=True,
    )

TSCONFIG = {
    "compilerOptions": {
        "target": "ES2022",
        "module": "NodeNext",
        "moduleResolution": "NodeNext",
        "lib": ["ES2022", "DOM"],
        "types": [],
        "strict": True,
        "skipLibCheck": False,  # the generated declarations are checked too
        "outDir": "build",
    },
    "include": ["main.ts", "misuse.ts"],
}

PROGRAM = """\
import { apiVersion as v1Version, createBrokerApiV1 } from "@trading/broker-v1";
import {
  apiVersion as v2Version,
  createBrokerApiV2,
  type BrokerApiV2,
  type ClientMessage,
  type Schemas,
  type ServerMessage,
  type StreamMessages,
} from "@trading/broker-v2";
import { createCoreApiV1 } from "@trading/core-v1";
import { createDatafeedApiV1 } from "@trading/datafeed-v1";

declare const process: { argv: string[] };
const [server, token] = process.argv.slice(2);
const stream = server.replace(/^http/, "ws") + `/api/v2/broker/ws?access_token=${token}`;

const v1 = createBrokerApiV1({ baseUrl: `${server}/api/v1/broker` });
const v2: BrokerApiV2 = createBrokerApiV2({
  baseUrl: `${server}/api/v2/broker`,
  headers: { Authorization: `Bearer ${token}` },
});
const core = createCoreApiV1({ baseUrl: `${server}/api/v2/core` });
const datafeed = createDatafeedApiV1({ baseUrl: `${server}/api/v2/datafeed` });

function next(ws: WebSocket, wanted: (m: ServerMessage) => boolean): Promise<ServerMessage> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no such stream message within 10 s")), 10000);
    const listener = (event: MessageEvent) => {
      const message = JSON.parse(String(event.data)) as ServerMessage;
      if (wanted(message)) {
        clearTimeout(timer);
        ws.removeEventListener("message", listener);
        resolve(message);
      }
    };
    ws.addEventListener("message", listener);
  });
}

const ws = new WebSocket(stream);
await new Promise((resolve, reject) => {
  ws.addEventListener("open", resolve);
  ws.addEventListener("error", () => reject(new Error(`cannot open ${stream}`)));
});
const subscribe: ClientMessage = { type: "orders.subscribe", id: "s1", payload: { symbol: "AAPL" } };
const subscribed = next(ws, (m) => m.type === "orders.subscribe.response" || m.type === "error");
ws.send(JSON.stringify(subscribe));
const reply = await subscribed;
if (reply.type !== "orders.subscribe.response") throw new Error(`subscribe: ${JSON.stringify(reply)}`);

const updated = next(ws, (m) => m.type === "orders.update");
const placed = await v1.POST("/orders", {
  body: { symbol: "AAPL", quantity: 7, side: "BUY", order_type: "MARKET" },
});
if (placed.data === undefined) throw new Error(`v1 POST /orders: ${JSON.stringify(placed.error)}`);
const read = await v2.GET("/orders/{order_id}", { params: { path: { order_id: placed.data.id } } });
if (read.data === undefined) throw new Error(`v2 GET /orders/{order_id}: ${JSON.stringify(read.error)}`);
const order: Schemas["PlacedOrderV2"] = read.data;
const update = (await updated) as StreamMessages["orders.update"];
ws.close();

const wrongKey = createBrokerApiV2({
  baseUrl: `${server}/api/v2/broker`,
  headers: { Authorization: "Bearer tb_not_a_key" },
});
const unauthorized = await wrongKey.GET("/orders");
const health = await core.GET("/health");
const quotes = await datafeed.GET("/quotes", { params: { query: { symbols: "AAPL" } } });

console.log(JSON.stringify({
  versions: [v1Version, v2Version],
  placed: { id: placed.data.id, status: placed.data.status },
  read: { id: order.id, account: order.account, symbol: order.symbol, quantity: order.quantity },
  subscribed: reply.topic,
  update: { type: update.type, topic: update.topic, id: update.payload.id, symbol: update.payload.symbol },
  unauthorized: [unauthorized.response.status, unauthorized.error?.detail !== undefined],
  health: health.data?.status,
  quote: quotes.data?.d?.[0]?.n,
}));
"""

# Misuses the types must refuse, one per line, each with the TypeScript error it gets.
MISUSE = """\
import { createBrokerApiV1, type Schemas as V1 } from "@trading/broker-v1";
import { type ClientMessage } from "@trading/broker-v2";

const v1 = createBrokerApiV1({ baseUrl: "http://127.0.0.1:8000/api/v1/broker" });
export const noAccount = (order: V1["PlacedOrder"]) => order.account;
export const typo: ClientMessage = { type: "orders.subcribe" };
export const placed = v1.POST("/orders", { body: { symbol: "AAPL", side: "BUY", order_type: "MARKET" } });
export const noSuchPath = v1.GET("/order");
"""


def run(command: list[str], cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False, timeout=timeout)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the committed workspace, installed with ``npm ci``, holding the test's program in
    ``app/``."""
    folder = tmp_path_factory.mktemp("clients-ts") / "typescript"
    shutil.copytree(WORKSPACE, folder, ignore=shutil.ignore_patterns("node_modules"))
    installed = run(["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--prefer-offline"], folder, 300)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    app = folder / "app"
    app.mkdir()
    (app / "package.json").write_text(json.dumps({"private": True, "type": "module"}))
    (app / "tsconfig.json").write_text(json.dumps(TSCONFIG))
    (app / "main.ts").write_text(PROGRAM)
    (app / "misuse.ts").write_text(MISUSE)
    (app / "tsconfig.build.json").write_text(json.dumps(dict(TSCONFIG, include=["main.ts"])))
    return folder


def tsc(workspace: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run([str(workspace / "node_modules" / ".bin" / "tsc"), *args], workspace / "app")


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, dict[str, Any]]]:
    """A server on a SQLite file, and a v2 key for the account v1 acts on (``default``)."""
    folder = tmp_path_factory.mktemp("clients-ts-server")
    env = broker_env(sqlite_database(folder))
    key = configured_key("default", env)
    server = start_server(serve_command(), cwd=folder, env=env)
    yield server, key
    server.stop()


def test_the_workspace_holds_one_package_per_module_version_at_its_release(workspace: Path) -> None:
    lock = json.loads((workspace / "package-lock.json").read_text())
    for folder in PACKAGES:
        package = json.loads((workspace / "packages" / folder / "package.json").read_text())
        assert package["name"] == f"@trading/{folder}"
        assert lock["packages"][f"packages/{folder}"]["version"] == package["version"]
        assert (workspace / "node_modules" / "@trading" / folder / "index.js").is_file()
    broker = {json.loads((workspace / "packages" / f / "package.json").read_text())["version"] for f in PACKAGES[:2]}
    assert len(broker) == 1  # both broker versions come from one trading-broker release


@pytest.fixture(scope="module")
def checked(workspace: Path) -> dict[str, list[tuple[int, str]]]:
    """``tsc --noEmit`` over the program and the misuses (one run): the errors of each file, as
    (line, TypeScript error code)."""
    result = tsc(workspace, "--noEmit", "-p", ".")
    errors: dict[str, list[tuple[int, str]]] = {"main.ts": [], "misuse.ts": []}
    for line in result.stdout.splitlines():
        if ": error TS" in line and "(" in line:
            name, _, rest = line.partition("(")
            errors.setdefault(name, []).append((int(rest.split(",", 1)[0]), line.split(": error ", 1)[1][:6]))
    assert result.returncode == 0 or any(errors.values()), result.stdout + result.stderr
    return errors


def test_the_program_type_checks(checked: dict[str, list[tuple[int, str]]]) -> None:
    assert checked["main.ts"] == []
    assert set(checked) == {"main.ts", "misuse.ts"}  # no error in the generated declarations


def test_the_types_refuse_misuse(checked: dict[str, list[tuple[int, str]]]) -> None:
    misuse = sorted(checked["misuse.ts"])

    # v1 orders have no account (v2's do); no such message type; no quantity; no such path
    assert [line for line, _ in misuse] == [5, 6, 7, 8], misuse
    assert [code for _, code in misuse[:3]] == ["TS2339", "TS2820", "TS2322"], misuse


def test_a_node_program_uses_v1_v2_and_the_v2_stream_side_by_side(
    workspace: Path, live: tuple[Server, dict[str, Any]]
) -> None:
    server, key = live
    # Emitted without checking again (the types are checked above): TypeScript only strips them.
    built = tsc(workspace, "--noCheck", "-p", "tsconfig.build.json")
    assert built.returncode == 0, built.stdout + built.stderr
    node = ["node"]
    if run(["node", "-e", "process.exit(typeof WebSocket === 'function' ? 0 : 1)"], workspace).returncode:
        node.append("--experimental-websocket")  # Node 20 and 21: WebSocket behind a flag (22 has it)

    result = run([*node, "build/main.js", server.base_url, key["token"]], workspace / "app", timeout=60)

    assert result.returncode == 0, result.stdout + result.stderr
    out = json.loads(result.stdout.strip().splitlines()[-1])
    placed = out["placed"]["id"]
    assert out["versions"] == ["v1", "v2"]
    assert out["read"] == {"id": placed, "account": "default", "symbol": "AAPL", "quantity": 7}
    assert out["subscribed"] == 'orders:{"symbol":"AAPL"}'
    assert out["update"] == {"type": "orders.update", "topic": out["subscribed"], "id": placed, "symbol": "AAPL"}
    assert out["unauthorized"] == [401, True]  # the documented 401 body, typed as the error
    assert out["health"] == "ok"
    assert out["quote"] == "AAPL"
