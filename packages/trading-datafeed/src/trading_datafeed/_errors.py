"""What the datafeed service raises; the UDF routes answer each with ``{"s": "error", "errmsg": ...}``."""

from __future__ import annotations


class DatafeedError(Exception):
    """Base of the errors of a datafeed request."""


class UnknownSymbol(DatafeedError):
    """The symbol is not in the feed."""

    def __init__(self, symbol: str) -> None:
        super().__init__(f"unknown symbol {symbol!r}")
        self.symbol = symbol


class UnknownGroup(DatafeedError):
    """No symbol belongs to the group (an exchange) asked for."""

    def __init__(self, group: str, groups: list[str]) -> None:
        super().__init__(f"unknown group {group!r}; groups: {', '.join(groups)}")
        self.group = group


class InvalidParameter(DatafeedError):
    """A request parameter has a value the feed cannot serve."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(message)
        self.parameter = parameter


class DataFileError(DatafeedError):
    """An OHLCV file that cannot be read; the message names the file and line."""


class TooManyRequests(DatafeedError):
    """A client already has its most requests computed or waiting; answered 429."""

    def __init__(self, client: str, most: int) -> None:
        super().__init__(
            f"too many requests at once from {client}: at most {most} are computed or waiting; "
            "send the next when one has been answered"
        )
        self.client = client


class Busy(DatafeedError):
    """Every compute thread is taken and the queue of waiting requests is full; answered 503."""

    def __init__(self, waiting: int) -> None:
        super().__init__(f"the datafeed is busy ({waiting} requests waiting); try again in a moment")
