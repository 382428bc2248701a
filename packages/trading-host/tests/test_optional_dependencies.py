"""Extras: what needs one says which to install when it is missing, instead of an ImportError."""

from __future__ import annotations

import sys

import pytest

from trading_host._contracts._reader import DocumentError, parse_document

YAML_DOCUMENT = """
openapi: 3.0.3
info: {title: t, version: '1'}
paths: {}
"""


def test_a_yaml_document_without_pyyaml_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "yaml", None)  # what `import yaml` meets when PyYAML is not installed

    with pytest.raises(DocumentError, match=r"reading YAML needs PyYAML: pip install 'trading-host\[contracts\]'"):
        parse_document(YAML_DOCUMENT, label="old.yaml")


def test_a_json_document_needs_no_pyyaml(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "yaml", None)

    assert (
        parse_document('{"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": {}}')["openapi"]
        == "3.1.0"
    )


def test_pyyaml_is_in_the_contracts_extra_not_a_requirement() -> None:
    from importlib.metadata import requires

    requirements = requires("trading-host") or []
    yaml = [r.replace('"', "'") for r in requirements if r.lower().startswith("pyyaml")]
    assert yaml
    assert any("extra == 'contracts'" in r for r in yaml)
    # The fleet extra writes Kubernetes and compose files with it too; neither is a requirement.
    assert all("extra == 'contracts'" in r or "extra == 'fleet'" in r for r in yaml)


def test_the_fleet_without_supervisord_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    from trading_host._fleet._runner import FleetError, _supervisor

    monkeypatch.setitem(sys.modules, "supervisor.xmlrpc", None)  # as when supervisor is not installed

    with pytest.raises(FleetError, match=r"pip install 'trading-host\[fleet\]'"):
        _supervisor("supervisor.xmlrpc")
