"""API keys in the database: create, list, revoke, and find the account of a bearer token."""

from __future__ import annotations

from datetime import datetime

from ._auth import ApiKeyring, StoredKey, hash_api_key, key_id_of, matches, new_key_token
from ._errors import UnknownApiKey
from ._store import BrokerStore

# A stand-in compared against when a token names no stored key, so that an unknown id costs
# the same hashing and comparison as a known one.
_ABSENT = hash_api_key("")


async def create_key(
    store: BrokerStore, account: str, *, now: datetime, label: str | None = None
) -> tuple[StoredKey, str]:
    """A new key for ``account``: the stored record (its hash) and the token, which is stored nowhere."""
    account = account.strip()
    if not account or len(account) > 128:
        raise ValueError("the account must be 1 to 128 characters")
    key_id, token = new_key_token()
    key = StoredKey(id=key_id, account=account, sha256=hash_api_key(token), created_at=now, label=label)
    async with store.write() as tx:
        await tx.insert_api_key(key)
    return key, token


async def list_keys(store: BrokerStore, account: str | None = None) -> list[StoredKey]:
    """The stored keys (hashes only), oldest first, optionally of one account."""
    async with store.read() as tx:
        return await tx.api_keys(account)


async def revoke_key(store: BrokerStore, key_id: str, *, now: datetime) -> StoredKey:
    """Revoke a key at once: its token gets 401 from then on. :class:`UnknownApiKey` if there is none."""
    async with store.write() as tx:
        key = await tx.revoke_api_key(key_id, now)
    if key is None:
        raise UnknownApiKey(key_id)
    return key


async def authenticate(store: BrokerStore, keyring: ApiKeyring, token: str) -> str | None:
    """The account ``token`` acts for: a live key in the database, else a key from the settings."""
    key_id = key_id_of(token)
    if key_id is not None:
        async with store.read() as tx:
            key = await tx.api_key(key_id)
        ok = matches(token, key.sha256 if key is not None else _ABSENT)
        if key is not None and ok and key.active:
            return key.account
    return keyring.account_for(token)
