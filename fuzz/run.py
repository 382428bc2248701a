"""Fuzz every served global version's OpenAPI with schemathesis, against a real server.

Starts ``trading-host serve`` from the installed packages on a free port, with its own SQLite file
in a temporary folder and a fixed clock, creates a broker API key with ``trading-host broker keys
create`` against the same database, asks the server which global versions it serves, and runs
``schemathesis run`` over each one's ``/api/{global}/openapi.json`` (with ``Authorization: Bearer
<key>`` where the document declares a bearer security scheme): every phase (examples, coverage,
fuzzing, stateful through the documents' OpenAPI links), a fixed seed, a bounded number of examples
per operation. Exits 1 with schemathesis's report if any version has a finding, or if the server
logged a traceback or did not stop cleanly; the server is stopped in every case, and its log is
printed when something failed.

    python fuzz/run.py                       # what `nox -s fuzz` runs
    python fuzz/run.py --max-examples 300 --seed 7
    python fuzz/run.py -- --phases fuzzing   # anything after -- goes to `schemathesis run`

Which checks run, and why four of them do not, is in ``fuzz/schemathesis.toml`` with the values
(symbols, resolutions, lots and prices) that let generated requests reach past the validation.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.request import urlopen

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
CONFIG = HERE / "schemathesis.toml"
# Start the clock at a fixed moment, so lifecycle headers (broker v1 is deprecated from 2026-11-01,
# gone from 2027-06-01) are the same on every run, whatever the date.
NOW = "2026-12-01T00:00:00Z"
TOKEN = re.compile(r"^\s*(tb_\S+)\s*$", re.MULTILINE)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_env(folder: Path) -> dict[str, str]:
    """The environment minus any Trading API setting of the caller's, plus the fuzz server's."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"GLOBAL_VERSION", "ENABLED_MODULES", "MODULE_VERSION", "TRADING_CONFIG", "TRADING_API_PREFIX"}
        and not k.startswith("TRADING_")
    }
    env["TRADING_MODULES__BROKER__DATABASE_URL"] = f"sqlite+aiosqlite:///{folder / 'broker.db'}"
    env["TRADING_NOW"] = NOW
    return env


def get_json(url: str) -> tuple[int, Any]:
    try:
        with urlopen(url, timeout=5) as response:
            return int(response.status), json.load(response)
    except HTTPError as error:
        with error:
            return error.code, json.load(error)


def create_key(folder: Path, env: dict[str, str]) -> str:
    command = [str(BIN / "trading-host"), "broker", "keys", "create", "fuzz"]
    result = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True, check=False)
    match = TOKEN.search(result.stdout)
    if result.returncode != 0 or match is None:
        raise SystemExit(f"`{' '.join(command)}` failed ({result.returncode}):\n{result.stdout}{result.stderr}")
    return match.group(1)


def wait_until_ready(process: subprocess.Popen[bytes], base_url: str, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited with {process.returncode}:\n{log.read_text(errors='replace')}")
        try:
            if get_json(base_url + "/api/v1/core/health")[0] < 500:
                return
        except (URLError, OSError, ValueError):
            pass
        time.sleep(0.2)
    raise SystemExit(f"the server did not answer within 60 s:\n{log.read_text(errors='replace')}")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def served_versions(base_url: str) -> list[str]:
    """The global versions the server serves, from its own answer to a version it does not serve."""
    status, body = get_json(base_url + "/api/-/core/versions")
    versions = sorted(body.get("served", {}).get("global_versions", {})) if status == 404 else []
    if not versions:
        raise SystemExit(f"the server did not list the global versions it serves: {status} {body}")
    return versions


def tracebacks_in(log: str) -> list[str]:
    """Each traceback in a server log, with the line before it (uvicorn's or the host's message)."""
    lines = log.splitlines()
    found = []
    for i, line in enumerate(lines):
        if line.startswith("Traceback (most recent call last)"):
            end = i + 1
            while end < len(lines) and lines[end].startswith((" ", "\t")):
                end += 1
            found.append("\n".join(lines[max(i - 1, 0) : end + 1]))
    return found


def uses_bearer(document: dict[str, Any]) -> bool:
    """Whether the document declares an HTTP bearer security scheme (broker API v2's keys)."""
    schemes = document.get("components", {}).get("securitySchemes", {}).values()
    return any(s.get("type") == "http" and str(s.get("scheme", "")).lower() == "bearer" for s in schemes)


def schemathesis_command(
    schema_url: str, *, max_examples: int, seed: int, token: str | None, extra: Sequence[str]
) -> list[str]:
    command = [
        str(BIN / "schemathesis"),
        "--no-color",
        "--config-file",
        str(CONFIG),
        "run",
        schema_url,
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--max-examples",
        str(max_examples),
        "--seed",
        str(seed),
        "--generation-database",
        "none",
        "--workers",
        "1",
        "--request-timeout",
        "30",
    ]
    if token is not None:
        command += ["--header", f"Authorization: Bearer {token}"]
    return [*command, *extra]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-examples", type=int, default=80, help="test cases per operation and phase")
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--server-log", type=Path, help="also copy the server's log to this file")
    parser.add_argument("extra", nargs="*", help="more options for `schemathesis run` (after --)")
    args = parser.parse_args(argv)
    # A SIGTERM (nox or CI giving up) unwinds like Ctrl-C, so the server is stopped on the way out.
    signal.signal(signal.SIGTERM, lambda number, _: sys.exit(128 + number))

    with tempfile.TemporaryDirectory(prefix="trading-fuzz-") as name:
        folder = Path(name)
        env = server_env(folder)
        token = create_key(folder, env)
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        log = folder / "server.log"
        with log.open("wb") as output:
            server = subprocess.Popen(
                [str(BIN / "trading-host"), "serve", "--host", "127.0.0.1", "--port", str(port)],
                cwd=folder,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
            failed: list[str] = []
            runs: list[tuple[str, list[str], subprocess.Popen[bytes], Path]] = []
            try:
                wait_until_ready(server, base_url, log)
                versions = served_versions(base_url)
                print(f"fuzzing global versions {', '.join(versions)} at {base_url}", flush=True)
                # One schemathesis per version, all at once (each is one busy process; the versions
                # share the server and its database, as clients of several versions do); each report
                # is printed whole once its run ends, in the order of the versions.
                for version in versions:
                    schema_url = f"{base_url}/api/{version}/openapi.json"
                    _, document = get_json(schema_url)
                    command = schemathesis_command(
                        schema_url,
                        max_examples=args.max_examples,
                        seed=args.seed,
                        token=token if uses_bearer(document) else None,
                        extra=args.extra,
                    )
                    report = folder / f"schemathesis-{version}.log"
                    with report.open("wb") as out:
                        process = subprocess.Popen(command, cwd=folder, stdout=out, stderr=subprocess.STDOUT)
                    runs.append((version, command, process, report))
                for version, command, process, report in runs:
                    process.wait()
                    shown = [re.sub(r"Bearer \S+", "Bearer <key>", part) for part in command]
                    print("\n$ " + " ".join(shown) + "\n" + report.read_text(errors="replace"), flush=True)
                    if process.returncode != 0:
                        failed.append(version)
            finally:
                for _, _, process, _ in runs:
                    if process.poll() is None:  # interrupted: no run outlives this script
                        process.kill()
                        process.wait()
                stop(server)
                if args.server_log is not None:
                    shutil.copyfile(log, args.server_log)
        text = log.read_text(errors="replace")
        # An exception the server logged is a finding even if every response passed its checks
        # (one raised after the response was sent, or in a background task).
        tracebacks = tracebacks_in(text)
        stopped = server.returncode in (0, -signal.SIGTERM)
        if failed or tracebacks or not stopped:
            print(f"\nFAILED: schemathesis found problems in global version(s) {', '.join(failed) or '-'}", end="")
            print(f"; the server logged {len(tracebacks)} traceback(s)", end="")
            print("" if stopped else f"; the server exited with {server.returncode}")
            if tracebacks:
                print("\nThe server's tracebacks:\n\n" + "\n\n".join(tracebacks[:10]))
            print("\nThe end of the server's log:\n" + "\n".join(text.splitlines()[-40:]))
            return 1
    print(f"\nno findings in global versions {', '.join(versions)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
