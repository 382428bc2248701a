"""ARCHITECTURE.md names every file of the host in its tables, and names no file that does not exist.

A table row's first cell names host files by their path below ``trading_host/`` (``_serve/_dispatch.py``);
elsewhere the page may name any file by its path from the repository root, below ``trading_host/``,
or, for the files every package has (``_module.py``), by its bare name.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
PAGE = ROOT / "ARCHITECTURE.md"
HOST = ROOT / "packages" / "trading-host" / "src" / "trading_host"
# Not named on the page: package markers, the version hatchling reads, and vendored third-party files.
EXEMPT_NAMES = {"__init__.py", "_version.py"}
EXEMPT_FOLDERS = {"_vendor"}

_NAMED = re.compile(r"`([\w./-]+\.py)`")


def _page() -> str:
    assert PAGE.is_file(), f"{PAGE} is missing: this test reads the repository's ARCHITECTURE.md"
    return PAGE.read_text(encoding="utf-8")


def _host_files() -> set[str]:
    return {
        path.relative_to(HOST).as_posix()
        for path in HOST.rglob("*.py")
        if path.name not in EXEMPT_NAMES
        and not EXEMPT_FOLDERS & set(path.relative_to(HOST).parts)
        and "__pycache__" not in path.parts
    }


def _table_files(text: str) -> set[str]:
    """The files named in the first cell of a table row."""
    named: set[str] = set()
    for line in text.splitlines():
        if line.startswith("|"):
            first = line.split("|")[1]
            named.update(_NAMED.findall(first))
    return named


def _exists(name: str) -> bool:
    if (ROOT / name).is_file() or (HOST / name).is_file():
        return True
    if "/" in name:
        return False
    # A bare name stands for the file every package has (`_module.py`), never for a host file.
    sources = [*ROOT.glob("packages/*/src"), *ROOT.glob("examples/*/src")]
    return any(not path.is_relative_to(HOST) for source in sources for path in source.rglob(name))


def test_the_host_is_found() -> None:
    files = _host_files()
    assert "_serve/_dispatch.py" in files
    assert "cli.py" in files
    assert not any(name.endswith("__init__.py") or name == "_version.py" for name in files)


def test_every_host_file_is_named_in_a_table() -> None:
    missing = sorted(_host_files() - _table_files(_page()))
    assert not missing, (
        "ARCHITECTURE.md does not name these host files in the table of their layer: "
        f"{', '.join(missing)}; add a row `| `<path below trading_host/>` | what it holds |`"
    )


def test_every_file_the_page_names_exists() -> None:
    absent = sorted({name for name in _NAMED.findall(_page()) if not _exists(name)})
    assert not absent, (
        f"ARCHITECTURE.md names files that do not exist: {', '.join(absent)}; "
        "write host files as their path below trading_host/, other files from the repository root"
    )


def test_a_file_left_out_or_made_up_is_caught() -> None:
    text = _page().replace("`_serve/_dispatch.py`", "`_serve/_gone.py`")
    assert "_serve/_dispatch.py" in _host_files() - _table_files(text)
    assert not _exists("_serve/_gone.py")
    assert not _exists("_dispatch.py"), "a host file by its bare name must not count as named"
    assert _exists("_module.py")
    assert _exists("benchmarks/bench_calls.py")
