"""``ModuleConformance``: the checks as test methods, for a plugin's own pytest suite."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from ._api import check_api
from ._distribution import check_distribution, load_apis


def _report(subject: str, problems: list[str]) -> str:
    lines = "\n".join(f"  - {problem}" for problem in problems)
    count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
    return f"{subject} does not honour the Trading API plugin contract ({count}):\n{lines}"


class ModuleConformance:
    """Subclass it as ``TestConformance`` in a plugin's tests and set ``distribution``::

        from trading_core.testing import ModuleConformance

        class TestConformance(ModuleConformance):
            distribution = "trading-news"
            settings = {"max_results": 10}  # optional: the module's [modules.<name>] table

    pytest then runs ``test_distribution`` and ``test_api_versions`` against the installed
    distribution. Nothing here needs pytest: a failing check raises ``AssertionError`` listing
    every problem, under any test runner (and under ``python -O``).
    """

    distribution: ClassVar[str]
    settings: ClassVar[Mapping[str, Any] | None] = None

    def settings_for(self, module: str) -> Mapping[str, Any] | None:
        """The settings table for ``module``; override it when a distribution provides several modules."""
        return self.settings

    def _distribution(self) -> str:
        name = getattr(self, "distribution", None)
        if not isinstance(name, str) or not name:
            raise AssertionError(
                f"{type(self).__name__} must set 'distribution' to the name of the plugin's distribution"
            )
        return name

    def test_distribution(self) -> None:
        """Entry points, API classes, Module classes and the trading-core requirement."""
        name = self._distribution()
        problems = check_distribution(name)
        if problems:
            raise AssertionError(_report(name, problems))

    def test_api_versions(self) -> None:
        """Every API version the distribution registers, built and run as the host runs it."""
        name = self._distribution()
        apis = load_apis(name)
        if not apis:
            raise AssertionError(f"{name} registers no loadable API version; test_distribution says why")
        problems = [
            f"{key}: {problem}"
            for key, api in apis.items()
            for problem in check_api(api, self.settings_for(api.module.name))
        ]
        if problems:
            raise AssertionError(_report(name, problems))
