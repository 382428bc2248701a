"""Installing by name from the release index: ``nox -s release`` lays every distribution's wheel and
sdist out as a PEP 503 index in dist/simple/; a real index server from PyPI (pypiserver) serves that
folder on loopback, and a fresh virtual environment installs from it by name, as a user would.

pypiserver sends a request for a project it does not hold (fastapi, ...) on to the public index (its
fallback), as a company's private index does; for the projects it holds (trading-core above all, a
name an unrelated public project also uses) it answers with ours only. The fresh environments are
made and filled with uv (fast); pip is used where its own message is what the test reads.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from harness import Serve, clean_env, free_port

ROOT = Path(__file__).resolve().parents[1]
INDEX = ROOT / "dist" / "simple"
# One index server and one fresh environment for the module: one pytest-xdist process runs it. The
# fresh environment installs its own releases of broker and datafeed, so the session's FastAPI and
# pydantic play no part: modules(...) keeps the test out of `lowest` (LOWEST_TESTS in noxfile.py).
pytestmark = [
    pytest.mark.independent,
    pytest.mark.modules("broker", "datafeed"),
    pytest.mark.xdist_group("release"),
]


def run(*args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    result = subprocess.run([str(a) for a in args], cwd=cwd, env=env or clean_env(), capture_output=True, text=True)
    assert result.returncode == 0, f"{args} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def index_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """dist/simple/ served by pypiserver on a free loopback port."""
    assert (INDEX / "trading-core" / "index.html").is_file(), f"no release index in {INDEX}: run `nox -s release`"
    log = tmp_path_factory.mktemp("pypiserver") / "server.log"
    port = free_port()
    with log.open("w") as handle:
        server = subprocess.Popen(
            [sys.executable, "-m", "pypiserver", "run", "-i", "127.0.0.1", "-p", str(port), str(INDEX)],
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}/simple/"
    try:
        for _ in range(200):
            assert server.poll() is None, log.read_text()
            try:
                if httpx.get(f"{url}trading-core/", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            subprocess.run(["sleep", "0.05"], check=True)
        else:
            raise AssertionError(f"pypiserver did not answer:\n{log.read_text()}")
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture(scope="module")
def venv(index_url: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh environment (with pip) holding what the README's Install section installs by name."""
    folder = tmp_path_factory.mktemp("fresh") / "venv"
    uv = [sys.executable, "-m", "uv"]
    run(*uv, "venv", "--quiet", "--seed", "--python", sys.executable, folder)
    python = folder / "bin" / "python"
    requirements = ["trading-host", "trading-broker==2.*", "trading-datafeed"]
    run(*uv, "pip", "install", "--quiet", "--python", python, "--index-url", index_url, *requirements)
    return folder


def test_the_index_lists_every_distribution_with_wheel_and_sdist() -> None:
    projects = sorted(p.name for p in INDEX.iterdir() if p.is_dir())
    assert {"trading-core", "trading-host", "trading-broker", "trading-datafeed", "trading-news"} <= set(projects)
    for project in projects:
        files = [p.name for p in (INDEX / project).iterdir() if p.name != "index.html"]
        assert any(f.endswith(".whl") for f in files), (project, files)
        assert any(f.endswith(".tar.gz") for f in files), (project, files)
        assert "#sha256=" in (INDEX / project / "index.html").read_text()


def test_installed_by_name_the_host_serves_broker_v1_and_v2(venv: Path, serve: Serve) -> None:
    server = serve([str(venv / "bin" / "trading-host"), "serve", "--port", "{port}"], env=clean_env())
    versions = server.get("/api/v2/core/versions").json()
    served = {(v["module"], v["version"]): v["global_versions"] for v in versions if v["module"] == "broker"}
    assert served == {("broker", "v1"): ["v1"], ("broker", "v2"): ["v2"]}, versions
    releases = {v["distribution"]: v["distribution_version"] for v in versions}
    assert releases.keys() == {"trading-core", "trading-broker", "trading-datafeed"}, releases
    assert releases["trading-broker"].startswith("2."), releases
    assert server.get("/api/v1/broker/orders").status_code == 200
    v2 = server.get("/api/v2/openapi.json").json()
    assert "/api/v2/broker/orders" in v2["paths"]
    assert "/api/v1/broker/orders" not in v2["paths"]


def test_a_release_line_the_index_does_not_have_is_pips_no_matching_distribution(
    venv: Path, index_url: str, tmp_path: Path
) -> None:
    pip = [venv / "bin" / "python", "-m", "pip", "install", "--index-url", index_url, "trading-broker==1.*"]
    result = subprocess.run([str(a) for a in pip], cwd=tmp_path, env=clean_env(), capture_output=True, text=True)
    assert result.returncode != 0
    assert "Could not find a version that satisfies the requirement trading-broker==1.*" in result.stderr
    assert "(from versions: 2." in result.stderr
    assert "No matching distribution found for trading-broker==1.*" in result.stderr


def test_the_plugin_guides_install_command_works_for_trading_news(venv: Path, index_url: str, tmp_path: Path) -> None:
    # The guide's command, in a copy of the example (an editable install reads its source tree).
    plugin = shutil.copytree(ROOT / "examples" / "trading-news", tmp_path / "trading-news")
    pip = venv / "bin" / "pip"
    run(pip, "install", "--quiet", "--index-url", index_url, "-e", ".[test]", cwd=plugin)
    run(venv / "bin" / "python", "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests", cwd=plugin)


def test_an_unrelated_trading_core_is_named_with_the_fix(venv: Path, tmp_path: Path) -> None:
    # What an install by name without our index gets: another project's trading-core (here a
    # distribution without our entry points, put first on the path).
    dist_info = tmp_path / "trading_core-0.3.1.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: trading-core\nVersion: 0.3.1\n")
    (tmp_path / "trading_core").mkdir()
    (tmp_path / "trading_core" / "__init__.py").write_text('"""Not ours."""\n')
    env = clean_env(PYTHONPATH=str(tmp_path))
    for command in (["modules"], ["matrix", "--check"]):
        args = [str(venv / "bin" / "trading-host"), *command]
        result = subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True)
        assert result.returncode == 2, result.stdout + result.stderr
        assert "the installed trading-core 0.3.1" in result.stderr
        assert "no entry point 'core.v1' in the group 'trading_api.modules'" in result.stderr
        assert "fix: pip uninstall -y trading-core && pip install --index-url" in result.stderr
        assert "Traceback" not in result.stderr
