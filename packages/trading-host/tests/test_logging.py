"""Credentials in query strings never reach the server's logs."""

from __future__ import annotations

import logging

from trading_host._wrappers._redaction import REDACTED, RedactCredentials, redact, redact_server_logs


def test_redact_replaces_credential_values_only() -> None:
    assert redact("/api/v2/broker/ws?access_token=tb_1_secret") == f"/api/v2/broker/ws?access_token={REDACTED}"
    assert redact("/x?a=1&token=abc&b=2") == f"/x?a=1&token={REDACTED}&b=2"
    assert redact("/x?API_KEY=abc") == f"/x?API_KEY={REDACTED}"
    assert redact("/x?tokens=1&mytoken=2") == "/x?tokens=1&mytoken=2"
    assert redact("/api/v1/broker/orders") == "/api/v1/broker/orders"


def test_uvicorn_access_records_are_redacted() -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/v2/ws?access_token=secret", "1.1", 101),
        None,
    )
    assert RedactCredentials().filter(record)
    assert "secret" not in record.getMessage()
    assert REDACTED in record.getMessage()


def test_installed_once_on_both_uvicorn_loggers() -> None:
    redact_server_logs()
    redact_server_logs()
    for name in ("uvicorn.access", "uvicorn.error"):
        assert sum(isinstance(f, RedactCredentials) for f in logging.getLogger(name).filters) == 1
