"""A token sent in a query string (as browsers must for WebSockets) is not written to the server's log."""

from __future__ import annotations

from harness import BIN, Serve


def test_query_tokens_are_redacted_from_the_access_log(serve: Serve) -> None:
    server = serve([str(BIN / "trading-host"), "serve", "--port", "{port}"])
    assert server.get("/api/v1/core/health", params={"access_token": "tb_sekrit_value"}).status_code == 200
    output = server.stop()
    assert "/api/v1/core/health?access_token=[redacted]" in output
    assert "tb_sekrit_value" not in output
