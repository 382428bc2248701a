"""Third-party plugins: served with no change to our packages; a new API version is a folder and one line."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest
from harness import BIN, Serve, clean_env, run_cli

PYPROJECT = """
[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "trading-gizmo"
version = "{version}"
dependencies = ["trading-core>=1.0,<2"]

[project.entry-points."trading_api.modules"]
{entry_points}

[tool.hatch.build.targets.wheel]
packages = ["src/trading_gizmo"]
"""

MODULE = """
from trading_core import Module


class GizmoModule(Module):
    name = "gizmo"
"""

API = """
from trading_core import ModuleApi

from ..._module import GizmoModule


class GizmoApi(ModuleApi):
    module = GizmoModule
    version = "{version}"

    def __init__(self, module: GizmoModule) -> None:
        super().__init__(module)

        @self.get("/spec", operation_id="getSpec")
        async def spec() -> dict[str, str]:
            return {{"served_by": "{version}"}}
"""


def build_and_install(project: Path, site: Path) -> Path:
    """Build the project's wheel with hatchling and install it (a pure wheel unpacks into site-packages)."""
    out = project / "dist"
    shutil.rmtree(out, ignore_errors=True)
    subprocess.run(
        [sys.executable, "-c", f"from hatchling.build import build_wheel; build_wheel({str(out)!r})"],
        cwd=project,
        check=True,
        capture_output=True,
    )
    (wheel,) = out.glob("*.whl")
    for old in site.glob("trading_gizmo*"):
        shutil.rmtree(old)
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    return wheel


def write_project(project: Path, versions: list[str], release: str) -> None:
    lines = "\n".join(f'"gizmo.{v}" = "trading_gizmo.api.{v}:GizmoApi"' for v in versions)
    (project / "pyproject.toml").write_text(PYPROJECT.format(version=release, entry_points=lines))
    package = project / "src" / "trading_gizmo"
    (package / "api").mkdir(parents=True, exist_ok=True)
    (package / "__init__.py").write_text("")
    (package / "_module.py").write_text(textwrap.dedent(MODULE))
    (package / "api" / "__init__.py").write_text("")
    for version in versions:
        (package / "api" / version).mkdir(exist_ok=True)
        (package / "api" / version / "__init__.py").write_text(textwrap.dedent(API.format(version=version)))


def test_new_api_version_is_a_folder_and_one_entry_point_line(serve: Serve, tmp_path: Path) -> None:
    project, site = tmp_path / "gizmo", tmp_path / "site"
    project.mkdir()
    site.mkdir()
    write_project(project, ["v1"], "1.0.0")
    build_and_install(project, site)
    config = tmp_path / "trading.toml"
    config.write_text('[matrix.v1]\ncore = "v1"\ngizmo = "v1"\n\n[matrix.v3]\ncore = "v1"\ngizmo = "v3"\n')
    env = clean_env(PYTHONPATH=str(site))
    before = run_cli("matrix", "--check", cwd=tmp_path, env=env)
    assert before.returncode == 2
    assert "gizmo v3" in before.stderr
    assert "pip install 'trading-gizmo==3.*'" in before.stderr

    # The whole change for v3: a new api/v3/ package and one entry-point line.
    write_project(project, ["v1", "v3"], "3.0.0")
    build_and_install(project, site)
    assert run_cli("matrix", "--check", cwd=tmp_path, env=env).returncode == 0
    server = serve([str(BIN / "trading-host"), "serve", "--port", "{port}"], env=env)
    assert server.get("/api/v1/gizmo/spec").json() == {"served_by": "v1"}
    assert server.get("/api/v3/gizmo/spec").json() == {"served_by": "v3"}
    versions = {(v["module"], v["version"]): v for v in server.get("/api/v3/core/versions").json()}
    assert versions[("gizmo", "v3")]["distribution"] == "trading-gizmo"
    assert versions[("gizmo", "v3")]["distribution_version"] == "3.0.0"


@pytest.mark.modules("news")
def test_example_plugin_is_served_with_no_configuration(serve: Serve) -> None:
    server = serve([str(BIN / "trading-host"), "serve", "--port", "{port}"])
    for global_version in ("v1", "v2"):  # a module the matrix omits gets its newest version <= the global one
        response = server.get(f"/api/{global_version}/news/headlines")
        assert response.status_code == 200, response.text
        assert isinstance(response.json(), list | dict)
    versions = server.get("/api/v1/core/versions").json()
    news = next(v for v in versions if v["module"] == "news")
    assert news["distribution"] == "trading-news"
    assert news["global_versions"] == ["v1", "v2"]
