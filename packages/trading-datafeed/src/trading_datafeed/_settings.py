"""The ``[modules.datafeed]`` configuration table."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, DirectoryPath, Field


class DatafeedSettings(BaseModel):
    """Settings of the datafeed module.

    ```toml
    [modules.datafeed]
    csv_dir = "/srv/ohlcv"                       # default: the simulated market
    cors_origins = ["https://charts.example"]    # default: any origin
    ```
    """

    model_config = ConfigDict(extra="forbid")

    csv_dir: DirectoryPath | None = None
    """A folder of ``<TICKER>.csv`` OHLCV files to serve instead of the simulated market."""
    cors_origins: list[str] = Field(default_factory=lambda: ["*"])
    """Origins of chart pages allowed to call the feed from a browser; ``"*"`` allows any."""
    max_bars: int = Field(default=5_000, ge=1, le=100_000)
    """The most bars one history request returns (the latest ones); the chart asks again for older."""
