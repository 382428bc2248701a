"""Keep credentials out of the server's logs.

uvicorn logs each request's path with its query string (``uvicorn.access``) and each WebSocket
handshake's (``uvicorn.error``). Browsers cannot set headers on a WebSocket, so streams accept a
token in the query (``?access_token=``, RFC 6750): without this filter it would be written to the
log in clear.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import unquote_plus

_PARAMETER = re.compile(r"((?:^|[?&])([^=&?/\s\"#]*)=)[^&\s\"#]*")
_SECRETS = frozenset({"access_token", "token", "api_key"})
REDACTED = "[redacted]"


def _redact_parameter(match: re.Match[str]) -> str:
    # Named as the app reads it: percent-decoded (?%61ccess_token= is ?access_token=).
    name = unquote_plus(match.group(2)).strip().lower()
    return match.group(1) + REDACTED if name in _SECRETS else match.group(0)


def redact(text: str) -> str:
    """``text`` with the values of credential query parameters replaced, however their names are
    percent-encoded."""
    if "=" not in text:
        return text
    return _PARAMETER.sub(_redact_parameter, text)


class RedactCredentials(logging.Filter):
    """Rewrites a log record's string arguments (the request path) with credentials redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        return True


def redact_server_logs() -> None:
    """Install the filter on uvicorn's loggers (once)."""
    for name in ("uvicorn.access", "uvicorn.error"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactCredentials) for f in logger.filters):
            logger.addFilter(RedactCredentials())
