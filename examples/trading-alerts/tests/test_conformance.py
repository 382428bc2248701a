"""trading-alerts honours the plugin contract, as trading-core's conformance kit checks it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from trading_core.testing import ModuleConformance


# --8<-- [start:conformance]
class TestConformance(ModuleConformance):
    distribution = "trading-alerts"


class TestConformanceWithSettings(ModuleConformance):
    distribution = "trading-alerts"
    settings: ClassVar[Mapping[str, Any]] = {"max_alerts": 5}


# --8<-- [end:conformance]
