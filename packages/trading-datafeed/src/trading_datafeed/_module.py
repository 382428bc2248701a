"""The datafeed module: one instance per process, holding the service every API version adapts."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from trading_core import Module, ModuleContext
from trading_core.streams import StreamHub

from ._compute import Compute
from ._csv import CsvMarket
from ._models import MarketData
from ._service import DatafeedService
from ._settings import DatafeedSettings
from ._simulated import SimulatedMarket


class DatafeedModule(Module[DatafeedSettings]):
    """Bars, symbols and quotes for charts: the simulated market, or the CSV files of ``csv_dir``
    (read at start-up, in the lifespan).

    ``market`` and ``clock`` replace the configured source and the wall clock, for embedding and
    tests; the host passes only ``context``.
    """

    name = "datafeed"
    description = "Market data for charts, compatible with TradingView's UDF protocol."

    def __init__(
        self,
        context: ModuleContext | None = None,
        *,
        market: MarketData | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        super().__init__(context)
        settings = self.settings
        if market is None:
            if settings.csv_dir is not None:
                market = CsvMarket(settings.csv_dir)
            else:
                market = SimulatedMarket(cached_bars=settings.cached_bars)
        self.service = DatafeedService(market, clock=clock, max_bars=settings.max_bars)
        self.compute = Compute(
            threads=settings.compute_threads, queue=settings.compute_queue, per_client=settings.max_client_requests
        )
        """The threads computing bars, marks and quotes for requests, off the event loop."""
        self.stream_clients: Counter[str] = Counter()
        """Open stream connections per client address, for every API version of the process."""
        self.stream_hubs: list[StreamHub] = []
        """The stream endpoints of the API versions served, for health reports and shutdown."""

    @asynccontextmanager
    async def lifespan(self) -> AsyncIterator[None]:
        market = self.service.market
        if isinstance(market, CsvMarket):
            # Reading files blocks; keep the event loop free for other modules starting up.
            await asyncio.to_thread(market.load)
        try:
            yield
        finally:
            # Whatever the server did with the open sockets, no feed outlives the module.
            await asyncio.gather(*(hub.close() for hub in self.stream_hubs))
            self.compute.close()

    async def health(self) -> dict[str, Any]:
        symbols = len(self.service.market.symbols())
        return {
            "status": "ok" if symbols else "degraded",
            "source": self.service.market.kind,
            "symbols": symbols,
            "streams": {
                "connections": sum(hub.connections for hub in self.stream_hubs),
                "feeds": sum(len(hub.feeds()) for hub in self.stream_hubs),
            },
            "computing": self.compute.pending,
        }
