"""The commands the tests fork from the fork server (tests/forked.py) answer as they do from a new
interpreter: the same output, errors and exit status, in the same working directory and environment."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import forked
import pytest
from harness import BIN, clean_env

pytestmark = pytest.mark.independent


@pytest.mark.parametrize(
    "args",
    [["--help"], ["serve", "--help"], ["matrix", "--check"], ["config", "--json"], ["matrix", "--chek"]],
    ids=["help", "serve-help", "problems", "config", "usage-error"],
)
def test_a_forked_command_answers_as_from_a_new_interpreter(args: list[str], tmp_path: Path) -> None:
    (tmp_path / "trading.toml").write_text('serve = ["v1", "v8"]\n')  # a problem for `matrix --check`
    command = [str(BIN / "trading-host"), *args]
    env = clean_env(TRADING_API_PREFIX="/edge", COLUMNS="100")

    from_fork = forked.run(command, cwd=tmp_path, env=env, timeout=60)
    fresh = forked.run(command, cwd=tmp_path, env=env, timeout=60, fresh=True)

    assert (from_fork.returncode, from_fork.stdout, from_fork.stderr) == (fresh.returncode, fresh.stdout, fresh.stderr)
    assert from_fork.stdout + from_fork.stderr  # each says something


def test_a_forked_server_runs_in_its_own_process_and_stops_on_sigterm(tmp_path: Path) -> None:
    output = tmp_path / "server.log"
    command = [str(BIN / "trading-host"), "serve", "--port", "0"]
    process = forked.popen(command, cwd=tmp_path, env=clean_env(), output=output)
    assert isinstance(process, forked.Forked)
    deadline = time.monotonic() + 30
    while "Uvicorn running" not in output.read_text():
        assert process.poll() is None, output.read_text()
        assert time.monotonic() < deadline, output.read_text()
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) in (0, -signal.SIGTERM)
    log = output.read_text()
    assert f"Started server process [{process.pid}]" in log
    assert f"Finished server process [{process.pid}]" in log
