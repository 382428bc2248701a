"""The ``[modules.broker]`` configuration table."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

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
    api_keys = [{account = "demo", sha256 = "<hex sha256 of the token>"}]
    ```
    """

    model_config = ConfigDict(extra="forbid")

    default_account: Account = "default"
    """The account broker API v1, which has no authentication, acts on."""
    api_keys: list[ApiKey] = Field(default_factory=list)
    """The keys broker API v2 accepts; create one with ``python -m trading_broker new-key ACCOUNT``."""
