"""Create the demo superuser once (password kept under var/) and print how to log in."""

from __future__ import annotations

import json
import os
import secrets
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from members.models import Member, User


class Command(BaseCommand):
    help = (
        "Create the demo administrator of the embedded default, give the first seeded member a "
        "password, and print both logins."
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
            credentials = {
                "username": "admin",
                "password": secrets.token_urlsafe(12),
                "member_password": secrets.token_urlsafe(9),
            }
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
        member = Member.objects.select_related("user").order_by("pk").first()
        member_password = credentials.get("member_password")
        if member is not None and member_password:
            if not member.user.check_password(member_password):
                member.user.set_password(member_password)
                member.user.save(update_fields=["password"])
            # Demo data only: the seeded numbers are not real people's.
            self.stdout.write(
                self.style.SUCCESS(
                    f"Member login: {member.phone[3:]} / {member_password} ({member.name})"
                )
            )
