"""Net positions: averaging in, realising P&L, closing at zero, flipping past zero."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trading_broker import Position, Side, apply_fill

T = datetime(2025, 1, 6, tzinfo=UTC)


def fill(position: Position | None, side: Side, quantity: float, price: float, symbol: str = "AAPL"):
    return apply_fill(position, account="acc", symbol=symbol, side=side, quantity=quantity, price=price, at=T)


def test_same_side_fills_average_the_price():
    position, realised = fill(None, Side.BUY, 10, 100.0)
    assert (position.quantity, position.average_price, realised) == (10, 100.0, 0.0)
    position, realised = fill(position, Side.BUY, 30, 104.0)
    assert (position.quantity, position.average_price, realised) == (40, 103.0, 0.0)
    assert (position.side, position.size, position.is_open) == (Side.BUY, 40, True)


def test_an_opposite_fill_realises_and_reduces():
    position, _ = fill(None, Side.BUY, 10, 100.0)
    position, realised = fill(position, Side.SELL, 4, 110.0)
    assert (position.quantity, position.average_price, realised, position.realised_pnl) == (6, 100.0, 40.0, 40.0)


def test_at_zero_the_position_closes():
    position, _ = fill(None, Side.SELL, 5, 50.0)
    position, realised = fill(position, Side.BUY, 5, 45.0)
    assert (position.quantity, position.average_price, realised) == (0, 0.0, 25.0)  # a short gains on a fall
    assert not position.is_open
    assert position.unrealised_pnl == 0.0


def test_past_zero_the_side_flips_at_the_fill_price():
    position, _ = fill(None, Side.BUY, 10, 100.0)
    position, realised = fill(position, Side.SELL, 25, 90.0)
    assert (position.quantity, position.side, position.average_price, realised) == (-15, Side.SELL, 90.0, -100.0)
    position, realised = fill(position, Side.BUY, 20, 95.0)
    assert (position.quantity, position.side, position.average_price, realised) == (5, Side.BUY, 95.0, -75.0)
    assert position.realised_pnl == -175.0


def test_lots_that_floats_cannot_add_still_close_at_exactly_zero():
    position = None
    for _ in range(3):
        position, _ = fill(position, Side.BUY, 0.1, 65000.0, symbol="BTCUSD")
    assert position is not None
    assert position.quantity == 0.3  # 0.1 + 0.1 + 0.1 is 0.30000000000000004 in floats
    position, _ = fill(position, Side.SELL, 0.3, 65000.0, symbol="BTCUSD")
    assert position.quantity == 0


@pytest.mark.parametrize(("quantity", "last", "expected"), [(10, 101.5, 15.0), (-10, 101.5, -15.0), (0, 5.0, 0.0)])
def test_unrealised_pnl_is_measured_at_the_last_price(quantity, last, expected):
    position = Position("acc", "AAPL", quantity, 100.0, 0.0, T, last_price=last)
    assert position.unrealised_pnl == expected
    assert Position("acc", "AAPL", quantity, 100.0, 0.0, T).unrealised_pnl == 0.0  # not valued


fills = st.lists(
    st.tuples(st.sampled_from([Side.BUY, Side.SELL]), st.integers(1, 50), st.integers(1, 20_000)),
    min_size=1,
    max_size=30,
)


@given(fills, st.integers(1, 20_000))
def test_pnl_adds_up_to_the_cash_that_changed_hands(trades, final_cents):
    """Realised plus unrealised P&L equals what was received minus what was paid, plus what the
    position is worth at the last price, whatever the sequence of fills."""
    position: Position | None = None
    realised = Decimal(0)
    cash = Decimal(0)
    held = 0
    for side, quantity, cents in trades:
        price = cents / 100
        position, gained = fill(position, side, quantity, price)
        realised += Decimal(repr(gained))
        signed = quantity if side is Side.BUY else -quantity
        held += signed
        cash -= signed * Decimal(cents) / 100
        assert position.quantity == held
        if held == 0:
            assert position.average_price == 0
    assert position is not None
    last = final_cents / 100
    valued = Position(**{**position.__dict__, "last_price": last})
    total = realised + Decimal(repr(valued.unrealised_pnl))
    assert float(total) == pytest.approx(float(cash + held * Decimal(final_cents) / 100), abs=1e-6)
    assert valued.realised_pnl == pytest.approx(float(realised), abs=1e-6)
