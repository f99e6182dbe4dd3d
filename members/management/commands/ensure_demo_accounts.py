"""Create the demo superuser once (password kept under var/) and print how to log in."""

from __future__ import annotations

import json
import os
import secrets
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from members.demo import DEMO_MEMBER_PASSWORD
from members.models import Member, User


class Command(BaseCommand):
    help = (
        "Create the demo administrator of the embedded default and print its login and a "
        "demo member's."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.EMBEDDED:
            raise CommandError(
                "Demo accounts are for the embedded default only; in production use "
                "'manage.py createsuperuser'."
            )
        path = settings.VAR_DIR / "demo-accounts.json"
        if path.exists():
            credentials = json.loads(path.read_text(encoding="utf-8"))
        else:
            credentials = {"username": "admin", "password": secrets.token_urlsafe(12)}
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(credentials, fh)
        user = User.objects.filter(username=credentials["username"]).first()
        if user is None:
            User.objects.create_superuser(
                username=credentials["username"],
                email="admin@medbook.example",
                password=credentials["password"],
            )
        elif not user.check_password(credentials["password"]):
            user.set_password(credentials["password"])
            user.save(update_fields=["password"])
        self.stdout.write(
            self.style.SUCCESS(
                f"Admin login: {credentials['username']} / {credentials['password']} "
                f"(stored in {path})"
            )
        )
        member = Member.objects.order_by("pk").first()
        if member is not None:
            # Demo data only: the seeded numbers are not real people's.
            self.stdout.write(
                self.style.SUCCESS(
                    f"Member login: {member.phone[3:]} / {DEMO_MEMBER_PASSWORD} ({member.name}; "
                    "every demo member has this password)"
                )
            )
