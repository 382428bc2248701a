"""Cross-origin access for chart pages, decided by the module's ``cors_origins`` setting.

The module cannot add middleware to an app it does not own, so its routes apply the policy.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

ALLOWED_METHODS = "GET, OPTIONS"


@dataclass(frozen=True)
class CorsPolicy:
    """Which origins may read the feed's responses from a browser."""

    origins: frozenset[str]

    @classmethod
    def from_origins(cls, origins: Iterable[str]) -> CorsPolicy:
        return cls(frozenset(o.rstrip("/") for o in origins))

    def allow_origin(self, origin: str | None) -> str | None:
        """The ``Access-Control-Allow-Origin`` value for a request from ``origin``, or ``None``."""
        if origin is None:
            return None
        if "*" in self.origins:
            return "*"
        return origin if origin.rstrip("/") in self.origins else None

    def headers(self, origin: str | None) -> dict[str, str]:
        """Headers to add to a response to a request from ``origin``."""
        allowed = self.allow_origin(origin)
        if allowed is None:
            return {}
        headers = {"Access-Control-Allow-Origin": allowed}
        if allowed != "*":
            # The answer depends on the Origin header, so caches must keep one per origin.
            headers["Vary"] = "Origin"
        return headers

    def preflight_headers(self, origin: str | None, requested_headers: str | None) -> dict[str, str] | None:
        """Headers answering a preflight request, or ``None`` when ``origin`` is not allowed."""
        headers = self.headers(origin)
        if not headers:
            return None
        headers["Access-Control-Allow-Methods"] = ALLOWED_METHODS
        headers["Access-Control-Max-Age"] = "600"
        if requested_headers:
            headers["Access-Control-Allow-Headers"] = requested_headers
        return headers
