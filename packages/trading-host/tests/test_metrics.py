"""Usage metrics at /metrics: requests by module version and status class, latency, calls to
deprecated versions by client, the switch, configuration problems and multiprocess set-up."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from host_fakes import write_config
from host_plugins import AlphaV1, AlphaV2, BetaV1, CoreApi
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import WebSocketDenialResponse

from trading_host import AppFactory, Installed
from trading_host._wrappers._multiprocess import MULTIPROC_ENV, multiprocess_metrics
from trading_host._wrappers._recorders import LocalRecorder, SharedRecorder

DEPRECATED_AT = 1798761600  # 2027-01-01T00:00:00Z
SUNSET_AT = 1814400000  # 2027-07-01T00:00:00Z
DEPRECATE_ALPHA_V1 = """
[lifecycle.alpha.v1]
status = "deprecated"
deprecation = 2027-01-01
sunset = 2027-07-01
successor = "v2"
migration_guide = "https://example.org/alpha"
"""


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def samples(client: TestClient, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    """The samples called ``name`` in the scrape, by their sorted labels."""
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    found = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            if sample.name == name:
                found[tuple(sorted(sample.labels.items()))] = sample.value
    return found


def labels(**values: str) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(values.items()))


def app_for(installed: Installed, path: Path, text: str = "", *, clock: Clock | None = None, **environ: str) -> Any:
    return AppFactory(write_config(path, text), environ=environ, installed=installed, clock=clock).create_app()


def test_requests_are_counted_by_module_version_global_version_and_status_class(
    installed: Installed, tmp_path: Path
) -> None:
    with TestClient(app_for(installed, tmp_path / "c.toml")) as client:
        for _ in range(3):
            client.get("/api/v1/alpha/items")
        client.post("/api/v2/alpha/items", json={"name": "x"})
        client.post("/api/v2/alpha/items", json={"wrong": "x"})  # 422
        client.get("/api/v2/alpha/nothing")  # the router's own 404
        client.get("/api/v1/core/health")
        client.get("/api/v9/alpha/items")  # not served: not a module version, not counted
        requests = samples(client, "trading_api_requests_total")
        latency = samples(client, "trading_api_request_duration_seconds_count")

    assert requests == {
        labels(module="alpha", version="v1", global_version="v1", status_class="2xx"): 3,
        labels(module="alpha", version="v2", global_version="v2", status_class="2xx"): 1,
        labels(module="alpha", version="v2", global_version="v2", status_class="4xx"): 2,
        labels(module="core", version="v1", global_version="v1", status_class="2xx"): 1,
    }
    assert latency[labels(module="alpha", version="v1", global_version="v1")] == 3
    assert latency[labels(module="alpha", version="v2", global_version="v2")] == 3


def test_websocket_handshakes_are_counted(installed: Installed, tmp_path: Path) -> None:
    with TestClient(app_for(installed, tmp_path / "c.toml")) as client:
        with client.websocket_connect("/api/v2/beta/ws") as ws:
            ws.send_text("hi")
            ws.receive_text()
        requests = samples(client, "trading_api_requests_total")
    assert requests[labels(module="beta", version="v1", global_version="v2", status_class="1xx")] == 1


def deprecated_calls(client: TestClient) -> dict[str, float]:
    found = samples(client, "trading_api_deprecated_requests_total")
    return {dict(k)["client"]: v for k, v in found.items() if dict(k)["module"] == "alpha"}


def test_calls_to_a_deprecated_version_are_counted_by_hashed_api_key(installed: Installed, tmp_path: Path) -> None:
    clock = Clock(DEPRECATED_AT - 1)
    secret = "s3cret-token-of-a-client"
    digest = hashlib.sha256(secret.encode()).hexdigest()
    with TestClient(app_for(installed, tmp_path / "c.toml", DEPRECATE_ALPHA_V1, clock=clock)) as client:
        client.get("/api/v1/alpha/items", headers={"Authorization": f"Bearer {secret}"})  # not deprecated yet
        clock.now = DEPRECATED_AT
        client.get("/api/v1/alpha/items", headers={"Authorization": f"Bearer {secret}"})
        client.get("/api/v1/alpha/items", headers={"X-API-Key": secret})
        client.get("/api/v1/alpha/items")
        client.get("/api/v2/alpha/items", headers={"Authorization": f"Bearer {secret}"})  # a stable version
        clock.now = SUNSET_AT
        gone = client.get("/api/v1/alpha/items", headers={"Authorization": f"Bearer {secret}"})
        calls = deprecated_calls(client)
        scrape = client.get("/metrics").text
        requests = samples(client, "trading_api_requests_total")

    assert gone.status_code == 410
    assert calls == {f"key:{digest[:16]}": 3, "anonymous": 1}
    assert secret not in scrape
    assert requests[labels(module="alpha", version="v1", global_version="v1", status_class="4xx")] == 1


@pytest.mark.parametrize(
    ("client_setting", "headers", "expected"),
    [
        ("header:X-Client-Id", {"X-Client-Id": "mobile-app"}, "mobile-app"),
        ("cookie:client", {"Cookie": "theme=dark; client=web-shop"}, "web-shop"),
        ("header:X-Client-Id", {}, "anonymous"),
    ],
)
def test_the_client_may_be_a_configured_header_or_cookie(
    installed: Installed, tmp_path: Path, client_setting: str, headers: dict[str, str], expected: str
) -> None:
    text = f'[metrics]\nclient = "{client_setting}"\n' + DEPRECATE_ALPHA_V1
    with TestClient(app_for(installed, tmp_path / "c.toml", text, clock=Clock(DEPRECATED_AT))) as client:
        client.get("/api/v1/alpha/items", headers=headers)
        assert deprecated_calls(client) == {expected: 1}


def test_distinct_clients_are_capped(installed: Installed, tmp_path: Path) -> None:
    text = '[metrics]\nclient = "header:X-Client-Id"\nmax_clients = 2\n' + DEPRECATE_ALPHA_V1
    with TestClient(app_for(installed, tmp_path / "c.toml", text, clock=Clock(DEPRECATED_AT))) as client:
        for name in ("a", "b", "c", "d", "a"):
            client.get("/api/v1/alpha/items", headers={"X-Client-Id": name})
        assert deprecated_calls(client) == {"a": 2, "b": 1, "other": 2}


def test_a_denied_websocket_of_a_sunset_version_is_counted(tmp_path: Path) -> None:
    beta_v2 = type("BetaV2", (BetaV1,), {"version": "v2"})
    installed = Installed.from_apis([CoreApi, AlphaV1, AlphaV2, BetaV1, beta_v2])
    text = DEPRECATE_ALPHA_V1.replace("alpha", "beta") + '[matrix.v1]\nbeta = "v1"\n[matrix.v2]\nbeta = "v2"\n'
    with TestClient(app_for(installed, tmp_path / "c.toml", text, clock=Clock(SUNSET_AT))) as client:
        with pytest.raises(WebSocketDenialResponse), client.websocket_connect("/api/v1/beta/ws"):
            pass
        requests = samples(client, "trading_api_requests_total")
    assert requests[labels(module="beta", version="v1", global_version="v1", status_class="4xx")] == 1


def test_metrics_can_be_switched_off(installed: Installed, tmp_path: Path) -> None:
    with TestClient(app_for(installed, tmp_path / "c.toml", "[metrics]\nenabled = false\n")) as client:
        assert client.get("/api/v1/alpha/items").status_code == 200
        assert client.get("/metrics").status_code == 404


def test_the_path_is_configurable(installed: Installed, tmp_path: Path) -> None:
    with TestClient(app_for(installed, tmp_path / "c.toml", '[metrics]\npath = "/internal/metrics"\n')) as client:
        client.get("/api/v1/alpha/items")
        assert client.get("/metrics").status_code == 404
        assert "trading_api_requests_total" in client.get("/internal/metrics").text
        assert client.post("/internal/metrics").status_code == 405


def test_apps_of_one_factory_share_one_registry(installed: Installed, tmp_path: Path) -> None:
    factory = AppFactory(write_config(tmp_path / "c.toml", ""), environ={}, installed=installed)
    first, second = factory.create_app(global_version="v1"), factory.create_app(global_version="v2")
    other = AppFactory(write_config(tmp_path / "d.toml", ""), environ={}, installed=installed).create_app()
    with TestClient(first) as one, TestClient(second) as two, TestClient(other) as three:
        one.get("/api/v1/alpha/items")
        two.get("/api/v2/alpha/items")
        shared = samples(two, "trading_api_requests_total")
        separate = samples(three, "trading_api_requests_total")
    assert len(shared) == 2
    assert separate == {}


@pytest.mark.parametrize(
    ("text", "code", "words"),
    [
        ('[metrics]\nclient = "header:Authorization"\n', "metrics-client-invalid", "carries a secret"),
        ('[metrics]\nclient = "ip"\n', "metrics-client-invalid", "'ip' is not a caller attribute"),
        ('[metrics]\npath = "/api/v1/metrics"\n', "metrics-path-taken", "global version v1 is served"),
        ("[metrics]\nmax_clients = 0\n", "config-invalid-value", "metrics.max_clients"),
    ],
)
def test_metrics_settings_are_checked(installed: Installed, tmp_path: Path, text: str, code: str, words: str) -> None:
    plan = AppFactory(write_config(tmp_path / "c.toml", text), environ={}, installed=installed).plan()
    (problem,) = plan.problems
    assert problem.code == code
    assert words in problem.message


# --- several worker processes ---------------------------------------------------------------------


def test_several_workers_get_a_fresh_folder_removed_afterwards() -> None:
    env: dict[str, str] = {}
    with multiprocess_metrics(env, workers=2) as folder:
        assert folder is not None
        assert folder.is_dir()
        assert env[MULTIPROC_ENV] == str(folder)
    assert not folder.exists()


def test_a_given_folder_is_emptied_of_an_earlier_run_and_kept(tmp_path: Path) -> None:
    folder = tmp_path / "metrics"
    folder.mkdir()
    (folder / "counter_123.db").write_bytes(b"old")
    (folder / "README").write_text("kept")
    env = {MULTIPROC_ENV: str(folder)}
    with multiprocess_metrics(env, workers=1) as used:
        assert used == folder
        assert sorted(p.name for p in folder.iterdir()) == ["README"]
    assert folder.is_dir()


def test_one_worker_needs_no_folder() -> None:
    env: dict[str, str] = {}
    with multiprocess_metrics(env, workers=1) as folder:
        assert folder is None
    assert env == {}


def test_both_recorders_give_the_same_metrics_for_the_same_requests() -> None:
    # One process counts in plain numbers; several share prometheus-client's values: a scrape
    # must read the same either way.
    local, shared = LocalRecorder(), SharedRecorder()
    for recorder in (local, shared):
        alpha = recorder.series("alpha", "v1", "v1")
        beta = recorder.series("beta", "v1", "v2")
        for status, seconds in ((200, 0.004), (201, 0.02), (404, 0.3), (503, 12.0), (0, 0.001)):
            alpha.request(status, seconds)
        beta.request(101, None)
        recorder.deprecated("alpha", "v1", "key:0123456789abcdef")
        recorder.rollout("latest", "v2")

    def read(recorder: LocalRecorder | SharedRecorder) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        text = generate_latest(recorder.registry).decode()
        return {
            (s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text)
            for s in family.samples
            if not s.name.endswith("_created")
        }

    local_samples = read(local)
    assert local_samples == read(shared)
    labels = (("global_version", "v1"), ("module", "alpha"), ("version", "v1"))
    assert local_samples[("trading_api_requests_total", (*labels[:2], ("status_class", "5xx"), labels[2]))] == 2
    assert (
        local_samples[("trading_api_request_duration_seconds_bucket", (*labels[:1], ("le", "0.005"), *labels[1:]))] == 2
    )
    assert local_samples[("trading_api_request_duration_seconds_count", labels)] == 5
    assert local_samples[("trading_api_request_duration_seconds_sum", labels)] == pytest.approx(12.325)
