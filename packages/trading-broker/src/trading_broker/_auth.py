"""API keys: each token belongs to one account, and only its SHA-256 is ever stored."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable


def hash_api_key(token: str) -> str:
    """The hex SHA-256 of ``token``, the form in which a key is configured and stored."""
    return hashlib.sha256(token.encode()).hexdigest()


def generate_api_key() -> tuple[str, str]:
    """A new random token and its hash: give the token to the client, configure the hash."""
    token = secrets.token_urlsafe(32)
    return token, hash_api_key(token)


class ApiKeyring:
    """Finds the account a bearer token belongs to, comparing hashes in constant time."""

    def __init__(self, keys: Iterable[tuple[str, str]] = ()) -> None:
        """``keys``: (account, hex SHA-256 of the token) pairs."""
        self._keys = [(account, digest.lower()) for account, digest in keys]

    def account_for(self, token: str) -> str | None:
        """The account of ``token``, or ``None`` when no key matches."""
        digest = hash_api_key(token)
        found: str | None = None
        # Compare with every key, without stopping at a match, so the time taken tells nothing.
        for account, stored in self._keys:
            if hmac.compare_digest(digest, stored):
                found = account
        return found
