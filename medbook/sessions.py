"""Session data encrypted at rest: sessions hold numbers being verified and similar state, so
the rows in django_session (or Redis) are AES-GCM ciphertext, not readable JSON."""

from __future__ import annotations

import json
from typing import Any

from . import crypto

PURPOSE = "session"


class EncryptedJSONSerializer:
    """Django's JSON session serializer, sealed with the field-encryption key ring (the newest
    key encrypts; a session under a removed key just reads as empty, i.e. logged out)."""

    def dumps(self, obj: Any) -> bytes:
        plain = json.dumps(obj, separators=(",", ":"))
        return crypto.encrypt(plain, purpose=PURPOSE).encode("ascii")

    def loads(self, data: bytes) -> Any:
        return json.loads(crypto.decrypt(data.decode("ascii"), purpose=PURPOSE))
