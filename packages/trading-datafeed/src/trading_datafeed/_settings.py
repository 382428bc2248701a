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
    ```
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

    @field_validator("cors_origins")
    @classmethod
    def _without_trailing_slash(cls, origins: list[str]) -> list[str]:
        # A browser's Origin header never ends with "/"; "https://charts.example/" in a config means it.
        return [origin.rstrip("/") for origin in origins]
