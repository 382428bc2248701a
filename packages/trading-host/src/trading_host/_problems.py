"""Configuration problems: collected, never raised one at a time, each with its fix."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
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


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'broker'?)`` for the choices closest to ``word``, or ``""``: a typo's answer.

    The standard library's ``difflib`` ranks them, compared without case (``V2`` is ``v2``).
    """
    by_folded: dict[str, str] = {}
    for choice in choices:
        by_folded.setdefault(choice.casefold(), choice)
    close = difflib.get_close_matches(word.strip().casefold(), list(by_folded), n=3, cutoff=0.6)
    close = [by_folded[c] for c in close if by_folded[c] != word]
    if not close:
        return ""
    return f" (did you mean {' or '.join(repr(c) for c in close)}?)"
