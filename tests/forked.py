"""The test environment's commands run from a fork server, without starting an interpreter each time.

The integration tests run this environment's console scripts (``trading-host serve``, ``trading-host
matrix``, ``trading-broker keys``, ``uvicorn``) a few hundred times a session. A new interpreter
spends about 0.8 s of CPU on each, three quarters of it importing FastAPI, pydantic, Starlette,
SQLAlchemy, alembic and uvicorn. So they start from the standard library's fork server
(``multiprocessing``'s "forkserver" start method), which imports those libraries once: each
command is a process of its own, forked from it, that runs the script's entry point with its own
arguments, environment (``PYTHONPATH`` included), working directory and output files, and exits as
the interpreter would (its status, its atexit functions, its flushed output; a signal it dies of is
its exit status). The modules imported beforehand read nothing from the environment when they are
imported; ours, typer's and prometheus-client's do, and are imported by each command after its
environment is in place.

What a fork cannot show, a fresh interpreter does: ``fresh=True`` for a test of what differs
between interpreters (each its own hash seed), and any command of another environment.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import json
import multiprocessing
import multiprocessing.util  # registers its exit function before _kill_leftovers is
import os
import signal
import subprocess
import sys
import tempfile
import traceback
from collections.abc import Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Protocol

BIN = Path(sys.executable).parent
PRELOAD = [
    "fastapi",
    "pydantic",
    "pydantic_settings",
    "starlette.applications",
    "sqlalchemy",
    "sqlalchemy.ext.asyncio",
    "alembic.runtime.migration",
    "uvicorn",
    "httpx",
    # multiprocessing runs the parent's main script again in each child, as ``__mp_main__``: under
    # pytest (not under pytest-xdist, whose workers have none) the ``pytest`` script, which imports
    # pytest and does nothing else. Imported once here, it costs the child nothing.
    "pytest",
]
"""Imported once by the fork server (a module that is not installed is left out)."""

_forks = multiprocessing.get_context("forkserver")
_forks.set_forkserver_preload(PRELOAD)


@atexit.register  # after multiprocessing's own exit function, so before it: it waits for every child
def _kill_leftovers() -> None:
    """Kill what a failed test left running, as the test runner ends."""
    for child in multiprocessing.active_children():
        child.kill()
        child.join()


class Process(Protocol):
    """What the tests use of a process: :class:`subprocess.Popen` and :class:`Forked` alike."""

    @property
    def pid(self) -> int: ...

    @property
    def returncode(self) -> int | None: ...

    def poll(self) -> int | None: ...

    def wait(self, timeout: float | None = None) -> int: ...

    def send_signal(self, sig: int) -> None: ...

    def kill(self) -> None: ...


class Forked:
    """A command forked from the fork server, with the part of :class:`subprocess.Popen`'s interface
    the tests use."""

    def __init__(
        self,
        args: Sequence[str],
        entry: metadata.EntryPoint,
        *,
        cwd: Path,
        env: Mapping[str, str],
        stdout: Path,
        stderr: Path | None,
    ) -> None:
        """``stderr`` ``None``: errors go to ``stdout`` too."""
        self.args = list(args)
        streams = (str(stdout), None if stderr is None else str(stderr))
        target_args = (entry, self.args, str(cwd), dict(env), _library(), *streams)
        self._process = _forks.Process(target=_run, args=target_args)
        self._process.start()

    @property
    def pid(self) -> int:
        assert self._process.pid is not None
        return self._process.pid

    @property
    def returncode(self) -> int | None:
        return self._process.exitcode

    def poll(self) -> int | None:
        return self._process.exitcode

    def wait(self, timeout: float | None = None) -> int:
        self._process.join(timeout)
        if self._process.exitcode is None:
            raise subprocess.TimeoutExpired(self.args, timeout or 0)
        return self._process.exitcode

    def send_signal(self, sig: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, sig)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


@functools.cache
def _library() -> list[str]:
    """``sys.path`` of a new interpreter of this environment past its first folder (the script's),
    without PYTHONPATH: the standard library and the site-packages."""
    env = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}
    path = "import json, sys; print(json.dumps(sys.path[1:]))"
    found: list[str] = json.loads(subprocess.check_output([sys.executable, "-c", path], env=env, text=True))
    return found


@functools.cache  # the environment's scripts stay as installed for the whole run
def entry_point(executable: str) -> metadata.EntryPoint | None:
    """The entry point of ``executable`` if it is one of this environment's console scripts."""
    path = Path(executable)
    if path.parent != BIN:
        return None
    found = list(metadata.entry_points(group="console_scripts", name=path.name))
    return found[0] if found else None


def popen(args: Sequence[str], *, cwd: Path, env: Mapping[str, str], output: Path, fresh: bool = False) -> Process:
    """Start ``args`` with its output and errors appended to ``output``: forked when it is one of
    this environment's scripts (and not ``fresh``), a new interpreter otherwise."""
    entry = None if fresh else entry_point(args[0])
    if entry is not None:
        output.touch()
        return Forked(args, entry, cwd=cwd, env=env, stdout=output, stderr=None)
    with output.open("a") as handle:
        return subprocess.Popen(list(args), cwd=cwd, env=dict(env), stdout=handle, stderr=subprocess.STDOUT, text=True)


def run(
    args: Sequence[str], *, cwd: Path, env: Mapping[str, str], timeout: float | None = None, fresh: bool = False
) -> subprocess.CompletedProcess[str]:
    """Run ``args`` to its end, its output and errors captured apart, like ``subprocess.run(args,
    capture_output=True, text=True, timeout=timeout)``: forked when it is one of this environment's
    scripts (and not ``fresh``). Past ``timeout`` seconds it is killed and TimeoutExpired raised."""
    entry = None if fresh else entry_point(args[0])
    if entry is None:
        return subprocess.run(list(args), cwd=cwd, env=dict(env), capture_output=True, text=True, timeout=timeout)
    with tempfile.TemporaryDirectory(prefix="forked-") as folder:
        out, err = Path(folder, "stdout"), Path(folder, "stderr")
        process = Forked(args, entry, cwd=cwd, env=env, stdout=out, stderr=err)
        try:
            status = process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise
        return subprocess.CompletedProcess(list(args), status, _read(out), _read(err))


def _read(path: Path) -> str:
    return path.read_text(errors="replace") if path.exists() else ""


# -- in the forked process


def _run(
    entry: metadata.EntryPoint,
    argv: list[str],
    cwd: str,
    env: dict[str, str],
    library: list[str],
    stdout: str,
    stderr: str | None,
) -> None:
    """Become the process the interpreter would start for ``argv``, run the entry point, exit."""
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(env)
    # The script's folder, PYTHONPATH's folders, then the library: the interpreter's order (the fork
    # server's own path is the test runner's, with the tests' folders on it).
    pythonpath = [folder for folder in env.get("PYTHONPATH", "").split(os.pathsep) if folder]
    sys.path[:] = [os.path.dirname(argv[0]), *pythonpath, *library]
    # An interpreter's streams are files 0, 1 and 2 (multiprocessing gave this one another stdin).
    flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND
    for fd, (path, mode) in enumerate([(os.devnull, os.O_RDONLY), (stdout, flags), (stderr or stdout, flags)]):
        opened = os.open(path, mode)
        os.dup2(opened, fd)
        os.close(opened)
    # The streams an interpreter makes for files: stdout buffered, stderr line by line.
    encoding = sys.__stdout__.encoding if sys.__stdout__ is not None else "utf-8"
    streams = {
        "stdin": open(0, encoding=encoding, closefd=False),  # noqa: SIM115
        "stdout": open(1, "w", encoding=encoding, closefd=False),  # noqa: SIM115
        "stderr": open(2, "w", 1, encoding, "backslashreplace", closefd=False),  # noqa: SIM115
    }
    for name, stream in streams.items():  # sys.stdout and sys.__stdout__...
        setattr(sys, name, stream)
        setattr(sys, f"__{name}__", stream)
    sys.argv = list(argv)
    status = 0
    try:
        status = _exit_status(entry.load()())
    except SystemExit as exc:
        status = _exit_status(exc.code)
    except BaseException:  # as the interpreter reports an uncaught exception
        traceback.print_exc()
        status = 1
    atexit._run_exitfuncs()  # what the interpreter runs at its exit (multiprocessing's child does not)
    for output in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            output.flush()
    os._exit(status)


def _exit_status(code: object) -> int:
    """The interpreter's exit status for ``sys.exit(code)``: ``None`` is 0, an int itself, anything
    else printed to stderr and 1."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=sys.stderr)
    return 1
