"""The core module's API v1: /health over every module's health, /versions over Platform.mounted."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from datetime import date
from types import MappingProxyType
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from trading_core import HealthCheck, Lifecycle, Module, ModuleContext, MountedVersion, Platform, midnight_utc
from trading_core.core import CoreModule
from trading_core.core import _module as core_module
from trading_core.core.api.v1 import CoreApi


class StubModule(Module):
    """A module whose health report a test sets."""

    name = "stub"

    def __init__(self, context: ModuleContext | None = None, report: dict[str, Any] | None = None) -> None:
        super().__init__(context)
        self.report = report if report is not None else {"status": "ok"}
        self.calls = 0

    async def health(self) -> dict[str, Any]:
        self.calls += 1
        return self.report


class RaisingModule(Module):
    name = "raising"

    async def health(self) -> dict[str, Any]:
        raise TimeoutError("gateway did not answer")


@pytest.fixture
def checks() -> dict[str, HealthCheck]:
    """The health checks the platform shows, as the host registers them."""
    return {}


@pytest.fixture
def platform(checks: dict[str, HealthCheck]) -> Platform:
    return Platform(health=MappingProxyType(checks))


@pytest.fixture
def client(platform: Platform, checks: dict[str, HealthCheck]) -> Iterator[TestClient]:
    core = CoreModule(ModuleContext(platform=platform))
    checks["core"] = core.health
    app = FastAPI()
    app.include_router(CoreApi(core))
    with TestClient(app) as test_client:
        yield test_client


def test_health_with_only_core_is_ok(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    # The core does not report on itself.
    assert response.json() == {"status": "ok", "modules": {}}


def test_health_reports_each_module(client: TestClient, checks: dict[str, HealthCheck]) -> None:
    stub = StubModule(report={"status": "ok", "orders": 3})
    checks["stub"] = stub.health
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "modules": {"stub": {"status": "ok", "orders": 3}}}
    assert stub.calls == 1


def test_health_is_503_when_a_module_is_down(client: TestClient, checks: dict[str, HealthCheck]) -> None:
    checks["stub"] = StubModule(report={"status": "ok"}).health
    checks["feed"] = StubModule(report={"status": "down", "reason": "no quotes"}).health
    response = client.get("/health")
    assert response.status_code == 503
    assert response.json() == {
        "status": "degraded",
        "modules": {"stub": {"status": "ok"}, "feed": {"status": "down", "reason": "no quotes"}},
    }


def test_a_report_without_ok_status_counts_as_down(client: TestClient, checks: dict[str, HealthCheck]) -> None:
    checks["stub"] = StubModule(report={"state": "fine"}).health
    response = client.get("/health")
    assert response.status_code == 503
    assert response.json()["status"] == "degraded"


def test_a_raising_health_check_is_reported_as_down(client: TestClient, checks: dict[str, HealthCheck]) -> None:
    checks["raising"] = RaisingModule().health
    checks["stub"] = StubModule().health
    response = client.get("/health")
    assert response.status_code == 503
    assert response.json() == {
        "status": "degraded",
        "modules": {
            "raising": {"status": "down", "error": "TimeoutError: gateway did not answer"},
            "stub": {"status": "ok"},
        },
    }


def test_versions_is_empty_before_anything_is_mounted(client: TestClient) -> None:
    response = client.get("/versions")
    assert response.status_code == 200
    assert response.json() == []


def test_versions_lists_platform_mounted(client: TestClient, platform: Platform) -> None:
    platform.mounted.extend(
        [
            MountedVersion("core", "v1", "trading-core", "1.0.0", ("v1", "v2")),
            MountedVersion("broker", "v1", "trading-broker", "2.0.1", ("v1",), status="deprecated"),
            MountedVersion("broker", "v2", "trading-broker", "2.0.1", ("v2",)),
        ]
    )
    response = client.get("/versions")
    assert response.status_code == 200
    assert response.json() == [
        {
            "module": "core",
            "version": "v1",
            "distribution": "trading-core",
            "distribution_version": "1.0.0",
            "global_versions": ["v1", "v2"],
            "status": "stable",
            **NO_LIFECYCLE,
        },
        {
            "module": "broker",
            "version": "v1",
            "distribution": "trading-broker",
            "distribution_version": "2.0.1",
            "global_versions": ["v1"],
            "status": "deprecated",
            **NO_LIFECYCLE,
        },
        {
            "module": "broker",
            "version": "v2",
            "distribution": "trading-broker",
            "distribution_version": "2.0.1",
            "global_versions": ["v2"],
            "status": "stable",
            **NO_LIFECYCLE,
        },
    ]


NO_LIFECYCLE = {"deprecation": None, "sunset": None, "successor": None, "migration_guide": None}


def stopped_at(moment: float) -> Callable[[], float]:
    """A clock that stays at ``moment``."""
    return lambda: moment


def test_versions_shows_the_lifecycle_status_at_the_platform_clock(client: TestClient, platform: Platform) -> None:
    lifecycle = Lifecycle(date(2026, 11, 1), date(2027, 6, 1), "v2", "/docs/broker/migration-v1-to-v2")
    platform.mounted.append(
        MountedVersion("broker", "v1", "trading-broker", "2.0.0", ("v1",), status="deprecated", lifecycle=lifecycle)
    )
    statuses = {}
    for label, moment in {
        "before": midnight_utc(date(2026, 11, 1)) - 1,
        "from deprecation": midnight_utc(date(2026, 11, 1)),
        "last second": midnight_utc(date(2027, 6, 1)) - 1,
        "from sunset": midnight_utc(date(2027, 6, 1)),
    }.items():
        platform.clock = stopped_at(moment)
        (entry,) = client.get("/versions").json()
        statuses[label] = entry.pop("status")
        assert entry == {
            "module": "broker",
            "version": "v1",
            "distribution": "trading-broker",
            "distribution_version": "2.0.0",
            "global_versions": ["v1"],
            "deprecation": "2026-11-01",
            "sunset": "2027-06-01",
            "successor": "v2",
            "migration_guide": "/docs/broker/migration-v1-to-v2",
        }
    assert statuses == {
        "before": "stable",
        "from deprecation": "deprecated",
        "last second": "deprecated",
        "from sunset": "sunset",
    }


def test_core_routes_have_stable_operation_ids() -> None:
    # Clients and the host's merged documents (core_getHealth) rely on these names.
    api = CoreApi(CoreModule())
    assert {route.path: route.operation_id for route in api.routes} == {  # type: ignore[attr-defined]
        "/health": "getHealth",
        "/versions": "listVersions",
    }


class HangingModule(Module):
    name = "hanging"

    async def health(self) -> dict[str, Any]:
        await asyncio.sleep(3600)
        return {"status": "ok"}


def test_a_hanging_health_check_is_down_after_the_timeout(
    client: TestClient, checks: dict[str, HealthCheck], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(core_module, "HEALTH_TIMEOUT", 0.05)
    checks["hanging"] = HangingModule().health
    checks["stub"] = StubModule().health
    response = client.get("/health")
    assert response.status_code == 503
    assert response.json()["modules"] == {
        "hanging": {"status": "down", "error": "no answer within 0.05 s"},
        "stub": {"status": "ok"},
    }
