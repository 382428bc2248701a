"""The fixture of the example's tests: v1 and v2 of one alerts module in one app (alerts_app.py)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).parent))  # the helpers beside this file, in any import mode

from alerts_app import serve


@pytest.fixture
def client() -> Iterator[TestClient]:
    with serve() as test_client:
        yield test_client
