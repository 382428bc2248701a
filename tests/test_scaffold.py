"""``trading-host new-module``, end to end: the installed host writes a plugin package, its wheel is
built (hatchling, as ``nox -s wheels`` builds ours) and installed next to the four packages, the host
serves it through the matrix, its own tests pass with no edit, and ``trading-host specs`` run in its
source tree reads and writes the tree, never the copy installed from the wheel.

The wheel is installed as the cookbook's test installs trading-alerts: unpacked into a folder on
PYTHONPATH, which is what installing a pure-Python wheel does (its package and its .dist-info).
"""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from harness import BIN, Serve, run_cli, with_pythonpath
from websockets.sync.client import connect

# One scaffolded plugin, built and installed once, for the module: one pytest-xdist process runs it.
pytestmark = [pytest.mark.independent, pytest.mark.xdist_group("scaffold")]

NAME = "quotes"
PACKAGE = "trading_quotes"


class Plugin:
    """The scaffolded source tree and the folder its wheel is installed into."""

    def __init__(self, tree: Path, site: Path) -> None:
        self.tree = tree
        self.site = site

    @property
    def committed(self) -> Path:
        return self.tree / "src" / PACKAGE / "specs_generated"

    @property
    def installed(self) -> Path:
        return self.site / PACKAGE / "specs_generated"

    def env(self, **extra: str) -> dict[str, str]:
        return with_pythonpath(self.site, **extra)


@pytest.fixture(scope="module")
def plugin(tmp_path_factory: pytest.TempPathFactory) -> Plugin:
    root = tmp_path_factory.mktemp("scaffold")
    made = run_cli("new-module", NAME, "--output", str(root), cwd=root)
    assert made.returncode == 0, made.stdout + made.stderr
    tree = root / "trading-quotes"
    assert f"next: cd {tree}" in made.stdout
    wheels = root / "wheels"
    build = [sys.executable, "-m", "hatchling", "build", "--target", "wheel", "--directory", str(wheels)]
    built = subprocess.run(build, cwd=tree, capture_output=True, text=True)
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel,) = wheels.glob("trading_quotes-1.0.0-*.whl")
    site = root / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    return Plugin(tree, site)


def test_the_scaffold_has_the_platforms_skeleton(plugin: Plugin) -> None:
    project = (plugin.tree / "pyproject.toml").read_text()
    assert '"quotes.v1" = "trading_quotes.api.v1:QuotesApi"' in project
    assert '"trading-core>=1.' in project
    assert ",<2" in project
    module = (plugin.tree / "src" / PACKAGE / "_module.py").read_text()
    assert "class QuotesModule(Module[QuotesSettings]):" in module
    assert "@asynccontextmanager" in module
    for name in ("test_conformance.py", "test_api_v1.py", "test_specs.py"):
        assert (plugin.tree / "tests" / name).is_file(), name
    assert sorted(p.name for p in plugin.committed.iterdir()) == ["quotes.v1.asyncapi.json", "quotes.v1.openapi.json"]
    # The wheel ships the committed documents, as ours do.
    assert sorted(p.name for p in plugin.installed.iterdir()) == sorted(p.name for p in plugin.committed.iterdir())


def test_the_host_serves_the_scaffolded_module_through_the_matrix(plugin: Plugin, serve: Serve) -> None:
    env = plugin.env()
    server = serve([str(BIN / "trading-host"), "serve", "--port", "{port}", "--enable", NAME], env=env)
    base = "/api/v1/quotes"
    with connect(server.base_url.replace("http", "ws", 1) + f"{base}/ws", open_timeout=10) as stream:
        stream.send(json.dumps({"type": "items.subscribe", "id": 1, "payload": {"symbol": "aapl"}}))
        assert json.loads(stream.recv(timeout=10))["type"] == "items.subscribe.response"
        made = server.post(f"{base}/items", json={"symbol": "aapl", "text": "hello"})
        update = json.loads(stream.recv(timeout=10))
    assert made.status_code == 200, made.text
    assert update["payload"] == {"id": 1, "symbol": "AAPL", "text": "hello"}
    assert server.get(f"{base}/items").json() == [{"id": 1, "symbol": "AAPL", "text": "hello"}]
    served = server.get("/api/v1/openapi.json").json()
    assert "/api/v1/quotes/items" in served["paths"]
    versions = {(v["module"], v["version"]): v for v in server.get("/api/v1/core/versions").json()}
    assert versions[("quotes", "v1")]["distribution"] == "trading-quotes"
    assert versions[("quotes", "v1")]["distribution_version"] == "1.0.0"


def test_the_scaffolded_plugins_own_tests_pass_with_no_edit(plugin: Plugin) -> None:
    # In its source tree, importing the installed wheel (src/ is not on the path).
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", "tests"]
    result = subprocess.run(command, cwd=plugin.tree, env=plugin.env(), capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert " passed" in result.stdout
    assert "failed" not in result.stdout


def test_specs_in_the_plugins_tree_reads_and_writes_the_tree_never_site_packages(plugin: Plugin) -> None:
    env = plugin.env()
    checked = run_cli("specs", "--check", cwd=plugin.tree, env=env)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.strip() == "2 documents match the code"  # its own; not the host's global ones

    # A document removed from the tree: `specs` writes it back there, and nothing into the installed copy.
    removed = plugin.committed / "quotes.v1.openapi.json"
    text = removed.read_text()
    removed.unlink()
    before = sorted(p.name for p in plugin.installed.iterdir())
    written = run_cli("specs", cwd=plugin.tree, env=env)
    assert written.returncode == 0, written.stdout + written.stderr
    assert "wrote src/trading_quotes/specs_generated/quotes.v1.openapi.json" in written.stdout
    assert removed.read_text() == text
    assert sorted(p.name for p in plugin.installed.iterdir()) == before
    # (From elsewhere, --source names the tree: the plugin's own tests/test_specs.py runs it.)
