"""Tencent Cloud API 3.0 request signing (TC3-HMAC-SHA256, 签名方法 v3), shared by every
Tencent Cloud product MedBook calls (FaceID in ``identity``, SMS in ``members``); done here with
hmac/hashlib, no vendor SDK:

* CanonicalRequest = ``POST\\n/\\n\\n`` + canonical headers (``content-type``, ``host`` and
  ``x-tc-action``, lower-case names, trimmed values, each line ending ``\\n``) + ``\\n`` +
  signed header names (``content-type;host;x-tc-action``) + ``\\n`` + hex SHA-256 of the body;
* StringToSign = ``TC3-HMAC-SHA256\\n<timestamp>\\n<UTC date>/<service>/tc3_request\\n`` + hex
  SHA-256 of the CanonicalRequest;
* the signing key is HMAC-SHA256 chained over ``"TC3" + SecretKey`` → UTC date → service →
  ``tc3_request``; the signature is the hex HMAC of StringToSign under it;
* ``Authorization: TC3-HMAC-SHA256 Credential=<SecretId>/<scope>, SignedHeaders=…,
  Signature=…`` with ``X-TC-Action``, ``X-TC-Version`` and ``X-TC-Timestamp`` headers.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

ALGORITHM = "TC3-HMAC-SHA256"
CONTENT_TYPE = "application/json; charset=utf-8"
SIGNED_HEADERS = "content-type;host;x-tc-action"


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()


def _sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _date(timestamp: int) -> str:
    return dt.datetime.fromtimestamp(timestamp, tz=dt.UTC).strftime("%Y-%m-%d")


def canonical_request(*, host: str, action: str, payload: bytes) -> str:
    """POST, the path (always /), no query, the signed headers (names and values lower-case and
    trimmed, in the order of SIGNED_HEADERS) and the hash of the body."""
    values = {"content-type": CONTENT_TYPE, "host": host, "x-tc-action": action}
    headers = "".join(
        f"{name}:{values[name].strip().lower()}\n" for name in SIGNED_HEADERS.split(";")
    )
    return "\n".join(["POST", "/", "", headers, SIGNED_HEADERS, _sha256_hex(payload)])


def signature(
    *, secret_key: str, timestamp: int, host: str, action: str, payload: bytes, service: str
) -> str:
    """The TC3-HMAC-SHA256 signature of one POST (the module docstring tells the steps)."""
    date = _date(timestamp)
    string_to_sign = "\n".join(
        [
            ALGORITHM,
            str(timestamp),
            f"{date}/{service}/tc3_request",
            _sha256_hex(canonical_request(host=host, action=action, payload=payload).encode()),
        ]
    )
    key = _hmac(_hmac(_hmac(("TC3" + secret_key).encode("utf-8"), date), service), "tc3_request")
    return hmac.new(key, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def signed_headers(
    *,
    secret_id: str,
    secret_key: str,
    host: str,
    payload: bytes,
    timestamp: int,
    action: str,
    version: str,
    service: str,
) -> dict[str, str]:
    """The headers of a signed API 3.0 request of ``service`` (e.g. ``faceid``, ``sms``)."""
    sig = signature(
        secret_key=secret_key,
        timestamp=timestamp,
        host=host,
        action=action,
        payload=payload,
        service=service,
    )
    return {
        "Authorization": (
            f"{ALGORITHM} Credential={secret_id}/{_date(timestamp)}/{service}/tc3_request, "
            f"SignedHeaders={SIGNED_HEADERS}, Signature={sig}"
        ),
        "Content-Type": CONTENT_TYPE,
        "Host": host,
        "X-TC-Action": action,
        "X-TC-Version": version,
        "X-TC-Timestamp": str(timestamp),
    }
