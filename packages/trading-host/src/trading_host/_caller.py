"""Who is calling: the caller attribute that rollout hashes and the metrics name clients by."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal

from starlette.requests import cookie_parser
from starlette.types import Scope

API_KEY = "api_key"
# Headers that carry secrets: their raw value must never become a metrics label.
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "x-api-key"})
_LABEL_LIMIT = 64


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def api_key(scope: Scope) -> str | None:
    """The request's API key: ``Authorization: Bearer <key>`` or ``X-API-Key: <key>``."""
    authorization = _header(scope, b"authorization")
    if authorization is not None:
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return token.strip()
    key = _header(scope, b"x-api-key")
    return (key.strip() or None) if key is not None else None


def key_digest(key: str) -> str:
    """The hex SHA-256 of an API key: the form the broker's config stores keys in."""
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class CallerKey:
    """A caller attribute: ``api_key`` (hashed, never kept), ``header:<name>`` or ``cookie:<name>``."""

    kind: Literal["api_key", "header", "cookie"]
    name: str = ""

    @classmethod
    def parse(cls, spec: str, *, shown: bool = False) -> CallerKey:
        """Read a spec; ``shown`` when the value will be shown (as a metrics label), so that a
        header carrying a secret is refused. ``ValueError`` names what is wrong."""
        if spec == API_KEY:
            return cls("api_key")
        kind, _, name = spec.partition(":")
        name = name.strip()
        if kind not in ("header", "cookie") or not name:
            raise ValueError(f"{spec!r} is not a caller attribute; write 'api_key', 'header:<name>' or 'cookie:<name>'")
        if kind == "cookie":
            return cls("cookie", name)
        if shown and name.lower() in SECRET_HEADERS:
            raise ValueError(f"header {name!r} carries a secret that would be shown in the metrics; use 'api_key'")
        return cls("header", name.lower())

    def value(self, scope: Scope) -> str | None:
        """The attribute's value for this request, ``None`` when the caller does not send it.
        An API key is returned as its SHA-256, so the key itself goes no further."""
        if self.kind == "api_key":
            key = api_key(scope)
            return key_digest(key) if key is not None else None
        if self.kind == "header":
            found = _header(scope, self.name.encode("latin-1"))
            return (found.strip() or None) if found is not None else None
        cookies = _header(scope, b"cookie")
        if cookies is None:
            return None
        return cookie_parser(cookies).get(self.name) or None

    def label(self, scope: Scope) -> str:
        """A short name for the caller, safe to show: ``key:<first 16 hex of the SHA-256>``, the
        header's or cookie's value (cut to 64 characters), or ``anonymous``."""
        value = self.value(scope)
        if value is None:
            return "anonymous"
        if self.kind == "api_key":
            return f"key:{value[:16]}"
        return value[:_LABEL_LIMIT]
