"""Field encryption (AES-256-GCM with key ids) and HMAC blind indexes.

Ciphertexts look like ``v1$<key id>$<base64(nonce || ciphertext || tag)>``. The key id names the
key that encrypted the value, so keys can rotate: ``FIELD_ENCRYPTION_KEYS`` lists
``id:base64key`` pairs, the first one encrypts new values and every listed one still decrypts.
Each value is bound to its purpose (for example ``member.phone``) as associated data, so a
ciphertext copied into another column does not decrypt.

Blind indexes are HMAC-SHA256 of the normalised plaintext under ``BLIND_INDEX_KEY`` (a key of its
own) and the purpose, which allows exact look-ups and unique constraints without storing the
plaintext.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from dataclasses import dataclass
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

PREFIX = "v1"
NONCE_BYTES = 12


class DecryptionError(Exception):
    """A stored value could not be decrypted (unknown key id, wrong key or tampered data)."""


@dataclass(frozen=True)
class Keyring:
    current_id: str
    keys: dict[str, bytes]


def _decode_key(raw: str, what: str) -> bytes:
    try:
        key = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ImproperlyConfigured(f"{what} is not valid base64.") from exc
    if len(key) != 32:
        raise ImproperlyConfigured(f"{what} must be 32 bytes (base64 of 32 random bytes).")
    return key


@lru_cache(maxsize=8)
def parse_keyring(spec: str) -> Keyring:
    keys: dict[str, bytes] = {}
    order: list[str] = []
    for item in spec.split(","):
        item = item.strip()
        if not item:
            continue
        key_id, sep, raw = item.partition(":")
        if not sep or not key_id.isalnum():
            raise ImproperlyConfigured(
                "FIELD_ENCRYPTION_KEYS must look like 'id:base64key,id:base64key' "
                "(ids alphanumeric)."
            )
        if key_id in keys:
            raise ImproperlyConfigured(f"FIELD_ENCRYPTION_KEYS lists key id {key_id!r} twice.")
        keys[key_id] = _decode_key(raw, f"FIELD_ENCRYPTION_KEYS key {key_id!r}")
        order.append(key_id)
    if not order:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS holds no key.")
    return Keyring(current_id=order[0], keys=keys)


def keyring() -> Keyring:
    return parse_keyring(settings.FIELD_ENCRYPTION_KEYS)


def encrypt(plaintext: str, *, purpose: str) -> str:
    ring = keyring()
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(ring.keys[ring.current_id]).encrypt(
        nonce, plaintext.encode("utf-8"), purpose.encode("utf-8")
    )
    return f"{PREFIX}${ring.current_id}${base64.b64encode(nonce + sealed).decode('ascii')}"


def key_id_of(token: str) -> str:
    parts = token.split("$")
    if len(parts) != 3 or parts[0] != PREFIX:
        raise DecryptionError("Not a MedBook ciphertext.")
    return parts[1]


def decrypt(token: str, *, purpose: str) -> str:
    key_id = key_id_of(token)
    key = keyring().keys.get(key_id)
    if key is None:
        raise DecryptionError(f"Encryption key {key_id!r} is not configured.")
    try:
        blob = base64.b64decode(token.split("$")[2], validate=True)
        plain = AESGCM(key).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], purpose.encode("utf-8"))
    except (binascii.Error, ValueError, InvalidTag) as exc:
        raise DecryptionError("Stored value failed authentication.") from exc
    return plain.decode("utf-8")


@lru_cache(maxsize=4)
def _blind_index_key(spec: str) -> bytes:
    return _decode_key(spec, "BLIND_INDEX_KEY")


def blind_index(value: str, *, purpose: str) -> str:
    """Deterministic HMAC of a normalised value: equal inputs give equal indexes."""
    key = _blind_index_key(settings.BLIND_INDEX_KEY)
    message = purpose.encode("utf-8") + b"\x00" + value.encode("utf-8")
    return hmac.new(key, message, hashlib.sha256).hexdigest()
