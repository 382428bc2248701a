"""The news domain, independent of any API version."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Headline:
    """One market headline about one symbol."""

    id: int
    symbol: str
    title: str
    published_at: datetime
