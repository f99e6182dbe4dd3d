#!/usr/bin/env python3
"""Generate MedBook's keys as one file each into a git-ignored folder.

    python3 deploy/make_secrets.py deploy/secrets                          # docker compose
    python3 deploy/make_secrets.py deploy/k8s/overlays/production/secrets  # kustomize

Writes ``django_secret_key``, ``field_encryption_keys``, ``blind_index_key`` and
``metrics_token``; a file that exists is never overwritten (a lost FIELD_ENCRYPTION_KEYS makes
every phone and ID number unreadable: keep a copy in your secret store). Only the standard
library is used.
"""

from __future__ import annotations

import base64
import secrets
import sys
from pathlib import Path

KEYS = {
    "django_secret_key": lambda: secrets.token_urlsafe(50),
    "field_encryption_keys": lambda: "1:" + base64.b64encode(secrets.token_bytes(32)).decode(),
    "blind_index_key": lambda: base64.b64encode(secrets.token_bytes(32)).decode(),
    "metrics_token": lambda: secrets.token_urlsafe(32),
}


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    folder = Path(argv[0])
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    for name, make in KEYS.items():
        path = folder / name
        if path.exists():
            print(f"kept      {path}")
            continue
        path.write_text(make(), encoding="utf-8")
        # Readable by the container's user (a bind-mounted compose secret keeps these bits);
        # the folder itself is the owner's only.
        path.chmod(0o644)
        print(f"generated {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
