"""The cyclic garbage collector, paused while the host starts.

Importing FastAPI, SQLAlchemy and the modules, resolving the plan and building the app allocate
hundreds of thousands of objects that all live on; the collections their allocations trigger walk
an ever larger heap and free next to nothing. Pausing them costs no memory worth counting and
saves about a tenth of a command's start-up CPU: ``trading-host matrix --check`` spent 80 to 100 ms
of its 0.9 s in collections (timed with ``gc.callbacks`` on a 2-CPU machine), 5 ms with the pauses.
Every command and server start pays that, hundreds of times in a test run.

The collector's state is restored on the way out, so nesting is free, and a program that switched
the collector off keeps it off. Written here because no library does this: it is four lines of
:mod:`gc`.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Run the block with the cyclic garbage collector paused; what it made and still holds then
    joins the oldest generation unexamined, and the collector runs again."""
    if not gc.isenabled():  # paused already, by an outer block or by the program: left as it is
        yield
        return
    frozen = gc.get_freeze_count()
    gc.disable()
    try:
        yield
    finally:
        # Resumed as it is, the collector would at once examine every object the block made, all
        # young, in one collection nearly as long as those the pause saved. Frozen and unfrozen, they
        # join the oldest generation, which is examined when it has grown by a quarter: the first
        # full collection finds any garbage the block left. Objects the program froze itself (as
        # a pre-fork server does) must stay frozen: then the young objects are left as they are.
        if not frozen:
            gc.freeze()
            gc.unfreeze()
        gc.enable()
