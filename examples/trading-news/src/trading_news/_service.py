"""The news service: the one place that knows which headlines exist. Every API version reads it."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from ._models import Headline


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# A fixed list, so that the example answers the same everywhere and its tests can name exact results.
BUILT_IN_HEADLINES: tuple[Headline, ...] = (
    Headline(1, "AAPL", "Apple unveils a new line of laptops", _at("2024-05-02T13:30:00")),
    Headline(2, "MSFT", "Microsoft raises its cloud revenue forecast", _at("2024-05-02T20:05:00")),
    Headline(3, "AAPL", "Apple announces a record share buyback", _at("2024-05-03T20:31:00")),
    Headline(4, "TSLA", "Tesla deliveries fall short of estimates", _at("2024-05-06T12:00:00")),
    Headline(5, "EURUSD", "Euro steadies ahead of the central bank meeting", _at("2024-05-07T07:45:00")),
    Headline(6, "MSFT", "Microsoft opens a new data centre region", _at("2024-05-08T09:15:00")),
    Headline(7, "BTCUSD", "Bitcoin trading volume climbs to a monthly high", _at("2024-05-09T18:40:00")),
    Headline(8, "AAPL", "Apple suppliers report strong orders", _at("2024-05-10T06:10:00")),
)


class NewsService:
    """Looks headlines up; newest first, at most ``max_results`` per listing."""

    def __init__(self, headlines: Iterable[Headline] = BUILT_IN_HEADLINES, *, max_results: int = 50) -> None:
        self._headlines = sorted(headlines, key=lambda h: (h.published_at, h.id), reverse=True)
        self._by_id = {h.id: h for h in self._headlines}
        self.max_results = max_results

    def __len__(self) -> int:
        return len(self._headlines)

    def list(self, symbol: str | None = None) -> list[Headline]:
        """Headlines, newest first, about ``symbol`` (any case) if given."""
        wanted = symbol.upper() if symbol is not None else None
        found = [h for h in self._headlines if wanted is None or h.symbol == wanted]
        return found[: self.max_results]

    def get(self, headline_id: int) -> Headline | None:
        """The headline with this id, or ``None``."""
        return self._by_id.get(headline_id)
