"""Print the current authenticator code of a demo staff login (embedded default only)."""

from __future__ import annotations

import json
import time
from typing import Any

from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "The code a demo staff login's authenticator app would show now."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.EMBEDDED:
            raise CommandError("Only for the embedded demo; staff use their own authenticator app.")
        path = settings.VAR_DIR / "demo-accounts.json"
        secrets = (
            json.loads(path.read_text(encoding="utf-8")).get("totp", {}) if path.exists() else {}
        )
        secret = secrets.get(options["username"])
        if secret is None:
            raise CommandError(f"No demo login {options['username']!r} (see {path}).")
        self.stdout.write(format_hotp_value(hotp_value(secret, int(time.time()) // 30)))
