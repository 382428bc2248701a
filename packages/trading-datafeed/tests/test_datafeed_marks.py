"""Datafeed API v1: /symbol_info (UDF group requests), /marks and /timescale_marks."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

P = "/api/v1/datafeed"
DAY = 86_400


def ts(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> int:
    return int(datetime(year, month, day, hour, minute, second, tzinfo=UTC).timestamp())


def get(client: TestClient, route: str, **params: Any) -> Any:
    response = client.get(f"{P}/{route}", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def window(start: int, end: int, symbol: str = "AAPL", resolution: str = "1D") -> dict[str, object]:
    return {"symbol": symbol, "from": start, "to": end, "resolution": resolution}


# --- /symbol_info ------------------------------------------------------------------------------


def test_symbol_info_is_a_table_with_one_entry_per_symbol(client):
    table = get(client, "symbol_info")
    assert len(table["symbol"]) == 12
    assert {len(column) for column in table.values()} == {12}
    assert "s" not in table
    aapl = table["symbol"].index("AAPL")
    resolved = get(client, "symbols", symbol="AAPL")
    expected = {
        "ticker": resolved["ticker"],
        "description": resolved["description"],
        "type": resolved["type"],
        "exchange-listed": resolved["listed_exchange"],
        "exchange-traded": resolved["exchange"],
        "session-regular": resolved["session"],
        "timezone": resolved["timezone"],
        "minmovement": resolved["minmov"],
        "pricescale": resolved["pricescale"],
        "has-intraday": resolved["has_intraday"],
        "has-daily": resolved["has_daily"],
        "has-weekly-and-monthly": resolved["has_weekly_and_monthly"],
        "supported-resolutions": resolved["supported_resolutions"],
        "intraday-multipliers": resolved["intraday_multipliers"],
        "volume-precision": resolved["volume_precision"],
        "currency-code": resolved["currency_code"],
    }
    assert {key: table[key][aapl] for key in expected} == expected


def test_symbol_info_groups_are_exchanges(client):
    fx = get(client, "symbol_info", group="fx")
    assert fx["symbol"] == ["EURUSD", "GBPUSD", "USDJPY"]
    assert fx["exchange-traded"] == ["FX"] * 3
    assert fx["pricescale"] == [100_000, 100_000, 1_000]
    unknown = client.get(f"{P}/symbol_info", params={"group": "NYSE"})
    assert unknown.status_code == 404
    assert unknown.json() == {"s": "error", "errmsg": "unknown group 'NYSE'; groups: CRYPTO, FX, NASDAQ, NYSEARCA"}


def test_symbol_info_of_files_has_no_currency(make_client, tmp_path):
    (tmp_path / "ONE.csv").write_text("date,open,high,low,close\n2024-01-02,1,2,0.5,1.5\n")
    table = get(make_client({"csv_dir": str(tmp_path)}), "symbol_info", group="CSV")
    assert table["symbol"] == ["ONE"]
    assert table["has-intraday"] == [False]
    assert "currency-code" not in table


# --- /marks ------------------------------------------------------------------------------------


def daily_moves(client, symbol: str, start: int, end: int) -> dict[int, tuple[float, float]]:
    """Each day's close-to-close move and the average absolute move of the 20 days before it."""
    bars = get(client, "history", symbol=symbol, resolution="1D", to=end, **{"from": start - 40 * DAY})
    closes = dict(zip(bars["t"], bars["c"], strict=True))
    times = sorted(closes)
    moves = {b: closes[b] / closes[a] - 1 for a, b in itertools.pairwise(times)}
    out = {}
    for i, t in enumerate(times[21:], start=21):
        if start <= t < end:
            before = [abs(moves[times[j]]) for j in range(i - 20, i)]
            out[t] = (moves[t], sum(before) / 20)
    return out


def test_marks_point_out_the_big_daily_moves(client):
    start, end = ts(2023, 1, 1), ts(2024, 1, 1)
    marks = get(client, "marks", **window(start, end, "BTCUSD"))
    moves = daily_moves(client, "BTCUSD", start, end)
    big = {t for t, (move, typical) in moves.items() if abs(move) >= 2.5 * typical}
    assert [m["time"] for m in marks] == sorted(big)
    assert len(marks) >= 3
    for mark in marks:
        move, _ = moves[mark["time"]]
        assert set(mark) == {"id", "time", "color", "text", "label", "labelFontColor"}
        assert (mark["color"], mark["label"]) == (("green", "U") if move > 0 else ("red", "D"))
        assert f"{abs(move) * 100:.2f}%" in mark["text"]
        assert mark["time"] % DAY == 0


def test_marks_do_not_depend_on_the_range_asked(client):
    wide = get(client, "marks", **window(ts(2022, 1, 1), ts(2024, 1, 1), "TSLA", "60"))
    narrow = get(client, "marks", **window(ts(2023, 3, 1), ts(2023, 9, 1), "TSLA", "5"))
    assert narrow == [m for m in wide if ts(2023, 3, 1) <= m["time"] < ts(2023, 9, 1)]
    assert narrow
    assert get(client, "marks", **window(ts(2022, 1, 1), ts(2024, 1, 1), "TSLA", "60")) == wide


def test_marks_of_a_file(make_client, tmp_path):
    rows = ["date,open,high,low,close"]
    close = 100.0
    for day in range(1, 32):
        # A 1% zigzag every day and one 12% jump on the 30th.
        new = close * (1.12 if day == 30 else (1.01 if day % 2 else 1 / 1.01))
        rows.append(f"2024-01-{day:02d},{close:.4f},{max(close, new):.4f},{min(close, new):.4f},{new:.4f}")
        close = new
    (tmp_path / "ZIG.csv").write_text("\n".join(rows) + "\n")
    client = make_client({"csv_dir": str(tmp_path)})
    marks = get(client, "marks", **window(ts(2024, 1, 1), ts(2024, 2, 1), "ZIG"))
    assert [(m["time"], m["label"], m["color"]) for m in marks] == [(ts(2024, 1, 30), "U", "green")]
    assert "ZIG rose 12.00% on 2024-01-30" in marks[0]["text"]


@pytest.mark.parametrize(
    ("params", "status", "message"),
    [
        (window(10, 20, "NOPE"), 404, "unknown symbol 'NOPE'"),
        (window(20, 10), 422, "'from' (20) must be earlier than 'to' (10)"),
        (window(10, 20, resolution="7"), 422, "unsupported resolution '7'"),
        ({"symbol": "AAPL", "from": 10, "to": 20}, 422, "resolution: Field required"),
    ],
)
@pytest.mark.parametrize("route", ["marks", "timescale_marks"])
def test_bad_mark_requests_are_udf_errors(client, route, params, status, message):
    response = client.get(f"{P}/{route}", params=params)
    assert response.status_code == status
    assert response.json() == {"s": "error", "errmsg": response.json()["errmsg"]}
    assert message in response.json()["errmsg"]


# --- /timescale_marks --------------------------------------------------------------------------


def test_timescale_marks_open_each_quarter_with_its_change(client):
    marks = get(client, "timescale_marks", **window(ts(2024, 1, 1), ts(2025, 1, 1), "MSFT"))
    assert [m["time"] for m in marks] == [ts(2024, 1, 1), ts(2024, 4, 1), ts(2024, 7, 1), ts(2024, 10, 1)]
    assert [m["label"] for m in marks] == ["1", "2", "3", "4"]
    months = get(client, "history", symbol="MSFT", resolution="1M", to=ts(2025, 1, 1), **{"from": ts(2023, 10, 1)})
    closes = dict(zip(months["t"], months["c"], strict=True))
    quarter_ends = [ts(2023, 12, 1), ts(2024, 3, 1), ts(2024, 6, 1), ts(2024, 9, 1), ts(2024, 12, 1)]
    for mark, before, last in zip(marks, quarter_ends, quarter_ends[1:], strict=False):
        change = closes[last] / closes[before] - 1
        assert mark["color"] == ("green" if change >= 0 else "red")
        assert mark["tooltip"][0] == f"Q{mark['label']} 2024"
        assert f"{change * 100:+.2f}%" in mark["tooltip"][1]
    assert marks == get(client, "timescale_marks", **window(ts(2024, 1, 1), ts(2025, 1, 1), "MSFT"))


def test_timescale_marks_stop_at_the_present(client, now):
    marks = get(client, "timescale_marks", **window(ts(2024, 12, 1), int(now) + 365 * DAY, "AAPL"))
    assert [m["time"] for m in marks] == [ts(2025, 1, 1)]  # the clock stands in March 2025
