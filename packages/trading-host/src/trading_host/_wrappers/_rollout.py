"""Gradual rollout: an alias (``/api/latest/...``) that sends each caller to one served global
version, by weight, the same version every time.

The caller attribute (a header, a cookie or the API key) is hashed with SHA-256, never with
Python's ``hash()``, which is salted per process: the same caller lands on the same version in
every worker process and after every restart. The hash is read as a point in [0, 1) and the
weights, in the order the config lists them, cut that interval into one slice per version; so
raising the weight of the version listed last never moves a caller back to an earlier-listed one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping

from starlette.types import Scope, Send

from .._asgi import with_headers
from .._caller import CallerKey

VERSION_HEADER = "X-API-Global-Version"
"""The response header naming the global version that served a request made through the alias."""


class Rollout:
    """Picks the global version of each request to ``alias``."""

    def __init__(
        self,
        alias: str,
        key: CallerKey,
        weights: Mapping[str, int],
        fallback: str,
        observe: Callable[[str], None] | None = None,
    ) -> None:
        self.alias = alias
        self.key = key
        self.weights = dict(weights)
        self.fallback = fallback
        self.observe = observe
        self._total = sum(self.weights.values())
        bounds, running = [], 0
        for version, weight in self.weights.items():
            running += weight
            bounds.append((running, version))
        self._bounds = bounds
        self._headers = {v: [(VERSION_HEADER.lower().encode(), v.encode())] for v in self.weights}
        self._headers.setdefault(fallback, [(VERSION_HEADER.lower().encode(), fallback.encode())])

    def pick(self, caller: str) -> str:
        """The global version of the caller whose attribute is ``caller``."""
        digest = hashlib.sha256(f"{self.alias}\x00{caller}".encode()).digest()
        # floor(h * total / 2**64) < bound  <=>  h / 2**64 < bound / total: exact, whatever the scale of the weights.
        point = (int.from_bytes(digest[:8], "big") * self._total) >> 64
        for bound, version in self._bounds:
            if point < bound:
                return version
        return self._bounds[-1][1]  # unreachable while the total is positive, which the config check ensures

    def choose(self, scope: Scope) -> str:
        caller = self.key.value(scope)
        return self.fallback if caller is None else self.pick(caller)

    def announce(self, send: Send, chosen: str) -> Send:
        if self.observe is not None:
            self.observe(chosen)
        return with_headers(send, self._headers[chosen])
