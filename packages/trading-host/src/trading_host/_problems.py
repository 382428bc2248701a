"""Configuration problems: collected, never raised one at a time, each with its fix."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One thing that stops the host from serving, and what to do about it.

    ``code`` is a stable identifier (``module-not-installed``, ``unknown-global-version``...)
    that scripts may rely on; ``message`` and ``fix`` are for people.
    """

    code: str
    message: str
    fix: str

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}\n    fix: {self.fix}"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class ConfigError(Exception):
    """The configuration cannot be served; ``problems`` lists every reason found, not just the first."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        super().__init__(self._render())

    def _render(self) -> str:
        count = len(self.problems)
        head = f"the Trading API cannot start: {count} configuration problem{'s' if count != 1 else ''}"
        return "\n".join([head, *(f"  - {p}" for p in self.problems)])
