"""trading-news honours the plugin contract, as trading-core's conformance kit checks it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from trading_core.testing import ModuleConformance


class TestConformance(ModuleConformance):
    distribution = "trading-news"


class TestConformanceWithSettings(ModuleConformance):
    distribution = "trading-news"
    settings: ClassVar[Mapping[str, Any]] = {"max_results": 2}
