"""Serving the user's own OHLCV files."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from trading_datafeed import RESOLUTIONS, CsvMarket, DatafeedSettings, DataFileError

P = "/api/v1/datafeed"
DAY = 86_400


def ts(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> int:
    return int(datetime(year, month, day, hour, minute, second, tzinfo=UTC).timestamp())


DAILY = """date,open,high,low,close,volume
2024-01-02,100.5,102,99.75,101,1000
2024-01-03,101,103.25,100,102.5,1100
2024-01-04,102.5,104,101.5,103,900
2024-01-05,103,103.5,98,99,1500
2024-01-08,99,100,97.5,98.5,800
2024-01-09,98.5,99.5,96,97,1200
"""


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "acme.csv").write_text(DAILY)
    start = ts(2024, 1, 2, 9, 30)
    rows = ["timestamp,open,high,low,close"]
    for i in range(6):
        price = 10 + i / 100
        rows.append(f"{start + 300 * i},{price:.2f},{price + 0.02:.2f},{price - 0.01:.2f},{price + 0.01:.2f}")
    (tmp_path / "FIVE.csv").write_text("\n".join(rows) + "\n")
    return tmp_path


def test_files_become_symbols_with_their_resolutions(folder):
    market = CsvMarket(folder)
    market.load()
    symbols = {s.ticker: s for s in market.symbols()}
    assert set(symbols) == {"ACME", "FIVE"}
    assert [r.code for r in symbols["ACME"].resolutions] == ["1D", "1W", "1M"]
    assert [r.code for r in symbols["FIVE"].resolutions] == ["5", "15", "30", "60", "240", "1D", "1W", "1M"]
    assert symbols["ACME"].pricescale == 100


def test_csv_history_through_the_api(make_client, folder):
    client = make_client({"csv_dir": str(folder)})
    info = client.get(f"{P}/symbols", params={"symbol": "acme"}).json()
    assert (info["ticker"], info["exchange"], info["has_intraday"], info["data_status"]) == (
        "ACME",
        "CSV",
        False,
        "endofday",
    )
    body = client.get(
        f"{P}/history", params={"symbol": "ACME", "resolution": "1D", "from": 0, "to": ts(2024, 1, 5)}
    ).json()
    assert body == {
        "s": "ok",
        "t": [ts(2024, 1, 2), ts(2024, 1, 3), ts(2024, 1, 4)],
        "o": [100.5, 101, 102.5],
        "h": [102, 103.25, 104],
        "l": [99.75, 100, 101.5],
        "c": [101, 102.5, 103],
        "v": [1000, 1100, 900],
    }
    weekly = client.get(f"{P}/history", params={"symbol": "ACME", "resolution": "1W", "from": 0, "to": ts(2025, 1, 1)})
    assert weekly.json() == {
        "s": "ok",
        "t": [ts(2024, 1, 1), ts(2024, 1, 8)],
        "o": [100.5, 99],
        "h": [104, 100],
        "l": [98, 96],
        "c": [99, 97],
        "v": [4500, 2000],
    }
    # A weekend has no bars: no_data, and nextTime points at the Friday before it.
    weekend = client.get(
        f"{P}/history", params={"symbol": "ACME", "resolution": "1D", "from": ts(2024, 1, 6), "to": ts(2024, 1, 8)}
    )
    assert weekend.json() == {"s": "no_data", "nextTime": ts(2024, 1, 5)}
    minute = client.get(f"{P}/history", params={"symbol": "ACME", "resolution": "1", "from": 0, "to": 10**9})
    assert minute.json()["s"] == "error"
    quote = client.get(f"{P}/quotes", params={"symbols": "ACME"}).json()["d"][0]["v"]
    assert (quote["lp"], quote["prev_close_price"], quote["ch"]) == (97, 98.5, -1.5)
    config = client.get(f"{P}/config").json()
    assert config["supported_resolutions"] == ["5", "15", "30", "60", "240", "1D", "1W", "1M"]


def test_intraday_files_aggregate_to_coarser_bars(folder):
    market = CsvMarket(folder)
    market.load()
    quarter = market.bars("FIVE", RESOLUTIONS["15"], end=ts(2025, 1, 1), start=None, limit=10, now=0)
    assert [b.time for b in quarter] == [ts(2024, 1, 2, 9, 30), ts(2024, 1, 2, 9, 45)]
    assert (quarter[0].open, quarter[0].close, quarter[0].high, quarter[0].low) == (10.0, 10.03, 10.04, 9.99)
    assert market.bars("FIVE", RESOLUTIONS["1"], end=ts(2025, 1, 1), start=None, limit=10, now=0) == []
    latest = market.bars("FIVE", RESOLUTIONS["5"], end=ts(2025, 1, 1), start=None, limit=2, now=0)
    assert [b.time for b in latest] == [ts(2024, 1, 2, 9, 50), ts(2024, 1, 2, 9, 55)]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("open,high,low,close\n1,2,0,1\n", "lacks time"),
        ("time,open,high,low\n0,1,2,0\n", "lacks close"),
        ("time,open,high,low,close\n86400,1,0.5,0.9,1\n", ":2: expected low <= open, close <= high"),
        ("time,open,high,low,close\nnot-a-time,1,2,0,1\n", ":2:"),
        ("time,open,high,low,close\n86400,1,2,0,x\n", ":2:"),
        ("time,open,high,low,close\n86400,1,2,0,1\n86400,1,2,0,1\n", "two rows for time 86400"),
        ("time,open,high,low,close\n0,1,2,0,1\n70,1,2,0,1\n", "70 s apart"),
        ("time,open,high,low,close\n30,1,2,0,1\n90,1,2,0,1\n", "does not start a 1 bar"),
        ("time,open,high,low,close\n", "no rows"),
    ],
)
def test_bad_files_are_named_with_the_problem(tmp_path, content, message):
    (tmp_path / "BAD.csv").write_text(content)
    with pytest.raises(DataFileError, match=r"BAD\.csv") as caught:
        CsvMarket(tmp_path).load()
    assert message in str(caught.value)


def test_an_empty_folder_is_an_error_at_start_up(tmp_path):
    with pytest.raises(DataFileError, match=r"no \*\.csv files"):
        CsvMarket(tmp_path).load()


def test_csv_dir_must_exist(tmp_path):
    with pytest.raises(ValidationError, match="csv_dir"):
        DatafeedSettings.model_validate({"csv_dir": str(tmp_path / "missing")})
    with pytest.raises(ValidationError, match="extra"):
        DatafeedSettings.model_validate({"csv_directory": str(tmp_path)})
