"""The ``[modules.broker]`` configuration table."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from ._database import DEFAULT_DATABASE_URL, normalize_url

Account = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]


class ApiKey(BaseModel):
    """One API key: the account it acts for and the hex SHA-256 of its token (never the token)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    account: Account
    sha256: Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, pattern=r"^[0-9a-fA-F]{64}$")]


class BrokerSettings(BaseModel):
    """Settings of the broker module.

    ```toml
    [modules.broker]
    default_account = "demo"
    database_url = "sqlite+aiosqlite:///./trading-broker.db"
    ```
    """

    model_config = ConfigDict(extra="forbid")

    default_account: Account = "default"
    """The account broker API v1, which has no authentication, acts on."""
    database_url: str = DEFAULT_DATABASE_URL
    """Where the broker keeps its state: a SQLite file (the default, relative to the working
    directory) or a PostgreSQL database (``postgresql+asyncpg://user@host:5432/dbname``)."""
    initial_balance: float = Field(default=100_000.0, ge=0, allow_inf_nan=False)
    """The balance an account starts with, in the account currency."""
    match_interval: float = Field(default=1.0, gt=0, le=3600, allow_inf_nan=False)
    """Seconds between two checks of the working orders against the last prices."""
    api_keys: list[ApiKey] = Field(default_factory=list)
    """Keys broker API v2 accepts besides those in the database (``trading-broker keys create``)."""

    @field_validator("database_url")
    @classmethod
    def _supported_url(cls, value: str) -> str:
        normalize_url(value)
        return value
