"""The local stack's API keys: one per named client of the stack config, or the single default key (pure).

On AWS each key has a value (the secret the client sends as ``x-api-key``) and an id (what API Gateway puts in
``requestContext.identity.apiKeyId`` and what the function meters by). Locally the values are random unless given
(``--api-key`` for the default key) and the ids are derived from the client name, 10 lowercase letters and digits
like API Gateway's, so they stay the same across restarts. The function gets the same ``{id: client}`` map in
``CLIENT_KEY_IDS`` as the deployed one.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from streaming_bedrock_api.client_specs import DEFAULT_CLIENT
from streaming_bedrock_api.settings import Settings

# The id of the single default key (kept from before named clients existed).
DEFAULT_KEY_ID = "local-api-key"
KEY_IDS_ENV = "CLIENT_KEY_IDS"
_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True)
class LocalApiKey:
    """One accepted key: the client it belongs to, its id and its value."""

    client: str
    key_id: str
    value: str


def local_key_id(client: str) -> str:
    """A stable, API-Gateway-shaped id (10 of [0-9a-z]) for ``client``'s key."""
    number = int.from_bytes(hashlib.sha256(f"api-key:{client}".encode()).digest()[:8], "big")
    chars = []
    for _ in range(10):
        number, digit = divmod(number, len(_ALPHABET))
        chars.append(_ALPHABET[digit])
    return "".join(chars)


def local_api_keys(
    settings: Settings, default_value: str | None = None, values: Mapping[str, str] | None = None
) -> tuple[LocalApiKey, ...]:
    """The keys the local gateway accepts: none unless auth is 'api_key'.

    ``default_value`` is the single key's value without named clients; ``values`` fixes named clients' values
    (tests); every other value is random.
    """
    if settings.auth != "api_key":
        return ()
    if not settings.clients:
        return (LocalApiKey(DEFAULT_CLIENT, DEFAULT_KEY_ID, default_value or secrets.token_urlsafe(24)),)
    given = values or {}
    return tuple(
        LocalApiKey(spec.name, local_key_id(spec.name), given.get(spec.name) or secrets.token_urlsafe(24))
        for spec in settings.clients
    )


def match_key(keys: Sequence[LocalApiKey], given: str | None) -> LocalApiKey | None:
    """The key whose value is ``given``; compares against every key in constant time each."""
    if given is None:
        return None
    found = None
    for key in keys:
        if hmac.compare_digest(given.encode(), key.value.encode()):
            found = key
    return found


def key_ids_environment(keys: Sequence[LocalApiKey]) -> dict[str, str]:
    """The function's ``CLIENT_KEY_IDS`` variable for ``keys`` (nothing without keys)."""
    if not keys:
        return {}
    mapping = dict(sorted((key.key_id, key.client) for key in keys))
    return {KEY_IDS_ENV: json.dumps(mapping, separators=(",", ":"))}
