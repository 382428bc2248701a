"""`trading-host modules`: what is installed, read from package metadata."""

from __future__ import annotations

import os
from importlib import metadata
from pathlib import Path

import pytest
from fake_plugins import plugin
from harness import cli_json, run_cli, with_pythonpath

FIRST_PARTY = {
    "core": "trading-core",
    "broker": "trading-broker",
    "datafeed": "trading-datafeed",
    "news": "trading-news",
}


def test_lists_exactly_the_installed_modules(tmp_path: Path) -> None:
    payload = cli_json("modules", cwd=tmp_path)
    assert isinstance(payload, dict)
    listed = {row["module"] for row in payload["modules"]}
    expected = os.environ.get("TRADING_EXPECT_MODULES")
    if expected is not None:  # set by each nox session to the modules its wheels provide
        assert listed == set(expected.split(","))
    assert "core" in listed
    for row in payload["modules"]:
        assert row["distribution"] == FIRST_PARTY[row["module"]]
        assert row["distribution_version"] == metadata.version(row["distribution"])
        assert row["versions"] == list(row["entry_points"])
        assert all(v.startswith("v") for v in row["versions"])
    assert payload["invalid_entry_points"] == []


def test_broker_release_two_serves_v1_and_v2(tmp_path: Path) -> None:
    rows = {row["module"]: row for row in cli_json("modules", cwd=tmp_path)["modules"]}  # type: ignore[index]
    if "broker" in rows:
        assert rows["broker"]["versions"] == ["v1", "v2"]
        assert rows["broker"]["distribution_version"].startswith("2.")
    assert rows["core"]["versions"] == ["v1"]


def test_text_output_names_module_versions_and_distribution(tmp_path: Path) -> None:
    result = run_cli("modules", cwd=tmp_path)
    assert result.returncode == 0
    core = next(line for line in result.stdout.splitlines() if line.startswith("core"))
    assert "v1" in core
    assert f"trading-core {metadata.version('trading-core')}" in core


@pytest.mark.independent
def test_third_party_plugin_is_listed_without_being_imported(tmp_path: Path) -> None:
    site = tmp_path / "site"
    dist = plugin(site, "gadget", ["v1", "v2"], dist_version="2.1.0")
    # A plugin whose code cannot even be imported is still listed: listing reads metadata only.
    (site / "gadget_plugin" / "__init__.py").write_text("raise RuntimeError('imported!')\n")
    payload = cli_json("modules", cwd=tmp_path, env=with_pythonpath(site))
    rows = {row["module"]: row for row in payload["modules"]}  # type: ignore[index]
    assert rows["gadget"] == {
        "module": "gadget",
        "versions": ["v1", "v2"],
        "distribution": dist.name,
        "distribution_version": "2.1.0",
        "entry_points": {"v1": "gadget_plugin.api.v1:GadgetApi", "v2": "gadget_plugin.api.v2:GadgetApi"},
    }
