"""The ``[modules.broker]`` configuration table."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator
from pydantic_core import PydanticCustomError

from ._database import DEFAULT_DATABASE_URL, normalize_url, sqlite_file_problem

_ORIGIN = re.compile(r"^https?://[^/?#\s]+$")

Account = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]


class ApiKey(BaseModel):
    """One API key: the account it acts for and the hex SHA-256 of its token (never the token)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    account: Account
    sha256: Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, pattern=r"^[0-9a-fA-F]{64}$")]


class AccountSettings(BaseModel):
    """Settings of one account, overriding the broker-wide ones."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    leverage: float | None = Field(default=None, ge=0, le=100, allow_inf_nan=False)
    """This account's ``leverage``; unset: the broker-wide one."""


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
    # Checked even when left at its default, which puts the file in the working directory.
    database_url: str = Field(default=DEFAULT_DATABASE_URL, validate_default=True)
    """Where the broker keeps its state: a SQLite file (the default, relative to the working
    directory) or a PostgreSQL database (``postgresql+asyncpg://user@host:5432/dbname``)."""
    initial_balance: float = Field(default=100_000.0, ge=0, allow_inf_nan=False)
    """The balance an account starts with, in the account currency."""
    match_interval: float = Field(default=1.0, gt=0, le=3600, allow_inf_nan=False)
    """Seconds between two checks of the working orders against the last prices."""
    leverage: float = Field(default=4.0, ge=0, le=100, allow_inf_nan=False)
    """Buying power as a multiple of equity: an account may hold open positions and working orders
    worth at most ``leverage`` x its equity, long and short alike (1: no more than the equity; 0:
    only orders that reduce a position). An order beyond it is refused (422 ``buying_power``)."""
    group_commit: bool = True
    """Concurrent order placements share one database transaction: one commit (one fsync) for the
    whole batch, read and written with one statement per table. Each order is still answered only
    once its batch is committed, and an order that fails does not fail the others. Off, every order
    has a transaction (and a commit) of its own."""
    outbox_retention: float = Field(default=86_400.0, ge=60, le=31_536_000, allow_inf_nan=False)
    """Seconds the outbox keeps each stream event (default one day): a v2 stream client that
    resumes with ``since`` gets every event of its account newer than that; older events are
    deleted (the REST endpoints keep the state itself for good)."""
    outbox_poll_interval: float = Field(default=5.0, gt=0, le=3600, allow_inf_nan=False)
    """Seconds between two reads of the outbox that catch up on events whose notification a
    replica missed (PostgreSQL), or that other processes committed (SQLite)."""
    accounts: dict[Account, AccountSettings] = Field(default_factory=dict)
    """Per-account settings, by account: ``accounts = {alice = {leverage = 1}}``."""
    health_details: bool = False
    """Put the database driver's errors (which may name the database) and the matcher's exceptions
    in ``/health``, which anyone may read; off, it says what failed and the server log says why."""
    api_keys: list[ApiKey] = Field(default_factory=list)
    """Keys broker API v2 accepts besides those in the database (``trading-broker keys create``)."""
    equity_interval: float = Field(default=1.0, ge=0, le=3600, allow_inf_nan=False)
    """Seconds between two ``equity`` stream updates of one account; changes in between are
    merged and the latest is sent when the interval ends (0: every change at once)."""
    stream_queue_size: int = Field(default=256, ge=1, le=100_000)
    """Stream updates queued for one client before the oldest is dropped (and the client told)."""
    stream_max_dropped: int = Field(default=1_024, ge=1, le=1_000_000)
    """Updates dropped in a row for one stream client before it is closed as too slow (code 4429)."""
    stream_origins: list[str] = Field(default_factory=list)
    """Web page origins (``https://app.example``) allowed to open broker API v1's streams besides
    the server's own; ``["*"]`` allows every page. v1 has no authentication, so by default a page
    of another site cannot read the default account's stream."""

    @field_validator("stream_origins")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        origins = []
        for origin in value:
            origin = origin.strip().rstrip("/").lower()
            if origin != "*" and not _ORIGIN.match(origin):
                fix = "write scheme://host[:port], like https://app.example, or '*'"
                raise ValueError(f"{origin!r} is not an origin: {fix}")
            origins.append(origin)
        return origins

    def leverage_of(self, account: str) -> float:
        """The leverage of ``account``: its own setting, else the broker-wide one."""
        own = self.accounts.get(account)
        return own.leverage if own is not None and own.leverage is not None else self.leverage

    @field_validator("database_url")
    @classmethod
    def _supported_url(cls, value: str) -> str:
        # A file that cannot be written here is a configuration problem, reported with every other
        # one before anything is served, not a failure of the first start-up or command.
        problem = sqlite_file_problem(normalize_url(value))
        if problem is not None:
            # The host shows ``fix`` of an error's context as the problem's fix.
            raise PydanticCustomError("database_unusable", "{reason}", {"reason": problem[0], "fix": problem[1]})
        return value
