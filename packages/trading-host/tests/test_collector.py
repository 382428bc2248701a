"""The cyclic garbage collector is paused while the host starts, and left as it was found."""

from __future__ import annotations

import gc
import subprocess
import sys
import weakref
from collections.abc import Iterator
from pathlib import Path

import pytest

from trading_host._collector import collector_paused


@pytest.fixture(autouse=True)
def collector_restored() -> Iterator[None]:
    running = gc.isenabled()
    yield
    gc.unfreeze()
    if running:
        gc.enable()
    else:
        gc.disable()


class Node:
    def __init__(self) -> None:
        self.itself = self


def test_paused_in_the_block_running_after_it_even_nested() -> None:
    gc.enable()
    with collector_paused():
        assert not gc.isenabled()
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the inner block leaves the outer pause alone
    assert gc.isenabled()


def test_an_error_in_the_block_still_resumes_the_collector() -> None:
    gc.enable()
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError("boom")
    assert gc.isenabled()


def test_a_program_that_switched_the_collector_off_keeps_it_off() -> None:
    gc.disable()
    with collector_paused():
        pass
    assert not gc.isenabled()


def test_the_block_makes_no_young_objects_to_examine_and_leaves_nothing_frozen() -> None:
    gc.enable()
    gc.collect()
    with collector_paused():
        kept = [Node() for _ in range(5000)]
    assert gc.get_count()[0] < 100  # resumed with a young generation to examine, it would hold 5000
    assert gc.get_freeze_count() == 0
    assert kept


def test_garbage_the_block_leaves_is_freed_by_the_next_full_collection() -> None:
    gc.enable()
    with collector_paused():
        cycle = Node()
        gone = weakref.ref(cycle)
        del cycle
    assert gone() is not None  # a cycle: only the collector frees it
    gc.collect()
    assert gone() is None


def test_objects_the_program_froze_stay_frozen() -> None:
    gc.enable()
    gc.freeze()
    frozen = gc.get_freeze_count()
    with collector_paused():
        made = [Node() for _ in range(100)]
    # None of the block's objects frozen, none of the program's unfrozen (a few may have been freed).
    assert frozen - 50 <= gc.get_freeze_count() <= frozen
    assert made


def test_the_served_app_freezes_what_its_start_made(tmp_path: Path) -> None:
    """``trading_host.main`` (what `serve` and uvicorn import) freezes the start's objects, which
    live as long as the process, so that the collector's full passes skip them."""
    program = "import gc, trading_host.main; print(gc.get_freeze_count())"
    done = subprocess.run([sys.executable, "-c", program], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert int(done.stdout) > 10_000, done.stdout
