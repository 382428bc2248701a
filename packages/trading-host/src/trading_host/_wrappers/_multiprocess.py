"""Prometheus multiprocess mode for ``trading-host serve --workers N``.

prometheus-client adds up the metrics of several processes through files in the folder named by
``PROMETHEUS_MULTIPROC_DIR``, which must be set before a worker imports prometheus-client and must
not hold files of an earlier run (they would be added in).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from pathlib import Path

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


@contextmanager
def multiprocess_metrics(env: MutableMapping[str, str], workers: int) -> Iterator[Path | None]:
    """Put the workers of one run in multiprocess mode: the user's folder emptied of an earlier
    run's files, else a fresh temporary folder removed afterwards. Nothing to do for one worker
    without a folder set."""
    given = env.get(MULTIPROC_ENV)
    if given:
        folder = Path(given)
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob("*.db"):
            stale.unlink()
        yield folder
        return
    if workers <= 1:
        yield None
        return
    folder = Path(tempfile.mkdtemp(prefix="trading-metrics-"))
    env[MULTIPROC_ENV] = str(folder)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
