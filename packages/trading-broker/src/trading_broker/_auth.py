"""API keys: each token belongs to one account, and only its SHA-256 is ever stored.

A key made by ``trading-broker keys create`` looks like ``tb_<id>_<secret>``: the public ``id``
finds the stored key, and the hash of the whole token is then compared in constant time. Keys
configured in the settings are hashes of tokens of any form, compared against every configured
hash in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

TOKEN_PREFIX = "tb_"
_TOKEN = re.compile(r"^tb_([0-9a-f]{12})_[A-Za-z0-9_-]{20,}$")


@dataclass(frozen=True)
class StoredKey:
    """An API key as the database keeps it: never the token, only its hash."""

    id: str
    account: str
    sha256: str
    created_at: datetime
    label: str | None = None
    revoked_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def hash_api_key(token: str) -> str:
    """The hex SHA-256 of ``token``, the form in which a key is configured and stored."""
    return hashlib.sha256(token.encode()).hexdigest()


def generate_api_key() -> tuple[str, str]:
    """A new random token for the settings' ``api_keys`` and its hash: give the token to the
    client, configure the hash."""
    token = secrets.token_urlsafe(32)
    return token, hash_api_key(token)


def new_key_token() -> tuple[str, str]:
    """A new database key: its public id and its token (``tb_<id>_<secret>``)."""
    key_id = secrets.token_hex(6)
    return key_id, f"{TOKEN_PREFIX}{key_id}_{secrets.token_urlsafe(32)}"


def key_id_of(token: str) -> str | None:
    """The id a database key's token carries, or ``None`` for a token of another form."""
    match = _TOKEN.match(token)
    return match.group(1) if match else None


def matches(token: str, stored_sha256: str) -> bool:
    """Whether ``token`` hashes to ``stored_sha256``, compared in constant time."""
    return hmac.compare_digest(hash_api_key(token), stored_sha256.lower())


class ApiKeyring:
    """The keys configured in the settings: finds a token's account in constant time."""

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
