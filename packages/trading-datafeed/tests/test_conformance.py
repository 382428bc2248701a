"""The datafeed honours the platform's contract (trading_core.testing), streams included."""

from __future__ import annotations

from trading_core.testing import ModuleConformance


class TestConformance(ModuleConformance):
    distribution = "trading-datafeed"
