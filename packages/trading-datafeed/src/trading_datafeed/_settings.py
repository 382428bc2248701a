"""The ``[modules.datafeed]`` configuration table."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, DirectoryPath, Field, field_validator


class DatafeedSettings(BaseModel):
    """Settings of the datafeed module.

    ```toml
    [modules.datafeed]
    csv_dir = "/srv/ohlcv"                       # default: the simulated market
    cors_origins = ["https://charts.example"]    # default: any origin
    stream_interval = 1.0                        # seconds between two updates of a stream
    max_client_requests = 8                      # a client's heavy requests at once (then 429)
    ```

    A client is the address the server sees: behind a reverse proxy, the address uvicorn takes from
    ``X-Forwarded-For`` when the proxy is trusted (``--forwarded-allow-ips``; 127.0.0.1 by default).
    """

    model_config = ConfigDict(extra="forbid")

    csv_dir: DirectoryPath | None = None
    """A folder of ``<TICKER>.csv`` OHLCV files to serve instead of the simulated market."""
    cors_origins: list[str] = Field(default_factory=lambda: ["*"])
    """Origins of chart pages allowed to call the feed from a browser; ``"*"`` allows any."""
    max_bars: int = Field(default=5_000, ge=1, le=100_000)
    """The most bars one history request returns (the latest ones); the chart asks again for older."""
    group_request: bool = False
    """Announce ``supports_group_request`` in ``/config``. ``/symbol_info?group=`` is served either
    way; announcing it makes TradingView's UDF adapter resolve every symbol from the groups it asks
    for instead of ``/symbols``, so turn it on only for an adapter that asks for your exchanges."""
    stream_interval: float = Field(default=1.0, ge=0.001, le=3_600)
    """Seconds between two updates of a ``bars`` or ``quotes`` stream."""
    stream_queue_size: int = Field(default=256, ge=1, le=100_000)
    """Updates queued for one stream client before the oldest is dropped (and the client told)."""
    stream_max_dropped: int = Field(default=1_024, ge=1, le=1_000_000)
    """Updates dropped in a row for a client that has stopped reading before it is closed (4429)."""
    max_feeds: int = Field(default=5_000, ge=1, le=1_000_000)
    """Stream feeds (distinct subscriptions) the process runs at once, for all clients; a
    subscription that would start one more is refused with a ``too-many-subscriptions`` error."""
    max_client_connections: int = Field(default=50, ge=1, le=100_000)
    """Stream connections one client (an IP address) holds at once; one more is closed with code
    1008 and a reason."""
    max_client_requests: int = Field(default=8, ge=1, le=100_000)
    """Requests of one client (an IP address) computed or waiting at once (``/history``,
    ``/marks``, ``/timescale_marks``, ``/quotes``); one more is answered 429."""
    compute_threads: int = Field(default=1, ge=1, le=64)
    """Threads computing those requests, off the event loop, so that one heavy request does not
    hold up the others or the streams. Python runs one thread at a time: a second thread computes
    no faster, it only makes the event loop wait for its turn more often."""
    compute_queue: int = Field(default=64, ge=0, le=100_000)
    """Requests waiting for a compute thread; one more is answered 503 (the feed is busy)."""
    cached_bars: int = Field(default=100_000, ge=256, le=10_000_000)
    """Closed bars the simulated market keeps, so that the same history is computed once."""

    @field_validator("cors_origins")
    @classmethod
    def _without_trailing_slash(cls, origins: list[str]) -> list[str]:
        # A browser's Origin header never ends with "/"; "https://charts.example/" in a config means it.
        return [origin.rstrip("/") for origin in origins]
