"""Gradual rollout: an alias that sends each caller to one served global version by weight, the
same one every time, in every process; over HTTP and WebSocket; and its configuration checks."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from host_fakes import write_config
from host_plugins import AlphaV1, AlphaV2, BetaV1, CoreApi
from prometheus_client.parser import text_string_to_metric_families

from trading_host import AppFactory, Installed
from trading_host._caller import CallerKey
from trading_host._wrappers._rollout import Rollout

ROLLOUT = """
[rollout]
alias = "latest"
key = "header:X-Client-Id"
weights = { v1 = 70, v2 = 30 }
"""
CALLERS = [f"client-{n}" for n in range(10_000)]


def rollout(weights: dict[str, int], alias: str = "latest") -> Rollout:
    return Rollout(alias, CallerKey("header", "x-client-id"), weights, fallback=next(iter(weights)))


def app_for(installed: Installed, path: Path, text: str, **environ: str) -> Any:
    return AppFactory(write_config(path, text), environ=environ, installed=installed).create_app()


# --- the split --------------------------------------------------------------------------------------


def test_the_split_is_within_a_tolerance_of_the_weights() -> None:
    picks = [rollout({"v1": 70, "v2": 30}).pick(c) for c in CALLERS]
    share = picks.count("v2") / len(picks)
    assert abs(share - 0.30) < 0.02, share
    three = [rollout({"v1": 50, "v2": 25, "v3": 25}).pick(c) for c in CALLERS]
    assert {v: round(three.count(v) / len(three), 1) for v in ("v1", "v2", "v3")} == {"v1": 0.5, "v2": 0.2, "v3": 0.2}


def test_the_same_caller_always_gets_the_same_version() -> None:
    first, second = rollout({"v1": 70, "v2": 30}), rollout({"v1": 70, "v2": 30})
    assert [first.pick(c) for c in CALLERS[:500]] == [second.pick(c) for c in CALLERS[:500]]
    assert len({first.pick("client-42") for _ in range(100)}) == 1


def test_the_split_is_the_same_in_another_process_with_another_hash_seed() -> None:
    program = (
        "import json, sys\n"
        "from trading_host._caller import CallerKey\n"
        "from trading_host._wrappers._rollout import Rollout\n"
        "r = Rollout('latest', CallerKey('header', 'x-client-id'), {'v1': 70, 'v2': 30}, 'v1')\n"
        "print(json.dumps([r.pick(f'client-{n}') for n in range(2000)]))\n"
    )
    results = []
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run([sys.executable, "-c", program], env=env, capture_output=True, text=True, check=True)
        results.append(json.loads(done.stdout))
    here = [rollout({"v1": 70, "v2": 30}).pick(c) for c in CALLERS[:2000]]
    assert results[0] == results[1] == here


def test_raising_a_weight_only_moves_callers_onto_that_version() -> None:
    before = {c: rollout({"v1": 90, "v2": 10}).pick(c) for c in CALLERS}
    after = {c: rollout({"v1": 80, "v2": 20}).pick(c) for c in CALLERS}
    assert all(after[c] == "v2" for c in CALLERS if before[c] == "v2")
    assert sum(v == "v2" for v in after.values()) > sum(v == "v2" for v in before.values())
    # With three versions, callers move forward only: never back to an earlier-listed version.
    order = {"v1": 1, "v2": 2, "v3": 3}
    three_before = {c: rollout({"v1": 50, "v2": 25, "v3": 25}).pick(c) for c in CALLERS}
    three_after = {c: rollout({"v1": 50, "v2": 25, "v3": 50}).pick(c) for c in CALLERS}
    assert all(order[three_after[c]] >= order[three_before[c]] for c in CALLERS)
    assert any(three_after[c] != three_before[c] for c in CALLERS)


def test_only_the_ratio_of_the_weights_counts_and_a_zero_weight_gets_nobody() -> None:
    small, large = rollout({"v1": 9, "v2": 1}), rollout({"v1": 900, "v2": 100})
    assert [small.pick(c) for c in CALLERS[:2000]] == [large.pick(c) for c in CALLERS[:2000]]
    assert {rollout({"v1": 0, "v2": 5}).pick(c) for c in CALLERS[:2000]} == {"v2"}


def test_the_alias_salts_the_hash() -> None:
    latest, canary = rollout({"v1": 50, "v2": 50}), rollout({"v1": 50, "v2": 50}, alias="canary")
    picks = [(latest.pick(c), canary.pick(c)) for c in CALLERS[:2000]]
    assert sum(a != b for a, b in picks) > 600  # independent halves differ for about half the callers


# --- over HTTP and WebSocket ---------------------------------------------------------------------------


def test_an_alias_request_is_served_by_the_callers_version(installed: Installed, tmp_path: Path) -> None:
    expected = {c: rollout({"v1": 70, "v2": 30}).pick(c) for c in CALLERS[:40]}
    with TestClient(app_for(installed, tmp_path / "c.toml", ROLLOUT)) as client:
        for caller, version in expected.items():
            response = client.get("/api/latest/alpha/where", headers={"X-Client-Id": caller})
            assert response.status_code == 200
            assert response.headers["x-api-global-version"] == version
            body = response.json()
            assert (body["global_version"], body["version"]) == (version, version)
            assert body["root_path"] == ""
            assert body["path"] == f"/api/{version}/alpha/where"  # rewritten, as a gateway would
            assert body["items_url"].endswith(f"/api/{version}/alpha/items")
        direct = client.get("/api/v2/alpha/items")
    assert set(expected.values()) == {"v1", "v2"}
    assert "x-api-global-version" not in direct.headers  # only requests through the alias say it


def test_state_is_shared_whichever_version_the_alias_picks(installed: Installed, tmp_path: Path) -> None:
    with TestClient(app_for(installed, tmp_path / "c.toml", ROLLOUT)) as client:
        v1_caller = next(c for c in CALLERS if rollout({"v1": 70, "v2": 30}).pick(c) == "v1")
        client.post("/api/latest/alpha/items", json={"name": "through the alias"}, headers={"X-Client-Id": v1_caller})
        assert client.get("/api/v2/alpha/items").json() == [{"name": "through the alias", "position": 0}]


def test_a_caller_without_the_key_gets_the_fallback(installed: Installed, tmp_path: Path) -> None:
    with TestClient(app_for(installed, tmp_path / "c.toml", ROLLOUT)) as client:
        largest = client.get("/api/latest/alpha/items")
    with TestClient(app_for(installed, tmp_path / "d.toml", ROLLOUT + 'fallback = "v2"\n')) as client:
        configured = client.get("/api/latest/alpha/items")
    assert largest.headers["x-api-global-version"] == "v1"
    assert configured.headers["x-api-global-version"] == "v2"


@pytest.mark.parametrize(
    ("key", "headers"),
    [("api_key", {"Authorization": "Bearer token-7"}), ("cookie:session", {"Cookie": "session=abc; other=1"})],
)
def test_the_key_may_be_the_api_key_or_a_cookie(
    installed: Installed, tmp_path: Path, key: str, headers: dict[str, str]
) -> None:
    text = ROLLOUT.replace('"header:X-Client-Id"', f'"{key}"')
    caller = CallerKey.parse(key).value({"headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()]})
    assert caller is not None
    expected = rollout({"v1": 70, "v2": 30}).pick(caller)
    with TestClient(app_for(installed, tmp_path / "c.toml", text)) as client:
        answers = {client.get("/api/latest/alpha/items", headers=headers).headers["x-api-global-version"] for _ in "ab"}
    assert answers == {expected}
    # The API key itself is never used, only its SHA-256.
    assert caller == ("abc" if key.startswith("cookie") else hashlib.sha256(b"token-7").hexdigest())


def test_websocket_through_the_alias(installed: Installed, tmp_path: Path) -> None:
    caller = next(c for c in CALLERS if rollout({"v1": 70, "v2": 30}).pick(c) == "v2")
    with (
        TestClient(app_for(installed, tmp_path / "c.toml", ROLLOUT)) as client,
        client.websocket_connect("/api/latest/beta/ws", headers={"X-Client-Id": caller}) as ws,
    ):
        headers: list[tuple[bytes, bytes]] = ws.extra_headers or []
        accepted = {k.decode(): v.decode() for k, v in headers}
        ws.send_text("hi")
        assert ws.receive_text() == "beta:hi"
    assert accepted["x-api-global-version"] == "v2"


def test_a_deprecated_version_reached_through_the_alias_is_marked(installed: Installed, tmp_path: Path) -> None:
    text = ROLLOUT + (
        '[lifecycle.alpha.v1]\nstatus = "deprecated"\ndeprecation = 2020-01-01\nsunset = 2099-01-01\n'
        'successor = "v2"\nmigration_guide = "https://example.org/alpha"\n'
    )
    caller = next(c for c in CALLERS if rollout({"v1": 70, "v2": 30}).pick(c) == "v1")
    with TestClient(app_for(installed, tmp_path / "c.toml", text)) as client:
        response = client.get("/api/latest/alpha/items", headers={"X-Client-Id": caller})
    assert response.headers["x-api-global-version"] == "v1"
    assert response.headers["deprecation"] == "@1577836800"


def test_a_module_the_chosen_version_does_not_serve_is_a_404(tmp_path: Path) -> None:
    beta_v2 = type("BetaV2", (BetaV1,), {"version": "v2"})  # beta exists in v2 only: global v1 has no beta
    installed = Installed.from_apis([CoreApi, AlphaV1, AlphaV2, beta_v2])
    v1_caller = next(c for c in CALLERS if rollout({"v1": 70, "v2": 30}).pick(c) == "v1")
    v2_caller = next(c for c in CALLERS if rollout({"v1": 70, "v2": 30}).pick(c) == "v2")
    with TestClient(app_for(installed, tmp_path / "c.toml", ROLLOUT)) as client:
        missing = client.get("/api/latest/beta/items", headers={"X-Client-Id": v1_caller})
        found = client.get("/api/latest/beta/items", headers={"X-Client-Id": v2_caller})
        unknown = client.get("/api/nope/alpha/items")
    assert missing.status_code == 404
    assert found.status_code == 200
    assert unknown.json()["served"]["aliases"] == {"latest": {"v1": 70, "v2": 30}}


def test_rollout_choices_are_counted(installed: Installed, tmp_path: Path) -> None:
    with TestClient(app_for(installed, tmp_path / "c.toml", ROLLOUT)) as client:
        expected: dict[str, int] = {}
        for caller in CALLERS[:30]:
            client.get("/api/latest/alpha/items", headers={"X-Client-Id": caller})
            version = rollout({"v1": 70, "v2": 30}).pick(caller)
            expected[version] = expected.get(version, 0) + 1
        scrape = client.get("/metrics").text
    counted = {
        s.labels["global_version"]: s.value
        for family in text_string_to_metric_families(scrape)
        for s in family.samples
        if s.name == "trading_api_rollout_requests_total"
    }
    assert counted == expected


# --- configuration checks -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "code", "words"),
    [
        (('alias = "latest"', 'alias = "v2"'), "rollout-alias-invalid", "is a global version of the matrix"),
        (('alias = "latest"', 'alias = "la/test"'), "rollout-alias-invalid", "cannot be a URL segment"),
        (("v2 = 30", "v7 = 30"), "rollout-version-not-served", "weights name v7"),
        (("v1 = 70, v2 = 30", "v1 = 0, v2 = 0"), "rollout-weights-zero", "every weight is 0"),
        (('key = "header:X-Client-Id"', 'key = "ip"'), "rollout-key-invalid", "'ip' is not a caller attribute"),
        (("weights = {", 'fallback = "v5"\nweights = {'), "rollout-fallback-invalid", "fallback v5"),
        (("v2 = 30", "v2 = -1"), "config-invalid-value", "rollout.weights.v2"),
    ],
)
def test_rollout_settings_are_checked(
    installed: Installed, tmp_path: Path, change: tuple[str, str], code: str, words: str
) -> None:
    factory = AppFactory(write_config(tmp_path / "c.toml", ROLLOUT.replace(*change)), environ={}, installed=installed)
    found = {p.code: p for p in factory.plan().problems}
    assert code in found, found
    assert words in found[code].message
    assert found[code].fix


def test_a_weighted_version_that_is_not_served_is_a_problem(installed: Installed, tmp_path: Path) -> None:
    factory = AppFactory(
        write_config(tmp_path / "c.toml", ROLLOUT), environ={"GLOBAL_VERSION": "v1"}, installed=installed
    )
    (problem,) = factory.plan().problems
    assert problem.code == "rollout-version-not-served"
    assert "the served global versions are v1" in problem.message


def test_a_standalone_service_has_no_rollout(installed: Installed, tmp_path: Path) -> None:
    environ = {"ENABLED_MODULES": "alpha", "MODULE_VERSION": "v1"}
    factory = AppFactory(write_config(tmp_path / "c.toml", ROLLOUT), environ=environ, installed=installed)
    (problem,) = factory.plan().problems
    assert problem.code == "rollout-standalone"
