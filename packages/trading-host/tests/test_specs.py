"""``trading-host specs``: the documents it writes (names, content, determinism, validity), the
staleness check, the breaking-change guard on released baselines, and where files go."""

from __future__ import annotations

import json
import sysconfig
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from host_fakes import FakeSite, factory_for, plugin_distribution
from host_plugins import AlphaV1, AlphaV2, BetaV1
from host_streams import QuietV1, TickerV1, TickerV2
from openapi_spec_validator import validate
from typer.testing import CliRunner

from trading_core.core.api.v1 import CoreApi
from trading_host import ConfigError, Installed, module_openapi
from trading_host._contracts import _committed as specs_module
from trading_host._contracts._committed import SpecsError, compare, generate, is_installed_copy, render, write
from trading_host._documents._asyncapi import module_asyncapi
from trading_host.cli import cli

runner = CliRunner()

CONFIG = """
[matrix.v1]
core = "v1"
ticker = "v1"
alpha = "v1"

[matrix.v2]
ticker = "v2"
alpha = "v2"
"""
ALL = [CoreApi, TickerV1, TickerV2, AlphaV1, AlphaV2, BetaV1, QuietV1]
NAMES = {
    "core.v1.openapi.json",
    "ticker.v1.openapi.json",
    "ticker.v1.asyncapi.json",
    "ticker.v2.openapi.json",
    "ticker.v2.asyncapi.json",
    "alpha.v1.openapi.json",
    "alpha.v2.openapi.json",
    "beta.v1.openapi.json",
    "quiet.v1.openapi.json",
    "global-v1.openapi.json",
    "global-v2.openapi.json",
}


@pytest.fixture
def setup(tmp_path: Path) -> dict[str, Any]:
    config = tmp_path / "config.toml"
    config.write_text(CONFIG)
    return {"config": config, "installed": Installed.from_apis(ALL, distribution="trading-test"), "environ": {}}


def generated(out: Path, setup: dict[str, Any], **options: Any) -> Any:
    return generate(out=out, **setup, **options)


def write_all(out: Path, setup: dict[str, Any], **options: Any) -> None:
    specs = generated(out, setup, **options)
    assert write(compare(specs), specs) == []


def invoke(setup: dict[str, Any], *args: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Run ``trading-host specs`` on the test modules (discovery replaced by ``setup``)."""
    monkeypatch.setattr(specs_module, "discover", lambda: setup["installed"])
    return runner.invoke(cli, ["specs", "--config", str(setup["config"]), *args])


def test_every_document_is_written_with_stable_names_and_content(tmp_path: Path, setup: dict[str, Any]) -> None:
    out = tmp_path / "out"
    write_all(out, setup)

    assert {p.name for p in out.iterdir()} == NAMES
    alpha = json.loads((out / "alpha.v2.openapi.json").read_text())
    assert alpha == module_openapi(AlphaV2(AlphaV2.module()))
    streams = json.loads((out / "ticker.v1.asyncapi.json").read_text())
    assert streams == module_asyncapi(TickerV1(TickerV1.module()))
    text = (out / "alpha.v2.openapi.json").read_text()
    assert text == render(alpha)
    assert text.endswith("}\n")
    assert list(json.loads(text)) == sorted(json.loads(text))  # keys sorted: diffs stay small


def test_a_second_run_writes_the_same_bytes(tmp_path: Path, setup: dict[str, Any]) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    write_all(first, setup)
    write_all(second, setup)

    for path in first.iterdir():
        assert path.read_bytes() == (second / path.name).read_bytes(), path.name


def test_every_document_validates(tmp_path: Path, setup: dict[str, Any]) -> None:
    out = tmp_path / "out"
    write_all(out, setup)

    for path in out.glob("*.openapi.json"):
        validate(json.loads(path.read_text()))
    from trading_host._contracts._validation import asyncapi_errors

    for path in out.glob("*.asyncapi.json"):
        assert asyncapi_errors(json.loads(path.read_text())) == [], path.name


def test_an_invalid_document_is_not_written(
    tmp_path: Path, setup: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(api: Any) -> dict[str, Any]:
        return {"openapi": "3.1.0", "info": {"title": "no version"}, "paths": {}}

    monkeypatch.setattr(specs_module, "module_openapi", broken)

    with pytest.raises(SpecsError, match="invalid documents generated"):
        generated(tmp_path / "out", setup)
    assert not (tmp_path / "out").exists()


def test_global_documents_are_what_the_app_serves(tmp_path: Path, setup: dict[str, Any]) -> None:
    out = tmp_path / "out"
    write_all(out, setup)
    factory = factory_for(setup["installed"], {"ENABLED_MODULES": "ticker,alpha"}, config=setup["config"])

    with TestClient(factory.create_app()) as client:
        served = {g: client.get(f"/api/{g}/openapi.json").json() for g in ("v1", "v2")}

    for global_version in ("v1", "v2"):
        committed = json.loads((out / f"global-{global_version}.openapi.json").read_text())
        assert committed == served[global_version]
    # a row covers the modules it names (and core): beta and quiet are installed but not named
    paths = json.loads((out / "global-v1.openapi.json").read_text())["paths"]
    assert {p.split("/")[3] for p in paths} == {"core", "ticker", "alpha"}


def test_a_row_naming_a_module_that_is_not_installed_is_a_clear_error(tmp_path: Path, setup: dict[str, Any]) -> None:
    setup["installed"] = Installed.from_apis([CoreApi, TickerV1, TickerV2])

    with pytest.raises(
        ConfigError, match=r"(?s)global version v1 of the matrix in .*config.toml names module 'alpha'.*--module NAME"
    ):
        generated(tmp_path / "out", setup)
    assert {f.key for f in generated(tmp_path / "out", setup, modules=["ticker"]).files} == {"ticker.v1", "ticker.v2"}


def test_modules_option_skips_the_global_documents(tmp_path: Path, setup: dict[str, Any]) -> None:
    specs = generated(tmp_path / "out", setup, modules=["ticker"])

    assert sorted(f.path.name for f in specs.files) == [
        "ticker.v1.asyncapi.json",
        "ticker.v1.openapi.json",
        "ticker.v2.asyncapi.json",
        "ticker.v2.openapi.json",
    ]
    with pytest.raises(SpecsError, match="module nope is not installed"):
        generated(tmp_path / "out", setup, modules=["nope"])


def test_check_lists_changed_missing_and_stale_files(
    tmp_path: Path, setup: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    write_all(out, setup)
    assert invoke(setup, "--out", str(out), "--check", monkeypatch=monkeypatch).exit_code == 0

    (out / "quiet.v1.openapi.json").unlink()
    edited = json.loads((out / "ticker.v1.asyncapi.json").read_text())
    edited["info"]["title"] = "edited"
    (out / "ticker.v1.asyncapi.json").write_text(render(edited))
    (out / "ticker.v9.openapi.json").write_text((out / "ticker.v1.openapi.json").read_text())
    (out / "notes.txt").write_text("not a document: left alone")
    result = invoke(setup, "--out", str(out), "--check", monkeypatch=monkeypatch)

    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    assert any(line.split() == ["missing", str(out / "quiet.v1.openapi.json")] for line in lines)
    assert any(line.split() == ["changed", str(out / "ticker.v1.asyncapi.json")] for line in lines)
    assert any(line.split() == ["stale", str(out / "ticker.v9.openapi.json")] for line in lines)
    assert "notes.txt" not in result.output
    assert not (out / "quiet.v1.openapi.json").exists()  # --check writes nothing


def baseline_with_more(out: Path, name: str) -> None:
    """Make the committed document promise what the code does not do: an extra operation and an
    extra response field, as if the code had removed them."""
    path = out / name
    document = json.loads(path.read_text())
    document["paths"]["/items/{item_id}"] = {
        "delete": {
            "operationId": "deleteItem",
            "parameters": [{"name": "item_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
            "responses": {"204": {"description": "deleted"}},
        }
    }
    document["components"]["schemas"]["Item"]["properties"]["price"] = {"type": "number"}
    document["components"]["schemas"]["Item"]["required"].append("price")
    path.write_text(render(document))


def test_the_guard_catches_a_breaking_change_against_the_committed_baseline(
    tmp_path: Path, setup: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    write_all(out, setup)
    assert invoke(setup, "--out", str(out), "--guard", monkeypatch=monkeypatch).exit_code == 0

    baseline_with_more(out, "alpha.v2.openapi.json")
    result = invoke(setup, "--out", str(out), "--guard", monkeypatch=monkeypatch)

    assert result.exit_code == 1, result.output
    assert "alpha.v2.openapi.json" in result.output
    assert "DELETE /items/{item_id}" in result.output
    assert "price" in result.output
    assert "breaking" in result.output
    assert "global-v2" not in result.output  # the global baseline was left as it was: nothing broke it


def test_the_guard_accepts_additive_changes_that_check_reports(
    tmp_path: Path, setup: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    write_all(out, setup)
    document = json.loads((out / "alpha.v2.openapi.json").read_text())
    del document["paths"]["/where"]  # the code has an operation the baseline lacks: an addition
    (out / "alpha.v2.openapi.json").write_text(render(document))

    guard = invoke(setup, "--out", str(out), "--guard", monkeypatch=monkeypatch)
    check = invoke(setup, "--out", str(out), "--check", monkeypatch=monkeypatch)

    assert guard.exit_code == 0, guard.output
    assert "1 changed without breaking" in guard.output
    assert check.exit_code == 1
    assert "endpoint-added" in check.output


def test_a_removed_version_is_a_breaking_change(
    tmp_path: Path, setup: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    write_all(out, setup)
    (out / "alpha.v3.openapi.json").write_text((out / "alpha.v2.openapi.json").read_text())

    result = invoke(setup, "--out", str(out), "--guard", monkeypatch=monkeypatch)

    assert result.exit_code == 1
    assert "stale" in result.output
    assert "alpha.v3.openapi.json" in result.output


def test_writing_refuses_to_break_a_baseline_unless_allowed(
    tmp_path: Path, setup: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    write_all(out, setup)
    baseline_with_more(out, "alpha.v2.openapi.json")
    broken_baseline = (out / "alpha.v2.openapi.json").read_text()
    (out / "ticker.v1.openapi.json").unlink()

    refused = invoke(setup, "--out", str(out), monkeypatch=monkeypatch)

    assert refused.exit_code == 1
    assert "--allow-breaking alpha.v2" in refused.output
    assert (out / "alpha.v2.openapi.json").read_text() == broken_baseline  # left alone
    assert (out / "ticker.v1.openapi.json").is_file()  # the rest was written

    allowed = invoke(setup, "--out", str(out), "--allow-breaking", "alpha.v2", monkeypatch=monkeypatch)

    assert allowed.exit_code == 0, allowed.output
    assert invoke(setup, "--out", str(out), "--check", monkeypatch=monkeypatch).exit_code == 0


def test_default_mode_writes_into_the_modules_package(site: FakeSite, tmp_path: Path) -> None:
    package = plugin_distribution(site, "trading-gamma", "1.0.0", "gamma", ["v1", "v2"])

    specs = generate(modules=["gamma"], environ={})
    assert write(compare(specs), specs) == []

    folder = site.root / package / "specs_generated"
    assert sorted(p.name for p in folder.iterdir()) == ["gamma.v1.openapi.json", "gamma.v2.openapi.json"]
    assert compare(generate(modules=["gamma"], environ={})) == []
    assert not is_installed_copy(folder)


def test_a_wheels_installed_copy_is_never_written(monkeypatch: pytest.MonkeyPatch, setup: dict[str, Any]) -> None:
    assert is_installed_copy(Path(sysconfig.get_paths()["purelib"]) / "some_package" / "specs_generated")
    monkeypatch.setattr(specs_module, "is_installed_copy", lambda folder: True)

    result = invoke(setup, "--module", "ticker", monkeypatch=monkeypatch)

    assert result.exit_code == 2
    assert "inside installed wheels" in result.output
    assert "--out DIR" in result.output


def test_check_and_guard_together_is_a_usage_error(setup: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    result = invoke(setup, "--check", "--guard", monkeypatch=monkeypatch)

    assert result.exit_code == 2
    assert "one of --check and --guard" in result.output
