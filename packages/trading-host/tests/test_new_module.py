"""``trading-host new-module`` (the template shipped in the wheel) and ``trading-host specs`` for a
plugin's source tree: the documents of its modules go into its checkout, wherever it is installed.
tests/test_scaffold.py builds, installs, serves and tests a scaffolded plugin end to end."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from host_plugins import AlphaV1, AlphaV2
from typer.testing import CliRunner

from trading_host import Installed
from trading_host._contracts._committed import SpecsError, compare, generate, source_tree, write
from trading_host._scaffold._new import Names, new_module
from trading_host.cli import cli

runner = CliRunner()
PLUGIN = """
[project]
name = "trading-alpha"

[project.entry-points."trading_api.modules"]
"alpha.v1" = "host_plugins:AlphaV1"
"alpha.v2" = "host_plugins:AlphaV2"
"""


def plugin_tree(root: Path) -> Path:
    (root / "src" / "host_plugins").mkdir(parents=True)
    (root / "src" / "host_plugins" / "__init__.py").write_text("")
    (root / "pyproject.toml").write_text(PLUGIN)
    return root


@pytest.mark.parametrize("name", ["Bad-Name", "1quotes", "quotes-v1", ""])
def test_a_name_that_cannot_name_a_module_is_refused(tmp_path: Path, name: str) -> None:
    out = tmp_path / "out"
    out.mkdir()
    result = runner.invoke(cli, ["new-module", name, "--output", str(out)])
    assert result.exit_code == 2
    assert f"{name!r} cannot name a module" in result.output
    assert not any(out.iterdir())


def test_names_follow_the_platforms_conventions() -> None:
    names = Names.of("market_notes")
    assert (names.distribution, names.package, names.Class) == (
        "trading-market-notes",
        "trading_market_notes",
        "MarketNotes",
    )
    assert names.core_range.startswith(">=1.")
    assert names.core_range.endswith(",<2")


def test_a_folder_that_is_not_empty_is_left_alone(tmp_path: Path) -> None:
    (tmp_path / "trading-quotes").mkdir()
    (tmp_path / "trading-quotes" / "mine.txt").write_text("keep")
    result = runner.invoke(cli, ["new-module", "quotes", "--output", str(tmp_path)])
    assert result.exit_code == 2
    assert "exists and is not empty" in result.output
    assert [p.name for p in (tmp_path / "trading-quotes").iterdir()] == ["mine.txt"]


def test_the_scaffold_writes_its_committed_documents_from_its_code(tmp_path: Path) -> None:
    target, written = new_module("quotes", tmp_path)
    committed = target / "src" / "trading_quotes" / "specs_generated"
    assert committed / "quotes.v1.openapi.json" in written
    document = json.loads((committed / "quotes.v1.openapi.json").read_text())
    assert set(document["paths"]) == {"/items"}
    assert set(document["paths"]["/items"]) == {"get", "post"}
    streams = json.loads((committed / "quotes.v1.asyncapi.json").read_text())
    assert "items" in json.dumps(streams["channels"])
    assert not any("${" in path.read_text() for path in written if path.suffix in {".py", ".toml", ".md"})


def test_a_plugins_source_tree_names_its_modules_and_packages(tmp_path: Path) -> None:
    tree = source_tree(plugin_tree(tmp_path))
    assert tree is not None
    assert tree.modules == ("alpha",)
    assert tree.packages == {"host_plugins": (tmp_path / "src" / "host_plugins").resolve()}
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "pyproject.toml").write_text('[project]\nname = "not-a-plugin"\n')
    assert source_tree(tmp_path / "other") is None


def test_a_named_package_missing_from_the_tree_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(PLUGIN)
    with pytest.raises(SpecsError, match="names the package host_plugins, which is neither"):
        source_tree(tmp_path)


def test_documents_of_a_plugin_go_into_its_tree(tmp_path: Path) -> None:
    root = plugin_tree(tmp_path / "checkout")
    installed = Installed.from_apis([AlphaV1, AlphaV2], distribution="trading-alpha")
    specs = generate(modules=["alpha"], installed=installed, environ={}, source=source_tree(root))
    write(compare(specs), specs)
    folder = root / "src" / "host_plugins" / "specs_generated"
    assert sorted(p.name for p in folder.iterdir()) == ["alpha.v1.openapi.json", "alpha.v2.openapi.json"]


def test_specs_source_must_be_a_plugins_tree(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "not-a-plugin"\n')
    result = runner.invoke(cli, ["specs", "--source", str(tmp_path), "--check"])
    assert result.exit_code == 2
    assert "is not a plugin's source tree" in result.output
    assert "trading_api.modules" in result.output


def test_without_the_contracts_extra_nothing_is_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None if name == "jsonschema" else real(name))
    result = runner.invoke(cli, ["new-module", "quotes", "--output", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "needs jsonschema: pip install 'trading-host[contracts]'" in result.output
    assert not (tmp_path / "out").exists()


def test_check_of_an_installed_copy_points_to_the_plugins_tree(monkeypatch: pytest.MonkeyPatch) -> None:
    # A deployment: the plugin installed from a wheel (site-packages, faked), no source tree here.
    from trading_host._contracts import _committed

    monkeypatch.setattr(_committed, "discover", lambda: Installed.from_apis([AlphaV1], distribution="trading-alpha"))
    monkeypatch.setattr(_committed, "is_installed_copy", lambda folder: True)  # the command imports it as it runs
    result = runner.invoke(cli, ["specs", "--module", "alpha", "--check"])
    assert result.exit_code == 1
    assert "missing" in result.output
    assert "copies installed from wheels, not a checkout" in result.output
    assert "run `trading-host specs --check` in its source tree (or pass --source DIR)" in result.output
    assert "run `trading-host specs` to update them" not in result.output
