"""Swagger UI and ReDoc render the served operations in a real headless Chromium with no internet:
every host but the server's own is unresolvable and every other address goes to a dead proxy, and
Chromium's network log shows the pages asked nothing of any other host (the pages' content
security policy blocks ReDoc's one hard-coded call, for its sidebar logo, before it is made).

The pages explain themselves: a deprecated version's operations and tag say why they are struck
through (the dates, the successor, a link to the migration guide), and Swagger UI's "Try it out"
with the request body's example, clicked in the browser through the DevTools protocol, places a
real order."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from harness import BIN, Server, clean_env, start_server
from websockets.sync.client import connect

CHROMIUM = shutil.which("chromium")

pytestmark = [
    pytest.mark.skipif(
        CHROMIUM is None, reason="needs Debian's chromium package (apt-get install -y chromium); CI installs it"
    ),
    pytest.mark.modules("broker"),
    pytest.mark.independent,
    pytest.mark.xdist_group("docs_browser"),  # the tests share one server
]


# Chromium without the internet: names other than the loopback address do not resolve, and any
# address that is not loopback goes to a proxy nobody listens on.
OFFLINE = ["--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1", "--proxy-server=http://127.0.0.1:9"]
HEADLESS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
# The shipped default deprecates broker v1 from 2026-11-01 until its sunset on 2027-06-01: the
# server's clock starts between the two, whatever the day the tests run.
DEPRECATED_NOW = "2027-01-15T00:00:00Z"
NOTICE = (
    "Deprecated: broker v1 is deprecated since 2026-11-01 and is sunset on 2027-06-01; from then on every "
    "request gets 410 Gone. Migrate to broker v2 (served at /api/v2/broker): see the migration guide."
)


@dataclass
class Page:
    dom: str
    requests: list[str]
    """Every URL the page itself requested (not Chromium's own background traffic)."""


def open_page(url: str, tmp_path: Path) -> Page:
    """Load ``url`` in headless Chromium, let its scripts run, and return the DOM and its requests."""
    assert CHROMIUM is not None
    profile = Path(tempfile.mkdtemp(prefix="chromium-", dir=tmp_path))  # a new, empty profile
    net_log = profile.with_name(profile.name + "-net.json")
    command = [
        CHROMIUM,
        *HEADLESS,
        "--disable-quic",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        *OFFLINE,
        f"--log-net-log={net_log}",
        "--virtual-time-budget=20000",
        "--dump-dom",
        url,
    ]
    # Its own session, so that a hung browser is ended with every process it started.
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        dom, errors = process.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise
    assert process.returncode == 0, errors
    return Page(dom, _page_requests(json.loads(net_log.read_text()), url))


def _page_requests(log: dict[str, Any], url: str) -> list[str]:
    """The URLs the page requested: its own URL and every request the page's origin initiated.
    Chromium's own traffic (update checks, autofill) has no initiator and is left out."""
    start = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    origin = "/".join(url.split("/", 3)[:3])  # http://127.0.0.1:PORT
    requests = [event.get("params", {}) for event in log["events"] if event["type"] == start]
    return [r["url"] for r in requests if r.get("url") == url or r.get("initiator") == origin]


def operation_ids(document: dict[str, Any]) -> set[str]:
    return {op["operationId"] for item in document["paths"].values() for op in item.values() if "operationId" in op}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server for both pages (they only read from it)."""
    server = start_server(
        [str(BIN / "trading-host"), "serve", "--port", "{port}"],
        cwd=tmp_path_factory.mktemp("docs"),
        env=clean_env(TRADING_NOW=DEPRECATED_NOW),
    )
    yield server
    server.stop()


def test_swagger_ui_renders_every_operation_of_each_global_version(server: Server, tmp_path: Path) -> None:
    for version, placed in (("v1", "broker_placeOrder"), ("v2", "broker_placeOrderV2")):
        document = server.get(f"/api/{version}/openapi.json").json()
        page = open_page(f"{server.base_url}/api/{version}/docs", tmp_path)

        expected = operation_ids(document)
        assert placed in expected
        # Swagger UI gives each rendered operation block the id operations-<tag>-<operationId>.
        missing = [op for op in expected if not re.search(rf'id="operations-[^"]*-{re.escape(op)}"', page.dom)]
        assert not missing, f"Swagger UI did not render {missing} at /api/{version}/docs"
        for path in document["paths"]:
            assert f'data-path="{path}"' in page.dom
        assert {r.rsplit("/", 1)[1] for r in page.requests} >= {
            "docs",
            "swagger-ui.css",
            "swagger-ui-bundle.js",
            "openapi.json",
        }
        assert all(r.startswith(server.base_url + "/") for r in page.requests), page.requests


def test_redoc_renders_every_operation(server: Server, tmp_path: Path) -> None:
    document = server.get("/api/v1/openapi.json").json()

    page = open_page(f"{server.base_url}/api/v1/redoc", tmp_path)

    # ReDoc gives each operation section the id tag/<tag>/operation/<operationId>.
    missing = [op for op in operation_ids(document) if f'/operation/{op}"' not in page.dom]
    assert not missing, f"ReDoc did not render {missing}"
    assert {r.rsplit("/", 1)[1] for r in page.requests} >= {"redoc", "redoc.standalone.js", "openapi.json"}
    assert all(r.startswith(server.base_url + "/") for r in page.requests), page.requests


def test_a_deprecated_version_says_why_on_both_pages(server: Server, tmp_path: Path) -> None:
    swagger = open_page(f"{server.base_url}/api/v1/docs", tmp_path)
    redoc = open_page(f"{server.base_url}/api/v1/redoc", tmp_path)
    current = open_page(f"{server.base_url}/api/v2/docs", tmp_path)

    # Swagger UI shows each tag's description in its header, operations folded.
    tag = re.search(r'<h3[^>]*id="operations-tag-broker".*?</h3>', swagger.dom, re.S)
    assert tag is not None, "Swagger UI rendered no broker tag at /api/v1/docs"
    assert NOTICE in _text(tag.group(0))
    assert 'href="/docs/broker/migration-v1-to-v2"' in tag.group(0)
    # ReDoc shows every operation's description: each broker operation carries the notice.
    broker_operations = [
        op for op in operation_ids(server.get("/api/v1/openapi.json").json()) if op.startswith("broker")
    ]
    assert _text(redoc.dom).count(NOTICE) >= len(broker_operations) > 0
    assert "Deprecated:" not in _text(current.dom)
    # The page's link leads to the guide itself.
    guide = server.get("/docs/broker/migration-v1-to-v2")
    assert guide.status_code == 200
    assert guide.text.startswith("# Migrating from broker API v1 to v2\n")


# Runs in the Swagger UI page: unfolds the operation, clicks "Try it out" and "Execute" as a person
# would, and returns what the page showed. Swagger UI's own class names, stable across its 5.x releases.
TRY_IT_OUT = r"""
(async () => {
  const wait = async (find, what) => {
    for (let i = 0; i < 600; i++) {
      const found = find();
      if (found) return found;
      await new Promise(resolve => setTimeout(resolve, 50));
    }
    throw new Error("Swagger UI never showed " + what);
  };
  const block = await wait(() => document.getElementById("operations-broker-broker_placeOrder"), "the operation");
  block.querySelector(".opblock-summary-control").click();
  (await wait(() => block.querySelector(".try-out__btn"), "Try it out")).click();
  const example = (await wait(() => block.querySelector("textarea.body-param__text"), "the body editor")).value;
  (await wait(() => block.querySelector("button.execute"), "Execute")).click();
  const status = await wait(
    () => block.querySelector(".live-responses-table tbody .response-col_status")?.textContent.trim(), "the response"
  );
  const body = block.querySelector(".live-responses-table tbody .response-col_description pre")?.textContent;
  const description = block.querySelector(".opblock-description-wrapper");
  return JSON.stringify({
    example, status, body, description: description?.innerText,
    guide: description?.querySelector("a")?.getAttribute("href")
  });
})()
"""


def test_try_it_out_places_a_real_order_from_the_example(server: Server, tmp_path: Path) -> None:
    shown = run_in_page(f"{server.base_url}/api/v1/docs", TRY_IT_OUT, tmp_path)

    assert json.loads(shown["example"]) == {"symbol": "AAPL", "quantity": 100, "order_type": "MARKET"}
    assert shown["status"] == "200", shown
    order = json.loads(shown["body"])
    assert (order["symbol"], order["quantity"], order["status"]) == ("AAPL", 100, "filled")
    assert server.get(f"/api/v1/broker/orders/{order['id']}").json() == order  # placed for real
    assert shown["description"].startswith(NOTICE)
    assert shown["guide"] == "/docs/broker/migration-v1-to-v2"


def _text(fragment: str) -> str:
    """The text of an HTML fragment as a reader sees it: no tags, entities decoded, spaces collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", fragment)).split())


def run_in_page(url: str, script: str, tmp_path: Path) -> dict[str, Any]:
    """Open ``url`` in headless Chromium, run ``script`` (an expression whose promise resolves to
    JSON) in the page through the DevTools protocol, and return what it resolved to."""
    assert CHROMIUM is not None
    profile = Path(tempfile.mkdtemp(prefix="chromium-", dir=tmp_path))
    command = [CHROMIUM, *HEADLESS, f"--user-data-dir={profile}", *OFFLINE, "--remote-debugging-port=0", url]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        # Chromium writes the port it chose to this file of the profile once it listens.
        port_file = profile / "DevToolsActivePort"
        for _ in range(600):
            if port_file.is_file() and "\n" in port_file.read_text():
                break
            assert process.poll() is None, "chromium ended before it listened"
            time.sleep(0.05)
        port = int(port_file.read_text().split()[0])
        targets = httpx.get(f"http://127.0.0.1:{port}/json/list", trust_env=False).json()
        page = next(t for t in targets if t["type"] == "page")
        with connect(page["webSocketDebuggerUrl"], max_size=None, open_timeout=30) as devtools:
            calls = iter(range(1, 1_000))

            def evaluate(expression: str) -> dict[str, Any]:
                call = next(calls)
                params = {"expression": expression, "awaitPromise": True, "returnByValue": True}
                devtools.send(json.dumps({"id": call, "method": "Runtime.evaluate", "params": params}))
                while (reply := json.loads(devtools.recv(timeout=60))).get("id") != call:
                    pass
                assert "result" in reply, reply  # a protocol error
                return dict(reply["result"])

            # The page may still be about:blank, or loading: a script run then would be lost.
            loaded = f"location.href === {json.dumps(url)} && document.readyState === 'complete'"
            for _ in range(600):
                if evaluate(loaded)["result"].get("value") is True:
                    break
                time.sleep(0.05)
            result = evaluate(script)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    assert "exceptionDetails" not in result, result["exceptionDetails"]
    shown: dict[str, Any] = json.loads(result["result"]["value"])
    return shown


READ_GUIDE = r"""
(async () => JSON.stringify({
  title: document.title,
  headings: [...document.querySelectorAll("h1, h2")].map(h => h.textContent),
  tables: document.querySelectorAll("table").length,
  code: document.querySelectorAll("pre code").length,
  // The page's one stylesheet is inline, allowed by its hash in the content security policy.
  width: getComputedStyle(document.body).maxWidth,
  back: document.querySelector("nav a")?.getAttribute("href"),
  links: [...document.querySelectorAll("main a")].map(a => a.getAttribute("href")),
}))()
"""


def test_a_browser_reads_the_migration_guide_as_a_page(server: Server, tmp_path: Path) -> None:
    url = f"{server.base_url}/docs/broker/migration-v1-to-v2"
    shown = run_in_page(url, READ_GUIDE, tmp_path)
    page = open_page(url, tmp_path)
    markdown = server.get("/docs/broker/migration-v1-to-v2", headers={"Accept": "text/markdown"})

    assert shown["title"] == "broker: Migrating from broker API v1 to v2"
    assert shown["headings"][0] == "Migrating from broker API v1 to v2"
    assert "1. Get an API key" in shown["headings"]
    assert shown["tables"] >= 1
    assert shown["code"] >= 1
    assert shown["width"] == "800px"  # 50rem: the stylesheet applied, not blocked
    assert shown["back"] == "/docs/broker/"
    assert all(r.startswith(server.base_url + "/") for r in page.requests), page.requests
    # A client that asks for Markdown still gets Markdown.
    assert markdown.headers["content-type"] == "text/markdown; charset=utf-8"
    assert markdown.text.startswith("# Migrating from broker API v1 to v2\n")
