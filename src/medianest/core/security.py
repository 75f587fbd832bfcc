"""Secrets at rest: AES-256-GCM encryption with key rotation, and hashes of one-time tokens.

An encrypted value is `v1.<key id>.<base64 nonce+ciphertext>`: the key id says which key sealed it,
so after `medianest keys rotate` values sealed with an older key still open, and the newest key
seals everything new. One-time tokens (password reset, remember-me, backup codes) are never
stored: only a keyed hash of them is, so a stolen database does not hand out sessions.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_VERSION = "v1"


class DecryptionError(Exception):
    """A stored value could not be opened: unknown key id, tampering, or a damaged value."""


def new_key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def key_id(key: bytes) -> str:
    return hashlib.sha256(b"medianest-key-id" + key).hexdigest()[:8]


class EncryptionService:
    """Seals with the first key; opens with any of them."""

    def __init__(self, keys: list[bytes]) -> None:
        if not keys:
            raise ValueError("at least one encryption key is needed")
        self._sealing = keys[0]
        self._sealing_id = key_id(keys[0])
        self._keys = {key_id(k): AESGCM(k) for k in keys}

    @property
    def current_key_id(self) -> str:
        return self._sealing_id

    def encrypt(self, plaintext: str) -> str:
        nonce = os.urandom(12)
        sealed = self._keys[self._sealing_id].encrypt(
            nonce, plaintext.encode(), self._sealing_id.encode()
        )
        payload = base64.urlsafe_b64encode(nonce + sealed).decode()
        return f"{_VERSION}.{self._sealing_id}.{payload}"

    def decrypt(self, stored: str) -> str:
        try:
            version, kid, payload = stored.split(".", 2)
            cipher = self._keys[kid] if version == _VERSION else None
            raw = base64.urlsafe_b64decode(payload.encode())
        except (ValueError, KeyError):
            raise DecryptionError("value was sealed with an unknown key or is damaged") from None
        if cipher is None:
            raise DecryptionError("unknown encrypted value format")
        try:
            return cipher.decrypt(raw[:12], raw[12:], kid.encode()).decode()
        except InvalidTag:
            raise DecryptionError("value was tampered with or sealed with another key") from None

    def needs_rotation(self, stored: str) -> bool:
        return not stored.startswith(f"{_VERSION}.{self._sealing_id}.")


class TokenHasher:
    """Keyed hashes of one-time tokens: equal tokens give equal hashes, for lookup by hash."""

    def __init__(self, secret: str) -> None:
        self._key = hashlib.sha256(b"medianest-token-hash" + secret.encode()).digest()

    def hash(self, token: str) -> str:
        return hmac.new(self._key, token.encode(), hashlib.sha256).hexdigest()


def random_token(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)
